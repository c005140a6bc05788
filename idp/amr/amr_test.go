package amr

import "testing"

func TestACR(t *testing.T) {
	for _, c := range []struct {
		amr  []string
		want string
	}{
		{[]string{Password, SMS}, MultiFactor},
		{[]string{Password, Tel}, MultiFactor},
		{[]string{Password, "otp"}, MultiFactor},
		{[]string{Password}, SingleFactor},
		{[]string{SMS, Tel}, SingleFactor},
		{nil, SingleFactor},
	} {
		if got := ACR(c.amr); got != c.want {
			t.Errorf("ACR(%v) = %s, want %s", c.amr, got, c.want)
		}
	}
}
