// Progressive enhancement for the sign-in pages. Every page works without
// it: forms post normally and the call-waiting page refreshes itself with a
// meta refresh. Loaded as a module, so it only runs in browsers that
// GOV.UK Frontend supports. No inline script exists anywhere (the
// Content-Security-Policy allows script-src 'self' only), so the classes
// the GOV.UK template normally sets from an inline snippet are set here.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// A page that waits for something to happen elsewhere (a phone call being
// answered) carries data-app-poll-url on the form to submit when it has, and
// may say how often to ask in data-app-poll-every (milliseconds; 2000).
// The URL answers JSON {"done": true|false}. Polling stops on the first
// error; the meta refresh still moves the page on.
const form = document.querySelector('form[data-app-poll-url]')
if (form) {
  const url = form.getAttribute('data-app-poll-url')
  const every = Number(form.getAttribute('data-app-poll-every')) || 2000
  const poll = async () => {
    try {
      const res = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (!res.ok) return
      const status = await res.json()
      if (status && status.done === true) {
        form.submit()
        return
      }
    } catch {
      return
    }
    window.setTimeout(poll, every)
  }
  window.setTimeout(poll, every)
}
