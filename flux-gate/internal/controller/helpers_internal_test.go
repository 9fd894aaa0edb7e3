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

func TestImageRepository(t *testing.T) {
	for ref, want := range map[string]string{
		"ghcr.io/example/payments-api:1.9.0@sha256:1111": "ghcr.io/example/payments-api",
		"ghcr.io/example/payments-api@sha256:1111":       "ghcr.io/example/payments-api",
		"ghcr.io/example/payments-api:1.9.0":             "ghcr.io/example/payments-api",
		"localhost:5000/payments-api:1.9.0@sha256:1111":  "localhost:5000/payments-api",
		"localhost:5000/payments-api":                    "localhost:5000/payments-api",
		"nginx":                                          "nginx",
	} {
		if got := imageRepository(ref); got != want {
			t.Errorf("imageRepository(%q) = %q, want %q", ref, got, want)
		}
	}
}
