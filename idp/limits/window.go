package limits

import "time"

// The windows counts are kept in. A store counts hits in fixed windows aligned
// to multiples of the window's length since the Unix epoch (store.Counters); a
// day window is a UTC day.

// Sliding is "at most Max in any Window", kept as two fixed windows: the count
// of the current window plus the count of the previous one, weighted by the part
// of it that still lies within Window of now. A burst just before a window ends
// is still counted just after it, so a boundary never doubles the budget
// (Cloudflare's "sliding window" counter; OWASP ASVS 5 asks for limits that an
// attacker cannot step around).
type Sliding struct {
	Max    int
	Window time.Duration
}

// Allow reports whether a hit at now is within the budget, given prev, the count
// of the previous fixed window, and cur, the count of the current one including
// this hit. When it is not, retry is how long until one more hit would be
// allowed if nothing else were counted meanwhile.
func (s Sliding) Allow(prev, cur int, now time.Time) (ok bool, retry time.Duration) {
	if s.Max <= 0 || s.Window < time.Millisecond {
		return false, s.Window
	}
	w := s.Window.Milliseconds()
	e := elapsed(s.Window, now)
	// prev*(w-e)/w + cur <= Max, in integers.
	if int64(prev)*(w-e) <= int64(s.Max-cur)*w {
		return true, 0
	}
	// Still in this window, with one more hit counted: wait until the previous
	// window's weight has fallen far enough, if it can.
	if k := int64(s.Max - cur - 1); k >= 0 && prev > 0 {
		if at := w - k*w/int64(prev); at < w {
			return false, ms(at - e)
		}
	}
	// In the next window, this one is the previous: prev' = cur, cur' = 1.
	at := int64(0)
	if cur > 0 {
		at = max(0, w-int64(s.Max-1)*w/int64(cur))
	}
	return false, ms(w - e + at)
}

// Fixed is "at most Max per fixed Window" (a UTC day for a day window): simpler
// than Sliding where a doubling at the boundary is harmless because another rule
// bounds the total.
type Fixed struct {
	Max    int
	Window time.Duration
}

// Allow reports whether n, the count of the window containing now (this hit
// included), is within the budget; when it is not, retry is the time until the
// window ends.
func (f Fixed) Allow(n int, now time.Time) (ok bool, retry time.Duration) {
	if n <= f.Max {
		return true, 0
	}
	return false, WindowLeft(f.Window, now)
}

// WindowLeft is the time until the fixed window of this length containing now
// ends.
func WindowLeft(window time.Duration, now time.Time) time.Duration {
	if window <= 0 {
		return 0
	}
	r := now.UnixNano() % int64(window)
	if r < 0 {
		r += int64(window)
	}
	return window - time.Duration(r)
}

// elapsed is how far now is into its fixed window, in whole milliseconds.
func elapsed(window time.Duration, now time.Time) int64 {
	return int64(window-WindowLeft(window, now)) / int64(time.Millisecond)
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
