package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files")

const (
	histDigestA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	histDigestB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// historyRepo is a clone with three commits on main and their records: a signed
// promotion of 1.9.0, an unsigned rollback of it, a promotion of 1.9.1 signed by a
// key nobody trusts; plus a release tag and a lightweight tag, which are no records.
func historyRepo(t *testing.T) (dir, trustDir string, commits []string) {
	t.Helper()
	dir = t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	for i, content := range []string{"1.8.3", "1.9.0", "1.8.3", "1.9.1"} {
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("newTag: "+content+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add("kustomization.yaml"); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "Dana Dev", Email: "dana@example.com", When: at.Add(time.Duration(i) * time.Hour)}
		h, err := wt.Commit("commit "+content, &gogit.CommitOptions{Author: sig, Committer: sig})
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, h.String())
	}
	trusted := commitsigtest.NewOpenPGPKey(t, "Promotion Records", "records@example.com")
	stranger := commitsigtest.NewOpenPGPKey(t, "Someone Else", "else@example.com")
	trustDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(trustDir, "records.asc"), trusted.Public, 0o644); err != nil {
		t.Fatal(err)
	}
	promotion := func(i int, tag, digest string) record.Record {
		return record.Record{Kind: record.Promotion, Environment: "prod", Protected: true, Branch: "main",
			Commit: commits[i], RollbackCommit: commits[i-1],
			Images:   []record.Image{record.ImageOf("ghcr.io/example/payments-api:" + tag + "@" + digest)},
			Files:    []string{"kustomization.yaml"},
			Verdict:  &record.Verdict{Result: "Allowed", PolicyRevision: "sha256:abc", RulesPassed: []string{"prod-immutable-images"}},
			Approval: &record.Approval{Gate: "flux-system/payments-api-prod", Identity: "flux-gate", Proposal: "automation/payments-api-prod"},
			Time:     at.Add(time.Duration(i)*time.Hour + time.Minute)}
	}
	rollback := record.Record{Kind: record.Rollback, Environment: "prod", Branch: "main", Commit: commits[2], RollbackCommit: commits[1],
		Images: []record.Image{record.ImageOf("ghcr.io/example/payments-api:1.9.0@" + histDigestA)},
		Rollback: &record.RollbackInfo{Gate: "flux-system/payments-api-prod", Author: "Dana Dev <dana@example.com>", Subject: "commit 1.8.3",
			Digests: []string{histDigestA}, Promotion: "prod-2026-06-01-001", PromotedCommit: commits[1]},
		Time: at.Add(2*time.Hour + time.Minute)}
	for _, tc := range []struct {
		name string
		rec  record.Record
		key  *openpgp.Entity
	}{
		{"prod-2026-06-01-001", promotion(1, "1.9.0", histDigestA), trusted.Entity},
		{"prod-2026-06-01-002", rollback, nil},
		{"prod-2026-06-01-003", promotion(3, "1.9.1", histDigestB), stranger.Entity},
	} {
		msg, err := record.Marshal(tc.rec)
		if err != nil {
			t.Fatal(err)
		}
		_, err = repo.CreateTag(tc.name, plumbing.NewHash(tc.rec.Commit), &gogit.CreateTagOptions{
			Tagger: &object.Signature{Name: "flux-gate", Email: "flux-gate@promotion-gate.io", When: tc.rec.Time}, Message: string(msg), SignKey: tc.key})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := repo.CreateTag("v1.0.0", plumbing.NewHash(commits[3]), &gogit.CreateTagOptions{
		Tagger: &object.Signature{Name: "Dana Dev", Email: "dana@example.com", When: at}, Message: "Release 1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateTag("lightweight", plumbing.NewHash(commits[0]), nil); err != nil {
		t.Fatal(err)
	}
	return dir, trustDir, commits
}

func TestHistory(t *testing.T) {
	dir, trust, commits := historyRepo(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"list", []string{"history", "--repo", dir}, 0},
		{"list-verified", []string{"history", "--repo", dir, "--trust-dir", trust}, 0},
		{"env-none", []string{"history", "--repo", dir, "--env", "staging"}, 0},
		{"image-digest", []string{"history", "--repo", dir, "--image", histDigestA}, 0},
		{"markdown", []string{"history", "--repo", dir, "-o", "markdown"}, 0},
		{"show-tag", []string{"history", "show", "prod-2026-06-01-001", "--repo", dir, "--trust-dir", trust}, 0},
		{"show-rollback-commit", []string{"history", "show", commits[2][:10], "--repo", dir}, 0},
		{"show-missing", []string{"history", "show", "prod-1999-01-01-001", "--repo", dir}, 2},
		{"bad-output", []string{"history", "--repo", dir, "-o", "yaml"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			code, out, errOut := execute(t, tc.args...)
			g.Expect(code).To(Equal(tc.code), errOut)
			text := strings.ReplaceAll(out+errOut, dir, "REPO")
			for i, c := range commits {
				text = strings.ReplaceAll(text, c, "COMMIT"+string(rune('0'+i)))
				text = strings.ReplaceAll(text, c[:12], "SHORT"+string(rune('0'+i)))
			}
			text = regexp.MustCompile(`unknown key [0-9A-F]+`).ReplaceAllString(text, "unknown key KEYID")
			historyGolden(t, tc.name+".txt", text)
		})
	}
}

func TestHistoryJSON(t *testing.T) {
	g := NewWithT(t)
	dir, trust, commits := historyRepo(t)
	code, out, errOut := execute(t, "history", "--repo", dir, "--trust-dir", trust, "-o", "json")
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring(`"signature": "verified"`))
	g.Expect(out).To(ContainSubstring(`"signature": "unsigned"`))
	g.Expect(out).To(ContainSubstring(`"signature": "not verified: tag prod-2026-06-01-003: signed by an unknown key`))
	g.Expect(out).To(ContainSubstring(`"rollbackCommit": "` + commits[0] + `"`))
	g.Expect(out).NotTo(ContainSubstring("v1.0.0"))
}

func historyGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "history", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update if intended):\n%s", name, got)
	}
}

// A pull request merged with a merge commit: history show finds its record by the
// merge commit too, and names who merged and who approved.
func TestHistoryShowByMergeCommit(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	g.Expect(err).NotTo(HaveOccurred())
	wt, err := repo.Worktree()
	g.Expect(err).NotTo(HaveOccurred())
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	var commits []string
	for i, content := range []string{"1.8.3", "1.9.0", "merge"} {
		g.Expect(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("newTag: "+content+"\n"), 0o644)).To(Succeed())
		_, err := wt.Add("kustomization.yaml")
		g.Expect(err).NotTo(HaveOccurred())
		sig := &object.Signature{Name: "Dana Dev", Email: "dana@example.com", When: at.Add(time.Duration(i) * time.Hour)}
		h, err := wt.Commit("commit "+content, &gogit.CommitOptions{Author: sig, Committer: sig})
		g.Expect(err).NotTo(HaveOccurred())
		commits = append(commits, h.String())
	}
	rec := record.Record{Kind: record.Promotion, Environment: "prod", Branch: "main", Commit: commits[1], RollbackCommit: commits[0],
		Images:  []record.Image{record.ImageOf("ghcr.io/example/payments-api:1.9.0@" + histDigestA)},
		Verdict: &record.Verdict{Result: "Allowed", PolicyRevision: "sha256:abc"},
		Approval: &record.Approval{Gate: "flux-system/payments-api-prod", Identity: "flux-gate", Proposal: "automation/payments-api-prod",
			PullRequest: &record.PullRequest{Number: 8, MergedBy: "erin", ApprovedBy: []string{"dana"}, MergeCommit: commits[2],
				RollbackFrom: record.RollbackFromMergeCommit}},
		Time: at.Add(3 * time.Hour)}
	msg, err := record.Marshal(rec)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = repo.CreateTag("prod-2026-06-01-001", plumbing.NewHash(commits[1]), &gogit.CreateTagOptions{
		Tagger: &object.Signature{Name: "flux-gate", Email: "flux-gate@promotion-gate.io", When: rec.Time}, Message: string(msg)})
	g.Expect(err).NotTo(HaveOccurred())

	code, out, errOut := execute(t, "history", "show", commits[2][:10], "--repo", dir)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("- Merged by erin, through pull request #8 (merge commit " + commits[2] + ")"))
	g.Expect(out).To(ContainSubstring("- Approved by dana"))
	g.Expect(out).To(ContainSubstring("`git revert -m 1 " + commits[2][:12] + "`"))
}
