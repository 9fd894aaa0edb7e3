package render

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		is   error    // the error wraps this, when set
		says []string // the message says all of these
	}{
		{
			name: "kustomization references a missing file",
			opts: Options{Path: repo + "/apps/broken-missing", RepoRoot: repo},
			says: []string{"render kustomize apps/broken-missing: apps/broken-missing/kustomization.yaml: resources \"deployment.yaml\": apps/broken-missing/deployment.yaml does not exist"},
		},
		{
			name: "remote kustomize base",
			opts: Options{Path: repo + "/apps/remote", RepoRoot: repo},
			is:   ErrRemote,
			says: []string{"apps/remote/kustomization.yaml", "https://github.com/example/platform//base?ref=v1.0.0", "vendor it"},
		},
		{
			name: "base outside the repository root",
			opts: Options{Path: repo + "/apps/web/overlays/prod"},
			is:   ErrOutsideRoot,
			says: []string{"base"},
		},
		{
			name: "alias bomb in plain YAML",
			opts: Options{Path: repo + "/apps/bomb-plain", RepoRoot: repo},
			is:   ErrLimit,
			says: []string{"apps/bomb-plain/bomb.yaml", "alias bomb", "100000"},
		},
		{
			name: "alias bomb in a kustomize resource",
			opts: Options{Path: repo + "/apps/bomb-kustomize", RepoRoot: repo},
			is:   ErrLimit,
			says: []string{"apps/bomb-kustomize/bomb.yaml", "alias bomb"},
		},
		{
			name: "unvendored helm dependency",
			opts: Options{Path: repo + "/charts/needs-dep", RepoRoot: repo},
			is:   ErrRemote,
			says: []string{"redis 19.0.0 from https://charts.example.com/stable", "helm dependency build charts/needs-dep", "commit charts/needs-dep/charts/"},
		},
		{
			name: "values file outside the repository root",
			opts: Options{Path: repo + "/charts/web", RepoRoot: repo, ValuesFiles: []string{"../../../outside.yaml"}},
			is:   ErrOutsideRoot,
			says: []string{"values file ../../../outside.yaml"},
		},
		{
			name: "remote values file",
			opts: Options{Path: repo + "/charts/web", RepoRoot: repo, ValuesFiles: []string{"https://example.com/values.yaml"}},
			is:   ErrRemote,
		},
		{
			name: "missing values file",
			opts: Options{Path: repo + "/charts/web", RepoRoot: repo, ValuesFiles: []string{"values-nope.yaml"}},
			says: []string{"values file values-nope.yaml", "no such file"},
		},
		{
			name: "bad kube version",
			opts: Options{Path: repo + "/charts/web", RepoRoot: repo, KubeVersion: "latest"},
			says: []string{`kube version "latest"`},
		},
		{
			name: "file over the size limit",
			opts: Options{Path: repo + "/apps/plain", RepoRoot: repo, Limits: Limits{MaxFileBytes: 100}},
			is:   ErrLimit,
			says: []string{"apps/plain/10-deployment.yaml", "limit of 100 bytes per file"},
		},
		{
			name: "input over the total limit",
			opts: Options{Path: repo + "/apps/plain", RepoRoot: repo, Limits: Limits{MaxTotalBytes: 500}},
			is:   ErrLimit,
			says: []string{"limit of 500 bytes in total"},
		},
		{
			name: "too many documents",
			opts: Options{Path: repo + "/apps/plain", RepoRoot: repo, Limits: Limits{MaxDocuments: 2}},
			is:   ErrLimit,
			says: []string{"more than 2 documents"},
		},
		{
			name: "too many kustomize documents",
			opts: Options{Path: repo + "/apps/web/overlays/prod", RepoRoot: repo, Limits: Limits{MaxDocuments: 1}},
			is:   ErrLimit,
			says: []string{"2 documents, over the limit of 1"},
		},
		{
			name: "application path that does not exist",
			opts: Options{Path: repo + "/apps/nope", RepoRoot: repo},
			says: []string{"render testdata/repo/apps/nope", "no such file"},
		},
		{
			name: "application path outside the root",
			opts: Options{Path: "testdata", RepoRoot: repo},
			is:   ErrOutsideRoot,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Render(context.Background(), tt.opts)
			g.Expect(err).To(HaveOccurred())
			t.Log(err)
			if tt.is != nil {
				g.Expect(errors.Is(err, tt.is)).To(BeTrue(), "%v is not %v", err, tt.is)
			}
			for _, s := range tt.says {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
			g.Expect(strings.Count(err.Error(), "\n")).To(BeZero(), "one line: %q", err)
		})
	}
}

func TestRenderCanceled(t *testing.T) {
	for _, path := range []string{"/apps/web/overlays/prod", "/charts/web", "/apps/plain"} {
		t.Run(path, func(t *testing.T) {
			g := NewWithT(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := Render(ctx, Options{Path: repo + path, RepoRoot: repo})
			g.Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "%v", err)
		})
	}
}

func TestOneLine(t *testing.T) {
	g := NewWithT(t)
	err := oneLine{fmt.Errorf("render x: %w", fmt.Errorf("Failed to read kustomization file under /a:\n  kind should be Kustomization\n\n%w", ErrLimit))}
	g.Expect(err.Error()).To(Equal("render x: Failed to read kustomization file under /a:; kind should be Kustomization; render limit exceeded"))
	g.Expect(errors.Is(err, ErrLimit)).To(BeTrue())
}

// TestAbandon shows that a renderer that does not return cannot hold the caller past
// its deadline, and that a renderer's panic becomes an error.
func TestAbandon(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go cancel()
	_, err := abandon(ctx, func() (int, error) { <-release; return 1, nil })
	g.Expect(errors.Is(err, context.Canceled)).To(BeTrue())
	g.Expect(errors.Is(err, errAbandoned)).To(BeTrue())

	_, err = abandon(context.Background(), func() (int, error) { panic("odd input") })
	g.Expect(err).To(MatchError("renderer panicked: odd input"))
}
