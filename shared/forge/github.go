package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v88/github"
)

// githubClient speaks GitHub's REST API (github.com and Enterprise Server).
type githubClient struct {
	repo Repository
	api  *github.Client
}

func newGitHub(repo Repository, opts Options, hc *http.Client) (Client, error) {
	base := strings.TrimSuffix(repo.Address, "/") + "/"
	if app := opts.Credentials.GitHubApp; app != nil {
		// The App's installation tokens are minted and renewed under the same
		// client, so a token that expires mid-run is replaced, not an error.
		minter, err := github.NewClient(github.WithHTTPClient(hc), github.WithURLs(&base, nil), github.WithDisableRateLimitCheck())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", repo, err)
		}
		authed := *hc
		authed.Transport = &appTransport{app: app, next: hc.Transport, api: minter, now: timeNow}
		hc = &authed
	}
	// go-github's own rate limit check refuses requests before a reset without
	// asking; the retry transport waits for the reset instead, within its bound.
	o := []github.ClientOptionsFunc{github.WithHTTPClient(hc), github.WithURLs(&base, nil), github.WithDisableRateLimitCheck()}
	if opts.Credentials.GitHubApp == nil {
		o = append(o, github.WithAuthToken(opts.Credentials.Token))
	}
	api, err := github.NewClient(o...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", repo, err)
	}
	return &githubClient{repo: repo, api: api}, nil
}

func (c *githubClient) Provider() Provider { return GitHub }

func (c *githubClient) SetStatus(ctx context.Context, s Status) error {
	st := github.RepoStatus{
		State:       github.Ptr(string(s.State)),
		Context:     github.Ptr(s.Context),
		Description: github.Ptr(shorten(s.Description, githubDescriptionMax)),
	}
	if s.TargetURL != "" {
		st.TargetURL = github.Ptr(s.TargetURL)
	}
	_, resp, err := c.api.Repositories.CreateStatus(ctx, c.repo.Owner, c.repo.Name, s.Commit, st)
	if err != nil {
		return fmt.Errorf("post status %s=%s on %s in %s: %w%s", s.Context, s.State, s.Commit, c.repo, err, githubHint(resp))
	}
	return nil
}

func (c *githubClient) EnsureChange(ctx context.Context, req ChangeRequest) (*Change, error) {
	prs, resp, err := c.api.PullRequests.List(ctx, c.repo.Owner, c.repo.Name, &github.PullRequestListOptions{
		State: "open", Head: c.repo.Owner + ":" + req.Head, Base: req.Base,
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s to %s in %s: %w%s", req.Head, req.Base, c.repo, err, githubHint(resp))
	}
	if len(prs) == 0 {
		pr, resp, err := c.api.PullRequests.Create(ctx, c.repo.Owner, c.repo.Name, &github.NewPullRequest{
			Title: github.Ptr(req.Title), Head: github.Ptr(req.Head), Base: github.Ptr(req.Base), Body: github.Ptr(req.Body),
		})
		if err != nil {
			return nil, fmt.Errorf("open a pull request from %s to %s in %s: %w%s", req.Head, req.Base, c.repo, err, githubHint(resp))
		}
		return githubChange(pr), nil
	}
	open := prs[0]
	if open.GetTitle() == req.Title && open.GetBody() == req.Body {
		return githubChange(open), nil
	}
	pr, resp, err := c.api.PullRequests.Edit(ctx, c.repo.Owner, c.repo.Name, open.GetNumber(), &github.PullRequest{
		Title: github.Ptr(req.Title), Body: github.Ptr(req.Body),
	})
	if err != nil {
		return nil, fmt.Errorf("update pull request #%d in %s: %w%s", open.GetNumber(), c.repo, err, githubHint(resp))
	}
	return githubChange(pr), nil
}

func (c *githubClient) MergedChange(ctx context.Context, head, base, commit string) (*Change, error) {
	prs, resp, err := c.api.PullRequests.List(ctx, c.repo.Owner, c.repo.Name, &github.PullRequestListOptions{
		State: "closed", Head: c.repo.Owner + ":" + head, Base: base, Sort: "updated", Direction: "desc",
		ListOptions: github.ListOptions{PerPage: 50},
	})
	if err != nil {
		return nil, fmt.Errorf("list pull requests from %s to %s in %s: %w%s", head, base, c.repo, err, githubHint(resp))
	}
	for _, listed := range prs {
		if listed.MergedAt == nil || (listed.GetHead().GetSHA() != commit && listed.GetMergeCommitSHA() != commit) {
			continue
		}
		// The list leaves out merged_by: ask for the pull request itself.
		pr, resp, err := c.api.PullRequests.Get(ctx, c.repo.Owner, c.repo.Name, listed.GetNumber())
		if err != nil {
			return nil, fmt.Errorf("get pull request #%d in %s: %w%s", listed.GetNumber(), c.repo, err, githubHint(resp))
		}
		ch := githubChange(pr)
		var reviews []review
		opts := &github.ListOptions{PerPage: 100}
		for {
			rs, resp, err := c.api.PullRequests.ListReviews(ctx, c.repo.Owner, c.repo.Name, pr.GetNumber(), opts)
			if err != nil {
				return nil, fmt.Errorf("list reviews of pull request #%d in %s: %w%s", pr.GetNumber(), c.repo, err, githubHint(resp))
			}
			for _, r := range rs {
				says := commented
				switch r.GetState() {
				case "APPROVED":
					says = approved
				case "CHANGES_REQUESTED":
					says = changesRequested
				}
				reviews = append(reviews, review{user: r.GetUser().GetLogin(), says: says,
					dismissed: r.GetState() == "DISMISSED", commit: r.GetCommitID()})
			}
			if resp == nil || resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		ch.ApprovedBy = approvers(reviews, ch.HeadCommit)
		return ch, nil
	}
	return nil, nil
}

func githubChange(pr *github.PullRequest) *Change {
	return &Change{
		Number: int64(pr.GetNumber()), URL: pr.GetHTMLURL(), Title: pr.GetTitle(), Body: pr.GetBody(),
		Head: pr.GetHead().GetRef(), HeadCommit: pr.GetHead().GetSHA(), Base: pr.GetBase().GetRef(),
		Open: pr.GetState() == "open", Merged: pr.GetMerged() || pr.MergedAt != nil,
		MergeCommit: pr.GetMergeCommitSHA(), MergedBy: pr.GetMergedBy().GetLogin(),
	}
}

func githubHint(resp *github.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	return statusHint(resp.StatusCode)
}

// errNoAppToken says the App's installation token could not be minted.
var errNoAppToken = errors.New("mint a GitHub App installation token")
