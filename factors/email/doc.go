// Package email delivers email through the council's SMTP relay by way of a durable
// outbox, so that a message owed to someone survives a relay outage and a server
// restart and is sent once even with several server processes.
//
//   - Outbox implements factors.EmailSender: SendEmail only writes the rendered message
//     to the outbox table (store.Outbox) and wakes the worker of this process.
//   - Worker runs the outbox's delivery loop (store/outbox) for the email channel:
//     it claims due messages (a lease, so two processes never take the same one),
//     sends each through an SMTPSender, and marks it sent (clearing its bodies, which
//     hold codes), or schedules a retry with exponential backoff and jitter, or gives
//     up after a day or on a permanent refusal (5xx to the recipient or the content).
//   - SMTPSender speaks SMTP with net/smtp: implicit TLS (smtps://) or STARTTLS
//     (smtp://, required unless switched off for a local relay), PLAIN or LOGIN auth
//     (github.com/emersion/go-sasl's clients), and builds a multipart/alternative
//     message with plain-text and HTML parts.
//   - WriteOutboxTable formats the outbox for operators (idp outbox list), never with
//     bodies.
//
// It never logs message bodies, codes or the relay password; recipients are masked.
// It imports store only for the Outbox interface and its types; it must not import
// the store backends, the journeys or the page templates.
package email
