package policy

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestRolledBackRelease(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ref := "ghcr.io/example/payments-api:1.9.0@" + d1
	tests := []struct {
		name    string
		images  []string
		expires string
		ref     string
		digest  string
		want    bool
	}{
		{"repository and digest", []string{"ghcr.io/example/payments-api@" + d1}, "", ref, d1, true},
		{"repository, tag and digest", []string{"ghcr.io/example/payments-api:1.9.0@" + d1}, "", ref, d1, true},
		{"any image with the digest", []string{"**@" + d1}, "", ref, d1, true},
		{"repository glob", []string{"ghcr.io/example/*@" + d1}, "", ref, d1, true},
		{"reference without tag", []string{"ghcr.io/example/payments-api@" + d1}, "", "ghcr.io/example/payments-api@" + d1, d1, true},
		{"another digest", []string{"ghcr.io/example/payments-api@" + d2}, "", ref, d1, false},
		{"another repository", []string{"ghcr.io/example/orders-api@" + d1}, "", ref, d1, false},
		{"another tag", []string{"ghcr.io/example/payments-api:1.9.1@" + d1}, "", ref, d1, false},
		{"live until the end of its day", []string{"**@" + d1}, "2026-06-01", ref, d1, true},
		{"expired", []string{"**@" + d1}, "2026-05-31", ref, d1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s := &Set{Exemptions: []Exemption{
				{Rule: "prod-immutable-images", Images: []string{"**@" + d1}, Reason: "another rule", Owner: "o"},
				{Rule: RolledBackRule, Images: tt.images, Reason: "fixed in place", Owner: "team-payments", Expires: tt.expires},
			}}
			ex, ok := s.RolledBackRelease(tt.ref, tt.digest, now)
			g.Expect(ok).To(Equal(tt.want))
			if ok {
				g.Expect(ex.Owner).To(Equal("team-payments"))
			}
		})
	}
	var none *Set
	_, ok := none.RolledBackRelease(ref, d1, now)
	NewWithT(t).Expect(ok).To(BeFalse(), "no policy releases nothing")
}
