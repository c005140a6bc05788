package cost

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Millipence is an amount of money in thousandths of a penny (£1 is 100,000).
type Millipence int64

// perPound is how many millipence make a pound.
const perPound = 100_000

// maxUnitCost bounds a unit price: £100 a text or call is surely a typo.
const maxUnitCost = 100 * perPound

// ErrAmount is the error of an amount ParseAmount cannot read.
var ErrAmount = errors.New("must be an amount in pounds such as 0.04, with at most 5 decimal places, from 0 to 100")

// ParseAmount reads an amount in pounds, e.g. "0.04", "0.0395" or "£0.04",
// with at most five decimal places (a thousandth of a penny). "" is zero.
func ParseAmount(s string) (Millipence, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "£")
	if s == "" {
		return 0, nil
	}
	m, err := parseUnbounded(s)
	if err != nil || m > maxUnitCost {
		return 0, ErrAmount
	}
	return m, nil
}

// String is the amount in pounds with at least two decimal places and no
// trailing zeros past them: "£0.04", "£0.0395", "£12.30", "-£0.01".
func (m Millipence) String() string {
	if m < 0 {
		return "-£" + (-m).Pounds()
	}
	return "£" + m.Pounds()
}

// Pounds is String without the pound sign ("0.0395"), as JSON carries it.
func (m Millipence) Pounds() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	frac := strings.TrimRight(fmt.Sprintf("%05d", v%perPound), "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return fmt.Sprintf("%s%d.%s", sign, v/perPound, frac)
}

// MarshalJSON writes the amount as a string of pounds ("0.0395"), exact.
func (m Millipence) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(m.Pounds())), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Millipence) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("cost: amount %s: want a string of pounds", b)
	}
	neg := strings.HasPrefix(s, "-")
	v, err := parseUnbounded(strings.TrimPrefix(s, "-"))
	if err != nil {
		return fmt.Errorf("cost: amount %q: %w", s, err)
	}
	if neg {
		v = -v
	}
	*m = v
	return nil
}

func parseUnbounded(s string) (Millipence, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || dot && frac == "" || len(frac) > 5 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, ErrAmount
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1<<40 {
		return 0, ErrAmount
	}
	f, _ := strconv.ParseInt((frac + "00000")[:5], 10, 64)
	return Millipence(w*perPound + f), nil
}

// divide is a / n rounded to the nearest millipenny (halves away from zero);
// 0 when n is 0.
func divide(a Millipence, n int64) Millipence {
	if n == 0 {
		return 0
	}
	q, r := int64(a)/n, int64(a)%n
	if 2*r >= n {
		q++
	}
	return Millipence(q)
}
