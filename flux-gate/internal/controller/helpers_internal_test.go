package controller

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestCleanUpdatePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"/":                      "",
		".":                      "",
		"./":                     "",
		"./apps/payments/prod":   "apps/payments/prod",
		"apps/payments/prod/":    "apps/payments/prod",
		"/apps/../clusters/prod": "clusters/prod",
		"../../etc":              "etc",
	} {
		if got := cleanUpdatePath(in); got != want {
			t.Errorf("cleanUpdatePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	g := NewWithT(t)
	s := truncate("ab—cdefghijklmnopqrstuvwxyz", 17)
	g.Expect(len(s)).To(BeNumerically("<=", 17))
	g.Expect(s).To(HaveSuffix("(truncated)"))
}
