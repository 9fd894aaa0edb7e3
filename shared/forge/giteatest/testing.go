package giteatest

import (
	"context"
	"testing"
)

// New starts a server for one test and stops it when the test ends. It skips the
// test, saying why, when the Gitea binary has not been built; under CI (CI set) a
// missing binary fails instead, since make test builds it.
func New(t testing.TB) *Server { t.Helper(); return NewWith(t, Options{}) }

// NewWith is New with options (TLS).
func NewWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, _, err := Locate(); err != nil {
		if ci() {
			t.Fatalf("real Gitea needed: %v", err)
		}
		t.Skipf("real Gitea needed: %v", err)
	}
	s, err := StartWith(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start Gitea: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Gitea log:\n%s", tail(s.Log()))
		}
		s.Close()
	})
	return s
}
