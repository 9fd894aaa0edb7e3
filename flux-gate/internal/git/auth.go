// Package git is flux-gate's view of a Git repository: a clone cache per repository
// that fetches incrementally, the questions the gate asks about history (ancestry,
// changed files, who wrote the commits of a proposal), and the three writes it makes
// (a compare-and-swap fast-forward push of a proposal commit to its target branch,
// the deletion of a stale proposal branch, and a record tag that never overwrites).
//
// Credentials follow Flux's GitRepository Secret conventions through
// github.com/fluxcd/pkg/git; transport is go-git, the library Flux's own Git client
// is built on. Flux's client has no fetch into an existing clone and no
// conditional push, which the gate needs, so this package drives go-git directly.
package git

import (
	"errors"
	"fmt"
	"net/url"

	fluxgit "github.com/fluxcd/pkg/git"
	"github.com/fluxcd/pkg/ssh/knownhosts"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Auth is how to reach one repository: Flux's parsed auth options plus whether
// credentials may travel over plain HTTP.
type Auth struct {
	// Options are Flux's auth options for the repository URL; nil means anonymous.
	Options *fluxgit.AuthOptions
	// AllowInsecureHTTP lets credentials go over http:// URLs. Off by default, as in
	// Flux: a password over plain HTTP is readable by anyone on the path.
	AllowInsecureHTTP bool
}

// NewAuth parses the data of a GitRepository's Secret (username/password,
// bearerToken, identity/known_hosts, ca.crt, tls.crt/tls.key) for repoURL, with
// Flux's own rules. data may be nil for a public repository.
func NewAuth(repoURL string, data map[string][]byte) (Auth, error) {
	u, err := url.Parse(repoURL)
	if err != nil {
		return Auth{}, fmt.Errorf("parse repository URL %q: %w", repoURL, err)
	}
	opts, err := fluxgit.NewAuthOptions(*u, data)
	if err != nil {
		return Auth{}, fmt.Errorf("credentials for %s: %w (check the GitRepository's secretRef)", redact(u), err)
	}
	return Auth{Options: opts}, nil
}

// transportAuth turns the options into go-git's auth method.
func (a Auth) transportAuth(repoURL string) (transport.AuthMethod, error) {
	o := a.Options
	if o == nil {
		return nil, nil
	}
	switch o.Transport {
	case fluxgit.HTTP, fluxgit.HTTPS:
		if o.Transport == fluxgit.HTTP && !a.AllowInsecureHTTP && (o.Password != "" || o.BearerToken != "") {
			return nil, fmt.Errorf("refusing to send credentials over plain HTTP to %s: use an https:// URL (or allow insecure HTTP explicitly)", repoURL)
		}
		switch {
		case o.Username != "" || o.Password != "":
			return &githttp.BasicAuth{Username: o.Username, Password: o.Password}, nil
		case o.BearerToken != "":
			return &githttp.TokenAuth{Token: o.BearerToken}, nil
		}
		return nil, nil
	case fluxgit.SSH:
		keys, err := gitssh.NewPublicKeys(o.Username, o.Identity, o.Password)
		if err != nil {
			return nil, fmt.Errorf("read SSH identity for %s: %w (the Secret's identity must be a PEM private key)", repoURL, err)
		}
		if len(o.KnownHosts) == 0 {
			return nil, errors.New("SSH needs known_hosts in the Secret: the gate never trusts a host key it has not been given")
		}
		callback, algos, err := knownhosts.New(o.KnownHosts)
		if err != nil {
			return nil, fmt.Errorf("parse known_hosts for %s: %w", repoURL, err)
		}
		keys.HostKeyCallback = callback
		keys.HostKeyAlgorithms = algos
		return keys, nil
	}
	return nil, fmt.Errorf("unsupported transport %q for %s", o.Transport, repoURL)
}

func (a Auth) caBundle() []byte {
	if a.Options == nil {
		return nil
	}
	return a.Options.CAFile
}

func (a Auth) clientCert() ([]byte, []byte) {
	if a.Options == nil {
		return nil, nil
	}
	return a.Options.ClientCert, a.Options.ClientKey
}

// redact drops any password from a URL before it goes into a message.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}

// Redact returns repoURL without a password, for messages and logs.
func Redact(repoURL string) string {
	u, err := url.Parse(repoURL)
	if err != nil {
		return "<unparseable URL>"
	}
	return redact(u)
}
