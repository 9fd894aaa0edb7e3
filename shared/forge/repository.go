package forge

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Repository is one repository on one forge: which API, where, and its path.
type Repository struct {
	Provider Provider
	// Address is the API's base address: https://api.github.com, https://host/api/v3
	// (GitHub Enterprise Server), https://gitlab.example.com, https://gitea.example.com.
	Address string
	// Owner is the user, organisation or (GitLab) group path; Name the repository.
	Owner, Name string
}

// String is owner/name on the provider, for messages.
func (r Repository) String() string { return fmt.Sprintf("%s/%s (%s)", r.Owner, r.Name, r.Provider) }

// scpLike is Git's user@host:path form of an SSH address.
var scpLike = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]+@)?([A-Za-z0-9.-]+):([^/].*)$`)

// knownHosts are the public forges whose provider a URL alone tells.
var knownHosts = map[string]Provider{
	"github.com":   GitHub,
	"gitlab.com":   GitLab,
	"codeberg.org": Forgejo,
	"gitea.com":    Gitea,
}

// ParseRepository finds the forge repository of a Git remote URL (https, http, ssh,
// or user@host:path). provider may be empty for github.com, gitlab.com, codeberg.org
// and gitea.com; a self-hosted forge needs it. address overrides the API address the
// URL implies (GitHub Enterprise Server at another host, a forge under a path prefix).
func ParseRepository(remote string, provider Provider, address string) (Repository, error) {
	host, scheme, segs, err := splitRemote(remote)
	if err != nil {
		return Repository{}, err
	}
	if provider == "" {
		p, ok := knownHosts[strings.ToLower(hostname(host))]
		if !ok {
			return Repository{}, fmt.Errorf("cannot tell which forge %s is from its URL: name the provider (github, gitlab, gitea or forgejo)", host)
		}
		provider = p
	}
	if _, err := ParseProvider(string(provider)); err != nil {
		return Repository{}, err
	}
	r := Repository{Provider: provider}
	switch provider {
	case GitLab:
		// GitLab groups nest: everything before the last segment is the namespace.
		r.Owner, r.Name = strings.Join(segs[:len(segs)-1], "/"), segs[len(segs)-1]
		r.Address = scheme + "://" + host
	default:
		// GitHub and Gitea have owner/name; anything before them is where the forge
		// is served (a Gitea under a path prefix).
		n := len(segs)
		r.Owner, r.Name = segs[n-2], segs[n-1]
		prefix := strings.Join(segs[:n-2], "/")
		switch {
		case provider == GitHub && strings.EqualFold(hostname(host), "github.com"):
			r.Address = "https://api.github.com"
		case provider == GitHub:
			r.Address = scheme + "://" + host + "/api/v3"
		default:
			r.Address = scheme + "://" + host
			if prefix != "" {
				r.Address += "/" + prefix
			}
		}
	}
	if address != "" {
		u, err := url.Parse(address)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Repository{}, fmt.Errorf("forge API address %q: want an http(s) URL such as https://gitea.example.com", address)
		}
		r.Address = strings.TrimSuffix(address, "/")
	}
	return r, nil
}

// splitRemote returns the host (with any HTTP port), the scheme of the forge's web
// address, and the path segments of a remote URL.
func splitRemote(remote string) (host, scheme string, segs []string, err error) {
	remote = strings.TrimSpace(remote)
	var p string
	if m := scpLike.FindStringSubmatch(remote); m != nil && !strings.Contains(remote, "://") {
		host, scheme, p = m[1], "https", m[2]
	} else {
		u, perr := url.Parse(remote)
		if perr != nil || u.Host == "" {
			return "", "", nil, fmt.Errorf("repository URL %q: want an http(s) or ssh Git URL", remote)
		}
		switch u.Scheme {
		case "https", "http":
			host, scheme = u.Host, u.Scheme
		case "ssh":
			// The SSH port says nothing of the HTTP port: the web address is https.
			host, scheme = u.Hostname(), "https"
		default:
			return "", "", nil, fmt.Errorf("repository URL %q: scheme %q is not a forge's: want https, http or ssh", remote, u.Scheme)
		}
		p = u.Path
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	for s := range strings.SplitSeq(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) < 2 {
		return "", "", nil, fmt.Errorf("repository URL %q: want a path of the form owner/name", remote)
	}
	return host, scheme, segs, nil
}

func hostname(host string) string {
	if u, err := url.Parse("//" + host); err == nil {
		return u.Hostname()
	}
	return host
}
