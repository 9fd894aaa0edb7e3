package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/forge"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// statusFlags post check's verdict as a commit status (--status), for CI systems
// without a status step of their own. Off by default.
type statusFlags struct {
	provider, context, repo, commit, address, targetURL, tokenEnv, caFile string
}

// defaultTokenEnv is the variable the forge token is read from unless
// --status-token-env names another.
const defaultTokenEnv = "PROMOTION_GATE_FORGE_TOKEN"

func (f *statusFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.provider, "status", "", "post the verdict as a commit status on this forge: github, gitlab, gitea or forgejo (off by default)")
	fl.StringVar(&f.context, "status-context", "", "name of the commit status, which branch protection requires (default promotion-gate/ENV with --env, else promotion-gate)")
	fl.StringVar(&f.repo, "status-repo", "", "repository URL of the commit status (default: the CI's, from GITHUB_SERVER_URL/GITHUB_REPOSITORY or CI_PROJECT_URL)")
	fl.StringVar(&f.commit, "status-commit", "", "commit the status is posted on (default: GITHUB_SHA or CI_COMMIT_SHA; on a pull_request event name the head commit)")
	fl.StringVar(&f.address, "status-address", "", "forge API address when the repository URL does not imply it (GitHub Enterprise Server, a forge under a path prefix)")
	fl.StringVar(&f.targetURL, "status-target-url", "", "link of the commit status (default: the CI run, when the CI names it)")
	fl.StringVar(&f.tokenEnv, "status-token-env", defaultTokenEnv, "environment variable holding the forge token")
	fl.StringVar(&f.caFile, "status-ca-file", "", "PEM bundle of a self-hosted forge's CA")
}

// poster returns the status target, nil without --status.
func (f *statusFlags) poster(env string) (*forge.CIStatus, error) {
	if f.provider == "" {
		return nil, nil
	}
	p, err := forge.ParseProvider(f.provider)
	if err != nil {
		return nil, fmt.Errorf("--status: %w", err)
	}
	token := strings.TrimSpace(os.Getenv(f.tokenEnv))
	if token == "" {
		return nil, fmt.Errorf("--status %s: the forge token is read from $%s, which is empty: set it (or name another variable with --status-token-env)", p, f.tokenEnv)
	}
	s := forge.CIStatus{Provider: p, Repository: f.repo, Address: f.address, Commit: f.commit,
		Context: f.context, TargetURL: f.targetURL, Token: token}
	if s.Context == "" {
		s.Context = "promotion-gate"
		if env != "" {
			s.Context += "/" + env
		}
	}
	if f.caFile != "" {
		if s.CA, err = os.ReadFile(f.caFile); err != nil {
			return nil, fmt.Errorf("--status-ca-file: %w", err)
		}
	}
	s = s.FromEnv(os.Getenv)
	return &s, nil
}

// postStatus posts the verdict of every checked path; a status that cannot be posted
// is an error, so CI never shows a check as passed that the forge never saw.
func postStatus(ctx context.Context, s *forge.CIStatus, targets []report.Target) error {
	if s == nil {
		return nil
	}
	results := make([]evaluate.Result, 0, len(targets))
	for _, t := range targets {
		results = append(results, t.Result)
	}
	return s.Post(ctx, results)
}
