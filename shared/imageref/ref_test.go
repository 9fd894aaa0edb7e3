package imageref

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const (
	hexA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dgA  = "sha256:" + hexA
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		str  string
	}{
		{"nginx", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "latest", ImplicitTag: true},
			"index.docker.io/library/nginx:latest"},
		{"nginx:1.27", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "1.27"},
			"index.docker.io/library/nginx:1.27"},
		{"nginx:latest", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "latest"},
			"index.docker.io/library/nginx:latest"},
		{"docker.io/nginx", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "latest", ImplicitTag: true},
			"index.docker.io/library/nginx:latest"},
		{"docker.io/library/nginx:1", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "1"},
			"index.docker.io/library/nginx:1"},
		{"index.docker.io/nginx:1", Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "1"},
			"index.docker.io/library/nginx:1"},
		{"bitnami/redis:7", Ref{Registry: "index.docker.io", Repository: "bitnami/redis", Tag: "7"},
			"index.docker.io/bitnami/redis:7"},
		{"localhost:5000/app:1", Ref{Registry: "localhost:5000", Repository: "app", Tag: "1"},
			"localhost:5000/app:1"},
		{"localhost/app", Ref{Registry: "localhost", Repository: "app", Tag: "latest", ImplicitTag: true},
			"localhost/app:latest"},
		{"registry.example.com:8443/team/app/api:v1.2.3", Ref{Registry: "registry.example.com:8443", Repository: "team/app/api", Tag: "v1.2.3"},
			"registry.example.com:8443/team/app/api:v1.2.3"},
		{"[::1]:5000/app:1", Ref{Registry: "[::1]:5000", Repository: "app", Tag: "1"},
			"[::1]:5000/app:1"},
		{"ghcr.io/example/app@" + dgA, Ref{Registry: "ghcr.io", Repository: "example/app", Digest: dgA},
			"ghcr.io/example/app@" + dgA},
		{"ghcr.io/example/app:1.8.3@" + dgA, Ref{Registry: "ghcr.io", Repository: "example/app", Tag: "1.8.3", Digest: dgA},
			"ghcr.io/example/app:1.8.3@" + dgA},
		{"nginx:latest@" + dgA, Ref{Registry: "index.docker.io", Repository: "library/nginx", Tag: "latest", Digest: dgA},
			"index.docker.io/library/nginx:latest@" + dgA},
		{"localhost:5000/app@" + dgA, Ref{Registry: "localhost:5000", Repository: "app", Digest: dgA},
			"localhost:5000/app@" + dgA},
		{"ghcr.io/a/b_c__d-e--f.g:Tag_1.x-Y", Ref{Registry: "ghcr.io", Repository: "a/b_c__d-e--f.g", Tag: "Tag_1.x-Y"},
			"ghcr.io/a/b_c__d-e--f.g:Tag_1.x-Y"},
		{"Registry.Example.com/app:1", Ref{Registry: "Registry.Example.com", Repository: "app", Tag: "1"},
			"Registry.Example.com/app:1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g := NewWithT(t)
			got, err := Parse(tt.in)
			g.Expect(err).NotTo(HaveOccurred())
			tt.want.Original = tt.in
			g.Expect(got).To(Equal(tt.want))
			g.Expect(got.String()).To(Equal(tt.str))
			g.Expect(got.Pinned()).To(Equal(tt.want.Digest != ""))
			g.Expect(got.Name()).To(Equal(tt.want.Registry + "/" + tt.want.Repository))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error
	}{
		{"", []string{"empty"}},
		{"Nginx", []string{`"Nginx"`, "lower case"}},
		{"ghcr.io/Example/App:1", []string{`"ghcr.io/Example/App:1"`, `repository "Example/App" must be lower case`}},
		{"nginx@sha256:abc", []string{`"nginx@sha256:abc"`}},
		{"nginx@sha256:" + hexA + "0", []string{"nginx@sha256"}},
		{"nginx@sha256:" + strings.ToUpper(hexA), []string{"nginx@sha256"}},
		{"nginx@", []string{`"nginx@"`}},
		{"@" + dgA, []string{"@sha256"}},
		{"a@b@" + dgA, []string{"exactly one '@'"}},
		{"nginx:", []string{"tag"}},
		{"nginx:-x", []string{`tag "-x"`}},
		{"nginx:bad/tag", []string{`"nginx:bad/tag"`}},
		{"nginx:" + strings.Repeat("a", 129), []string{"tag"}},
		{"https://ghcr.io/app:1", []string{"URL scheme", `"https://"`}},
		{"ghcr.io//app", []string{`path component ""`}},
		{"ghcr.io/app/", []string{`path component ""`}},
		{"ghcr.io/-app", []string{`path component "-app"`}},
		{"ghcr.io/a..b", []string{`path component "a..b"`}},
		{"ghcr.io/a___b", []string{`path component "a___b"`}},
		{"ghcr.io:/app", []string{"empty port"}},
		{"ghcr.io:abc/app", []string{`"ghcr.io:abc/app"`}},
		{"nginx 1.2", []string{`"nginx 1.2"`}},
		{" nginx", []string{`" nginx"`}},
		{"héllo.io/app", []string{`"héllo.io/app"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Parse(tt.in)
			g.Expect(err).To(HaveOccurred())
			for _, w := range tt.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"nginx:1", []string{"index.docker.io/library/nginx", "docker.io/library/nginx", "nginx"}},
		{"docker.io/library/nginx@" + dgA, []string{"index.docker.io/library/nginx", "docker.io/library/nginx", "nginx"}},
		{"bitnami/redis", []string{"index.docker.io/bitnami/redis", "docker.io/bitnami/redis", "bitnami/redis"}},
		{"library/a/b", []string{"index.docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"}},
		// The short form would read as another registry: left out.
		{"docker.io/ghcr.io/example/app", []string{"index.docker.io/ghcr.io/example/app", "docker.io/ghcr.io/example/app"}},
		{"docker.io/localhost/app", []string{"index.docker.io/localhost/app", "docker.io/localhost/app"}},
		{"ghcr.io/example/app:1", []string{"ghcr.io/example/app"}},
		{"localhost:5000/app", []string{"localhost:5000/app"}},
		{"Registry.Example.com/app", []string{"Registry.Example.com/app", "registry.example.com/app"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g := NewWithT(t)
			r, err := Parse(tt.in)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(r.Names()).To(Equal(tt.want))
			// Every spelling names the same image.
			for _, n := range r.Names() {
				again, err := Parse(n)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(strings.ToLower(again.Name())).To(Equal(strings.ToLower(r.Name())))
			}
		})
	}
}
