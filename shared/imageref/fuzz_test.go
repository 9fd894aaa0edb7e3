package imageref

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics on untrusted input and that what it accepts
// is stable: the normalised form parses back to the same reference.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.27", "docker.io/library/nginx", "localhost:5000/app:1",
		"ghcr.io/example/app:1.8.3@" + dgA, "ghcr.io/example/app@" + dgA, "Nginx",
		"nginx@sha256:abc", "[::1]:5000/a", "https://ghcr.io/a", "a//b", "a:b:c@d@e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if s != "" && !strings.Contains(err.Error(), "image reference") {
				t.Fatalf("error for %q does not name the reference: %v", s, err)
			}
			return
		}
		if r.Registry == "" || r.Repository == "" {
			t.Fatalf("Parse(%q) = %+v: empty registry or repository", s, r)
		}
		if r.Tag == "" && r.Digest == "" {
			t.Fatalf("Parse(%q) = %+v: neither tag nor digest", s, r)
		}
		again, err := Parse(r.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		if again.String() != r.String() || again.Name() != r.Name() || again.Digest != r.Digest {
			t.Fatalf("round trip of %q: %q != %q", s, again.String(), r.String())
		}
		if names := r.Names(); len(names) == 0 || names[0] != r.Name() {
			t.Fatalf("Names(%q) = %v: want Name first", s, names)
		}
	})
}
