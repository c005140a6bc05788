// Package dev is the development-mode stand-in for every message provider. Its Inbox
// implements factors.EmailSender, factors.SMSSender and factors.Caller by capturing
// each message instead of sending it, and serves them to people and tests:
//
//	GET  /dev/inbox                   the captured messages as a page
//	GET  /dev/inbox.json              JSON array, newest first, of
//	                                  {"id","channel","to","subject","body","code","created_at"}
//	POST /dev/calls/{id}/keypress     answers a simulated call; form field digits ("#" confirms)
//	POST /dev/calls/{id}/hangup       the person does not answer the simulated call
//
// The JSON shape is a stable surface that tests and tools rely on. A simulated call is
// a "voice" item whose body is the call script and whose id is the call challenge's id;
// its outcome is reported to factors.CallOutcomes as a real provider's webhook would.
//
// The messages live in the server's ephemeral store (Store, which store.Ephemeral
// satisfies): with Redis, every idp process behind a load balancer shows every
// message and answers every call, whichever process captured it, and a call is
// ended once however many processes are asked at once; embedded, the in-process
// store serves the one process. The latest DefaultCapacity messages are kept, each
// for a TTL (WithTTL) longer than the codes in it live, so codes do not outlast
// their use in Redis.
//
// The server mounts these handlers, and uses the Inbox as its senders, only when
// IDP_DEV is on; with IDP_DEV off the endpoints do not exist. The wiring in idp/app
// decides that, not this package. Since the inbox shows every code, its routes answer
// only loopback peers and the private ranges the wiring names (Register's peers),
// judged by the connection's address, never a forwarded header; the rest get 403.
//
// It never logs message bodies or codes: only the channel and a masked recipient
// (and its own error lines leave out call ids). Of the store it uses only the
// interfaces and errors of package store, never a backend; it must not import the
// journeys or the page templates (the page is rendered through an injected function).
package dev
