// Package imageref parses container image references the way a container runtime reads
// them, with go-containerregistry's name package, and tells pinned references from
// mutable ones.
package imageref

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// DockerHub is the registry a reference without a registry host is pulled from.
const DockerHub = name.DefaultRegistry

// Ref is a parsed, normalised image reference.
type Ref struct {
	// Original is the reference exactly as written.
	Original string
	// Registry is the registry host, with port, e.g. "index.docker.io" or "localhost:5000".
	Registry string
	// Repository is the path within the registry, e.g. "library/nginx".
	Repository string
	// Tag is the tag as written, or "latest" when ImplicitTag is set.
	Tag string
	// ImplicitTag is set when the reference had neither tag nor digest: the runtime pulls
	// "latest".
	ImplicitTag bool
	// Digest is "sha256:<hex>" when the reference carries one.
	Digest string
}

// Pinned reports whether the reference carries a digest. The digest is what the runtime
// pulls, so a pinned reference is immutable even when it also names a tag.
func (r Ref) Pinned() bool { return r.Digest != "" }

// Name is the registry and repository without tag or digest, e.g.
// "index.docker.io/library/nginx". It is the spelling policy globs are written against.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// Names lists every spelling of the image name a user glob may be written against, the
// normalised Name first. Other registries have only Name (plus its lower-case form when the
// host is written in capitals, since host names are case-insensitive). Docker Hub images add
// "docker.io/<repository>" (the form Docker prints) and the familiar short form the Docker
// CLI uses: "nginx" for official images, "bitnami/redis" for the others. A short form is
// left out when it would read as another registry (its first part holds "." or ":", or is
// "localhost"), so a glob such as "ghcr.io/**" never matches a Docker Hub image.
// "docker.io/nginx" is not listed: it is neither the canonical nor the familiar spelling.
func (r Ref) Names() []string {
	names := []string{r.Name()}
	if r.Registry != DockerHub {
		if lower := strings.ToLower(r.Registry); lower != r.Registry {
			names = append(names, lower+"/"+r.Repository)
		}
		return names
	}
	names = append(names, "docker.io/"+r.Repository)
	short := r.Repository
	if rest, ok := strings.CutPrefix(short, "library/"); ok && !strings.Contains(rest, "/") {
		short = rest
	}
	first, _, _ := strings.Cut(short, "/")
	if first != "localhost" && !strings.ContainsAny(first, ".:") {
		names = append(names, short)
	}
	return names
}

// String is the normalised reference: Name, then ":tag" (":latest" when the tag is
// implicit), then "@digest". Exemption globs match this form.
func (r Ref) String() string {
	var b strings.Builder
	b.Grow(len(r.Registry) + len(r.Repository) + len(r.Tag) + len(r.Digest) + 3)
	b.WriteString(r.Registry)
	b.WriteByte('/')
	b.WriteString(r.Repository)
	if r.Tag != "" {
		b.WriteByte(':')
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteByte('@')
		b.WriteString(r.Digest)
	}
	return b.String()
}
