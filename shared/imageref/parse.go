package imageref

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Parse reads an image reference as a container runtime does: a reference without a
// registry host is a Docker Hub reference ("nginx" is "index.docker.io/library/nginx",
// "docker.io" is spelled "index.docker.io"), a first part with "." or ":" or "localhost"
// is a registry host (ports allowed), a reference without tag or digest means tag
// "latest", and "repo:tag@sha256:..." keeps both its tag and its digest.
//
// go-containerregistry's name package does the parsing. On top of it, Parse applies the
// parts of the distribution reference grammar that package leaves out, so that a
// reference the runtime would refuse is refused here too: every path component starts
// and ends with a lower-case letter or digit, a tag starts with a letter, digit or "_",
// the registry is an ASCII host[:port], and there is no URL scheme.
//
// The error names the reference and says what to change.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, errors.New(`image reference is empty: set a reference such as "registry.example.com/team/app:1.2.3"`)
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return Ref{}, fmt.Errorf("image reference %q: remove the URL scheme %q, a reference starts with the registry host", s, s[:i+3])
	}
	ref := Ref{Original: s}
	if base, _, hasDigest := strings.Cut(s, "@"); hasDigest {
		// NewDigest validates the digest (algorithm, hex length) and the name before
		// the '@', tag included, but keeps no tag: read it from base.
		d, err := name.NewDigest(s)
		if err != nil {
			return Ref{}, badRef(s, err)
		}
		ref.Registry, ref.Repository, ref.Digest = d.RegistryStr(), d.RepositoryStr(), d.DigestStr()
		if i := strings.LastIndexByte(base, ':'); i > strings.LastIndexByte(base, '/') {
			ref.Tag = base[i+1:]
		}
	} else {
		// An empty default tag tells an implicit tag from an explicit ":latest".
		t, err := name.NewTag(s, name.WithDefaultTag(""))
		if err != nil {
			return Ref{}, badRef(s, err)
		}
		ref.Registry, ref.Repository, ref.Tag = t.RegistryStr(), t.RepositoryStr(), t.TagStr()
		if ref.Tag == "" {
			ref.Tag, ref.ImplicitTag = name.DefaultTag, true
		}
	}
	if err := checkGrammar(ref); err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %w", s, err)
	}
	return ref, nil
}

// badRef words a go-containerregistry error for a person: it names the reference and,
// for the most common mistake (capitals in the repository), the fix.
func badRef(s string, err error) error {
	base, _, _ := strings.Cut(s, "@")
	if i := strings.LastIndexByte(base, ':'); i > strings.LastIndexByte(base, '/') {
		base = base[:i]
	}
	repo := base
	if first, rest, ok := strings.Cut(base, "/"); ok && (first == "localhost" || strings.ContainsAny(first, ".:")) {
		repo = rest
	}
	if repo != strings.ToLower(repo) {
		return fmt.Errorf("image reference %q: repository %q must be lower case: %w", s, repo, err)
	}
	return fmt.Errorf("image reference %q: %w", s, err)
}

// checkGrammar applies the distribution reference rules go-containerregistry does not.
// maxRepository is the longest repository the registries' API accepts.
const maxRepository = 255

func checkGrammar(r Ref) error {
	if strings.HasSuffix(r.Registry, ":") {
		return fmt.Errorf("registry %q has an empty port: write host:port or drop the colon", r.Registry)
	}
	for i := 0; i < len(r.Registry); i++ {
		c := r.Registry[i]
		if !isAlnum(c) && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune(".-:[]", rune(c)) {
			return fmt.Errorf("registry %q may only hold ASCII letters, digits, '.', '-' and a :port", r.Registry)
		}
	}
	// go-containerregistry checks the length before it adds Docker Hub's "library/", so
	// a long name would parse once and not again as the name it stands for.
	if len(r.Repository) > maxRepository {
		return fmt.Errorf("repository %q is %d characters long, over the limit of %d", r.Repository, len(r.Repository), maxRepository)
	}
	for _, c := range strings.Split(r.Repository, "/") {
		if !validComponent(c) {
			return fmt.Errorf("repository %q: path component %q must start and end with a lower-case letter or digit, joined only by '.', '_', '__' or dashes", r.Repository, c)
		}
	}
	if r.Tag != "" && !r.ImplicitTag {
		if c := r.Tag[0]; c == '.' || c == '-' {
			return fmt.Errorf("tag %q must start with a letter, digit or '_'", r.Tag)
		}
	}
	return nil
}

// validComponent reports whether c matches the distribution grammar's path component:
// [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*. go-containerregistry has already
// limited the characters to [a-z0-9._-].
func validComponent(c string) bool {
	if c == "" || !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if isAlnum(c[i]) {
			i++
			continue
		}
		j := i
		for j < len(c) && !isAlnum(c[j]) {
			j++
		}
		switch sep := c[i:j]; {
		case sep == ".", sep == "_", sep == "__", strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j
	}
	return true
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
