// Package cost turns the durable daily counts of texts, calls and completed
// sign-ins (store.DailyCounts) into the cost report the council uses to
// recharge each service for the texts and calls its form app caused: per day
// or per month, per form app, per channel and per outcome, with an estimated
// cost from the unit prices (IDP_SMS_UNIT_COST, IDP_CALL_UNIT_COST) and the
// cost per completed sign-in.
//
// Money is counted in whole millipence (a thousandth of a penny), never in
// floating point, so a month of texts adds up exactly. Only messages the
// provider accepted (outcome sent) are priced; failed and refused ones are
// counted and cost nothing.
//
// The package is pure: it reads no store and no clock. It imports only store,
// for the counts' type and kinds.
package cost
