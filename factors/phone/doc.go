// Package phone parses, classifies and masks the phone numbers people enrol as their
// second factor. It is the one place of the phone rules: which numbers are accepted
// (Rules: mobiles and landlines in the allowed countries; never freephone, premium
// rate, shared cost, personal or pager numbers), how IDP_PHONE_COUNTRIES is read
// (Countries), the Ofcom drama ranges accepted only in development mode, whether a
// number can take texts (Type), and the messages a person sees for a number that
// cannot be used (the Err values, Message).
//
// It wraps github.com/nyaruka/phonenumbers (libphonenumber) so no other package needs
// to know that library. It imports no other package of this module: not store (the
// store keeps a Type as its string), net/http, or anything of the login journeys.
package phone
