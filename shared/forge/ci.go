package forge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// CIStatus is where a CI job posts a check's verdict as a commit status, for CI
// systems without a status step of their own (promotion-gate check --status).
type CIStatus struct {
	Provider Provider
	// Repository is the repository's Git or web URL.
	Repository string
	// Address overrides the API address the URL implies.
	Address string
	// Commit is the commit checked.
	Commit    string
	Context   string
	TargetURL string
	Token     string
	// CA is a PEM bundle for a self-hosted forge.
	CA []byte
}

// FromEnv fills what is empty from the CI job's own variables: GitHub Actions, and
// Gitea and Forgejo Actions, which set the same GITHUB_* variables; GitLab CI's
// CI_* variables. On a pull_request event GitHub's GITHUB_SHA is a merge commit the
// forge made, not the head: name the head commit explicitly there.
func (s CIStatus) FromEnv(getenv func(string) string) CIStatus {
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	gh := func(path string) string {
		if getenv("GITHUB_SERVER_URL") == "" || getenv("GITHUB_REPOSITORY") == "" {
			return ""
		}
		return strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/") + "/" + getenv("GITHUB_REPOSITORY") + path
	}
	runURL := ""
	if getenv("GITHUB_RUN_ID") != "" {
		runURL = gh("/actions/runs/" + getenv("GITHUB_RUN_ID"))
	}
	s.Repository = first(s.Repository, gh(""), getenv("CI_PROJECT_URL"))
	s.Commit = first(s.Commit, getenv("GITHUB_SHA"), getenv("CI_COMMIT_SHA"))
	s.TargetURL = first(s.TargetURL, runURL, getenv("CI_JOB_URL"))
	if s.Provider == GitHub && s.Address == "" && getenv("GITHUB_API_URL") != "" {
		s.Address = getenv("GITHUB_API_URL")
	}
	if s.Provider == GitLab && s.Address == "" && getenv("CI_API_V4_URL") != "" {
		s.Address = strings.TrimSuffix(strings.TrimSuffix(getenv("CI_API_V4_URL"), "/"), "/api/v4")
	}
	return s
}

// Post posts the combined verdict of results (evaluate.Combine) on the commit.
func (s CIStatus) Post(ctx context.Context, results []evaluate.Result) error {
	state, desc := Verdict(evaluate.Combine(results...))
	return s.post(ctx, state, desc)
}

// Pending says the commit is being checked.
func (s CIStatus) Pending(ctx context.Context) error {
	return s.post(ctx, Pending, "checking "+short(s.Commit)+" against the promotion policy")
}

func (s CIStatus) post(ctx context.Context, state State, desc string) error {
	if s.Repository == "" || s.Commit == "" {
		return errors.New("a commit status needs the repository and the commit: pass --status-repo and --status-commit, or run in GitHub Actions, Gitea or Forgejo Actions, or GitLab CI, which name them")
	}
	repo, err := ParseRepository(s.Repository, s.Provider, s.Address)
	if err != nil {
		return err
	}
	client, err := New(Options{Repository: repo, Credentials: Credentials{Token: s.Token}, CA: s.CA})
	if err != nil {
		return err
	}
	if err := client.SetStatus(ctx, Status{Commit: s.Commit, State: state, Context: s.Context, Description: desc, TargetURL: s.TargetURL}); err != nil {
		return fmt.Errorf("the verdict is not on the forge: %w", err)
	}
	return nil
}
