// Package phone parses, classifies and masks the phone numbers people enrol as their
// second factor. It owns the rules for which numbers are accepted (mobiles and
// landlines in the allowed regions; never premium rate, shared cost, freephone,
// personal or pager numbers), the Ofcom drama ranges accepted only in development
// mode, and the user-facing error messages for a number that cannot be used.
//
// It wraps github.com/nyaruka/phonenumbers (libphonenumber) so no other package needs
// to know that library. It must not import the store implementations, net/http or
// anything of the login journeys; it imports store only for the store.PhoneType values.
package phone
