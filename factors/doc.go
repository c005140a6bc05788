// Package factors defines how codes and calls reach people: the message types and the
// small sender interfaces (EmailSender, SMSSender, Caller) and the CallOutcomes sink
// that call results are reported to. Sub-packages implement them: otp (codes), phone
// (parsing and classifying numbers), dev (captures messages and simulates calls in
// development mode), and later email (SMTP outbox) and vonage (SMS and voice).
//
// It knows nothing of journeys, HTTP handlers of the login pages, or the store.
package factors
