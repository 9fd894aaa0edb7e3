// Package forge reports a promotion's verdict where the people who merge look: a
// commit status on the proposal commit, which a protected branch can require, and one
// pull request (a merge request on GitLab) from the proposal branch to the target
// whose body is the report. When a person merges it, the forge says who merged and who
// approved. One small interface, one file per provider: GitHub (go-github), GitLab
// (client-go) and Gitea/Forgejo (the Gitea SDK).
//
// Every client retries rate limits and server errors with backoff, trusts an extra
// CA bundle for self-hosted forges, and returns an error for a status it could not
// post: a caller never counts an unposted status as success.
package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Provider names a forge API.
type Provider string

const (
	// GitHub is github.com or GitHub Enterprise Server.
	GitHub Provider = "github"
	// GitLab is gitlab.com or a self-managed GitLab.
	GitLab Provider = "gitlab"
	// Gitea is a Gitea server.
	Gitea Provider = "gitea"
	// Forgejo is a Forgejo server; it speaks Gitea's API.
	Forgejo Provider = "forgejo"
)

// Providers lists the providers, in the order help texts name them.
func Providers() []Provider { return []Provider{GitHub, GitLab, Gitea, Forgejo} }

// ParseProvider returns the provider with that name (case does not matter).
func ParseProvider(s string) (Provider, error) {
	p := Provider(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Providers() {
		if p == known {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown forge provider %q: use one of github, gitlab, gitea, forgejo", s)
}

// State is a commit status state, in GitHub's and Gitea's words; GitLab's client
// translates it.
type State string

const (
	// Pending: the commit is being judged.
	Pending State = "pending"
	// Success: the policy allows the commit (possibly with warnings).
	Success State = "success"
	// Failure: the policy denies the commit.
	Failure State = "failure"
	// Error: the commit could not be judged; it fails closed.
	Error State = "error"
)

// Status is one commit status.
type Status struct {
	// Commit is the full hash of the commit the status is about.
	Commit string
	State  State
	// Context names the check a branch protection rule requires, e.g.
	// promotion-gate/prod.
	Context string
	// Description is one line; the client shortens it to the forge's limit.
	Description string
	// TargetURL is where the status links to; optional.
	TargetURL string
}

// ChangeRequest is the pull request the gate keeps open for a proposal.
type ChangeRequest struct {
	// Head is the proposal branch, Base the target branch.
	Head, Base string
	Title      string
	// Body is markdown; see Body.
	Body string
}

// Change is a pull request (a merge request on GitLab) as the forge reports it.
type Change struct {
	// Number is the pull request number (GitLab: the merge request IID).
	Number int64
	// URL is its web page.
	URL string
	// Head and Base are the branches; HeadCommit the head commit the forge last saw.
	Head, Base, HeadCommit string
	Title, Body            string
	// Open is true while it can be merged or closed.
	Open bool
	// Merged is true once merged; MergeCommit is the commit the base branch got
	// (for a fast-forward merge, the head commit itself).
	Merged      bool
	MergeCommit string
	// MergedBy is the login of the person who merged it.
	MergedBy string
	// ApprovedBy are the logins of those whose approval stands, in the order the
	// forge lists them. Filled for a merged change only.
	ApprovedBy []string
}

// Client is one repository on one forge.
type Client interface {
	// Provider says which forge API this is.
	Provider() Provider
	// SetStatus posts a commit status. An error means the status is not on the forge.
	SetStatus(ctx context.Context, s Status) error
	// EnsureChange opens a pull request from req.Head to req.Base, or updates the
	// title and body of the one already open between them.
	EnsureChange(ctx context.Context, req ChangeRequest) (*Change, error)
	// MergedChange returns the most recent merged pull request from head to base
	// whose head was commit, with who merged and who approved; nil when there is none.
	MergedChange(ctx context.Context, head, base, commit string) (*Change, error)
}

// Options configure a client.
type Options struct {
	// Repository is where the statuses and pull requests go.
	Repository Repository
	// Credentials authenticate the client.
	Credentials Credentials
	// CA is a PEM bundle trusted besides the system's roots (a self-hosted forge).
	CA []byte
	// UserAgent is sent with every request; empty means "promotion-gate".
	UserAgent string
	// Retry bounds the retries of rate limits and server errors; zero is the default.
	Retry Retry
	// Transport is the base transport; nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// Credentials are a token, or (GitHub) an App's installation.
type Credentials struct {
	// Token is a personal or project access token, or an App installation token.
	Token string
	// GitHubApp, when set, makes the client mint installation tokens itself.
	GitHubApp *GitHubApp
}

// ErrNoCredentials says a client was asked for without any credentials.
var ErrNoCredentials = errors.New("no forge credentials: give a token (or GitHub App credentials)")

// New returns the client of opts.Repository's provider.
func New(opts Options) (Client, error) {
	if opts.Credentials.Token == "" && opts.Credentials.GitHubApp == nil {
		return nil, ErrNoCredentials
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "promotion-gate"
	}
	hc, err := httpClient(opts)
	if err != nil {
		return nil, err
	}
	repo := opts.Repository
	switch repo.Provider {
	case GitHub:
		return newGitHub(repo, opts, hc)
	case GitLab:
		return newGitLab(repo, opts, hc)
	case Gitea, Forgejo:
		return newGitea(repo, opts, hc)
	}
	return nil, fmt.Errorf("repository %s: unknown forge provider %q: use one of github, gitlab, gitea, forgejo", repo, repo.Provider)
}

// Description limits: GitHub refuses a status description over 140 characters (its
// REST API document says so, and it answers 422). GitLab's API documents no limit;
// Gitea stores the description as TEXT. For those two we keep 255 characters, the
// length of a one-line summary their commit pages show whole.
const (
	githubDescriptionMax = 140
	otherDescriptionMax  = 255
)

// DescriptionLimit is the longest status description provider p takes.
func DescriptionLimit(p Provider) int {
	if p == GitHub {
		return githubDescriptionMax
	}
	return otherDescriptionMax
}

// shorten cuts s to n characters (runes), ending with "…" when it had to cut.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
