package parity

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
	"github.com/promotion-gate/promotion-gate/shared/report"
	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

// TestFluxGateAgrees is the third door: each fixture becomes a promotion (the examples
// at T, the changed copy at P) and goes through check.RunPromotion, the one call
// flux-gate's reconcile makes, over the same Git history the CLI reads with --base. The
// protected root the CLI and the plugin check must come out of flux-gate's render of
// P with the same verdict, environment and findings, and the promotion as a whole
// with the same verdict. flux-gate renders protected roots only (an unprotected
// environment never holds a promotion), so fixtures the CLI finds unprotected are
// compared by the plugin test alone.
func TestFluxGateAgrees(t *testing.T) {
	if setupErr != nil {
		t.Fatalf("set up: %v", setupErr)
	}
	for _, tc := range fixtureCases() {
		if tc.mutate == nil {
			continue // nothing changes: there is no promotion to judge
		}
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			root := cmpharness.CopyTree(t, filepath.Join(repo, "examples", "platform-config"))
			repoGit, err := gogit.PlainInit(root, false)
			g.Expect(err).NotTo(HaveOccurred())
			base := commitAll(t, repoGit, "the examples")
			tc.mutate(t, root)
			head := commitAll(t, repoGit, "the change")
			policyDir := resolvePolicy(t, tc.policy)

			cliRes, cliOut := runCLI(t, root, policyDir, tc.target, "--base", base)
			if !cliRes.Protected {
				t.Skipf("the CLI finds %s unprotected: flux-gate renders protected roots only", tc.target.path)
			}
			plugRes, _ := runPluginCheck(t, root, policyDir, tc.target)
			g.Expect(comparable(plugRes)).To(Equal(comparable(cliRes)), "the plugin agrees at P")

			set, policyErr := policy.Load(policyDir)
			revs, err := gitrev.Open(root)
			g.Expect(err).NotTo(HaveOccurred())
			out := check.RunPromotion(context.Background(), check.PromotionCheck{
				Policy: set, PolicyErr: policyErr, Revisions: revs, Base: base, Head: head, Branch: "main",
				Environment: tc.target.environment, Scope: tc.target.path,
				Render:  render.Options{ReleaseName: tc.target.app, Namespace: tc.target.namespace, KubeVersion: "1.31.0"},
				WorkDir: t.TempDir(),
			})
			// The root as the CLI names it; a plain-YAML directory is no render root
			// (each of its files is judged as it is), and a check that failed before
			// rendering has no roots: then the promotion's result is the comparison.
			fluxRes := out.Result
			for _, r := range out.Roots {
				if r.Path == tc.target.path && slices.Equal(r.ValuesFiles, tc.target.valuesFiles) {
					fluxRes = r.Result
				}
			}
			var buf bytes.Buffer
			g.Expect(report.Write(&buf, report.JSON, []report.Target{{Path: cliRes.Target, Result: fluxRes}})).To(Succeed())
			flux := decode(t, "flux-gate", cmpharness.Result{Stdout: buf.String()})
			t.Logf("CLI: exit %d, %s, %d findings; flux-gate: %s (reason %q), %d roots, %d findings in all",
				cliOut.ExitCode, cliRes.Verdict, len(cliRes.Findings), out.Result.Verdict, out.Reason, len(out.Roots), len(out.Result.Findings))
			g.Expect(comparable(flux)).To(Equal(comparable(cliRes)), "flux-gate's judgement of the root at P")
			g.Expect(string(out.Result.Verdict)).To(Equal(cliRes.Verdict), "the promotion's verdict")
		})
	}
}

// commitAll commits the whole work tree and returns the commit.
func commitAll(t *testing.T, repo *gogit.Repository, msg string) string {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &gogit.CommitOptions{AllowEmptyCommits: true,
		Author: &object.Signature{Name: "Dana", Email: "dana@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}
