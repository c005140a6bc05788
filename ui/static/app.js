// Progressive enhancement for the sign-in pages. Every page works without
// it: forms post normally, the call-waiting page says to select 'Continue'
// once the hash key is pressed (it never reloads itself) and pages say how
// long a journey is kept. Loaded as a module, so it only runs in browsers that
// GOV.UK Frontend supports. No inline script exists anywhere (the
// Content-Security-Policy allows script-src 'self' only), so the classes
// the GOV.UK template normally sets from an inline snippet are set here.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// A page that waits for something to happen elsewhere (a phone call being
// answered) carries data-app-poll-url on the form to submit when it has, and
// may say how often to ask in data-app-poll-every (milliseconds; 2000).
// The URL answers JSON {"done": bool, "confirmed": bool, "failed": bool}. What
// happened is written into the page's role="status" region (#call-status),
// so a screen reader announces it without the page reloading: a confirmed
// call then moves on (the form is submitted); a call that ended without the
// hash key leaves the person on the page with its 'Call Me again' buttons.
// Polling stops on the first error; 'Continue' still moves the page on.
// The page's words for a person without this script ("select 'Continue'")
// give way to #call-next's data-app-js-text ("this page will move on").
const form = document.querySelector('form[data-app-poll-url]')
if (form) {
  const url = form.getAttribute('data-app-poll-url')
  const every = Number(form.getAttribute('data-app-poll-every')) || 2000
  const status = document.getElementById('call-status')
  const next = document.getElementById('call-next')
  if (next && next.getAttribute('data-app-js-text')) next.textContent = next.getAttribute('data-app-js-text')
  const say = (attr) => {
    const text = status && status.getAttribute(attr)
    if (text) status.textContent = text
  }
  const poll = async () => {
    try {
      const res = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (!res.ok) return
      const result = await res.json()
      if (result && result.done === true) {
        if (result.failed === true) {
          say('data-app-status-failed')
          return
        }
        if (result.confirmed === true) {
          say('data-app-status-confirmed')
          // Long enough for a screen reader to begin the announcement.
          window.setTimeout(() => form.submit(), 1000)
          return
        }
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

// GOV.UK's timeout warning. A page whose journey is cleared after
// data-app-timeout seconds without a step has a <template id="app-timeout">
// holding a dialog; data-app-timeout-warn seconds before the end the dialog
// goes into the page and opens as a modal (the rest of the page inert, focus
// on 'Continue'). 'Continue' (or Escape) posts to data-app-keep-alive-url,
// which answers JSON {"timeout": seconds} with the journey's new lifetime,
// and the dialog goes. At the end the page reloads, and says the session has
// timed out.
const timeout = document.getElementById('app-timeout')
const keepAlive = timeout && timeout.getAttribute('data-app-keep-alive-url')
if (timeout && keepAlive && 'content' in timeout && typeof HTMLDialogElement === 'function') {
  const warnFor = Number(timeout.getAttribute('data-app-timeout-warn')) || 120
  const main = document.querySelector('main') || document.body
  let dialog = null
  let opener = null
  let warnTimer = 0
  let endTimer = 0
  const keep = async () => {
    let seconds = 0
    try {
      const res = await fetch(keepAlive, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      })
      if (res.ok) {
        const result = await res.json()
        seconds = Number(result && result.timeout) || 0
      }
    } catch {}
    if (seconds <= 0) {
      // The journey is gone: the page says so.
      window.location.reload()
      return
    }
    if (dialog) {
      dialog.close()
      dialog.remove()
      dialog = null
    }
    if (opener && typeof opener.focus === 'function') opener.focus()
    schedule(seconds)
  }
  const warn = () => {
    opener = document.activeElement
    dialog = timeout.content.firstElementChild.cloneNode(true)
    dialog.querySelector('[data-app-timeout-continue]').addEventListener('click', keep)
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      keep()
    })
    main.appendChild(dialog)
    dialog.showModal()
  }
  const schedule = (seconds) => {
    window.clearTimeout(warnTimer)
    window.clearTimeout(endTimer)
    warnTimer = window.setTimeout(warn, Math.max(0, seconds - warnFor) * 1000)
    endTimer = window.setTimeout(() => window.location.reload(), seconds * 1000)
  }
  const initial = Number(timeout.getAttribute('data-app-timeout')) || 0
  if (initial > 0) schedule(initial)
}
