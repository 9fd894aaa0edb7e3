package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// A history of commits c0 (the head) … c9, and promotions on it: which digests must
// the target still carry, and which removals are the gate's own?
func TestPromisedDigests(t *testing.T) {
	hash := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	h := &history{at: map[string]int{}}
	for i := range 10 {
		h.at[hash(i)] = i
		h.commits = append(h.commits, &object.Commit{Hash: plumbing.NewHash(hash(i))})
	}
	const gate, branch = "flux-system/apps-prod", "main"
	fileA, fileB := "apps/a/overlays/prod/kustomization.yaml", "apps/b/overlays/prod/kustomization.yaml"
	base := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	promo := func(name string, at, prev int, files []string, refs ...string) taggedRecord {
		rec := record.Record{Kind: record.Promotion, Branch: branch, Commit: hash(at), RollbackCommit: hash(prev), Files: files,
			Approval: &record.Approval{Gate: gate}, Time: base.Add(time.Duration(10-at) * time.Minute)}
		for _, r := range refs {
			rec.Images = append(rec.Images, record.ImageOf(r))
		}
		return taggedRecord{tag: git.Tag{Name: name}, rec: rec}
	}
	recs := []taggedRecord{
		promo("p1", 8, 9, []string{fileA}, "ghcr.io/example/a:1.9.0@sha256:a190"),
		promo("p2", 6, 7, []string{fileA}, "ghcr.io/example/a:1.9.1@sha256:a191"),                                            // replaces p1
		promo("p3", 4, 5, []string{fileB}, "ghcr.io/example/b:2.0.0@sha256:b200"),                                            // another file
		promo("p4", 2, 3, []string{fileB}, "ghcr.io/example/sidecar:1.0@sha256:s100", "ghcr.io/example/b:2.0.0@sha256:b200"), // same digest again, a new image
	}
	other := promo("other-gate", 1, 2, []string{fileA}, "ghcr.io/example/a:2.0.0@sha256:a200")
	other.rec.Approval.Gate = "flux-system/someone-else"
	offBranch := promo("off-branch", 0, 1, []string{fileA}, "ghcr.io/example/a:3.0.0@sha256:a300")
	offBranch.rec.Branch = "staging"
	rewritten := promo("rewritten", 3, 4, []string{fileA}, "ghcr.io/example/a:0.1.0@sha256:a010")
	rewritten.rec.Commit = fmt.Sprintf("%040x", 999)
	recs = append(recs, other, offBranch, rewritten)

	promos, got := promisedDigests(gate, branch, recs, h)
	var names []string
	for _, p := range promos {
		names = append(names, p.tag.Name)
	}
	if want := []string{"p4", "p3", "p2", "p1"}; !slices.Equal(names, want) {
		t.Errorf("promotions on the history = %v, want %v (newest first, this gate and branch only)", names, want)
	}
	var promised []string
	for _, pd := range got {
		promised = append(promised, pd.promo.tag.Name+" "+pd.image.Digest)
	}
	want := []string{"p4 sha256:s100", "p4 sha256:b200", "p2 sha256:a191"}
	if !slices.Equal(promised, want) {
		t.Errorf("promised = %v, want %v (p1's 1.9.0 was replaced by the gate's p2; p3's digest is p4's now)", promised, want)
	}

	for _, tt := range []struct {
		at   int
		want bool
	}{
		{0, false}, {1, false}, // after the last promotion: a person's commit
		{2, true}, {4, true}, {6, true}, {8, true}, // promoted commits
		{3, false}, {5, false}, {7, false}, // between promotions: commits the gate did not bring
	} {
		if got := byGate(h, promos, h.commits[tt.at]); got != tt.want {
			t.Errorf("byGate(c%d) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

// A promotion a person merged with a merge commit sits on the target's first-parent
// history at that merge commit (the promoted commit is its second parent): its digest
// is promised, and only the merge commit is the gate's own change. A fast-forward
// merge sits at the promoted commit, like a push.
func TestPromisedDigestsOfPullRequestMerges(t *testing.T) {
	hash := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	h := &history{at: map[string]int{}}
	for i := range 5 {
		h.at[hash(i)] = i
		h.commits = append(h.commits, &object.Commit{Hash: plumbing.NewHash(hash(i))})
	}
	const gate, branch = "flux-system/apps-prod", "main"
	file := "apps/a/overlays/prod/kustomization.yaml"
	base := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	merged := func(name string, commit string, pr *record.PullRequest, prev int, ref string, age int) taggedRecord {
		rec := record.Record{Kind: record.Promotion, Branch: branch, Commit: commit, RollbackCommit: hash(prev), Files: []string{file},
			Images: []record.Image{record.ImageOf(ref)}, Approval: &record.Approval{Gate: gate, PullRequest: pr},
			Time: base.Add(-time.Duration(age) * time.Minute)}
		return taggedRecord{tag: git.Tag{Name: name}, rec: rec}
	}
	offHistory := fmt.Sprintf("%040x", 777) // the promoted commit, second parent of c1
	recs := []taggedRecord{
		merged("fast-forward", hash(3), &record.PullRequest{Number: 1, MergedBy: "erin", RollbackFrom: record.RollbackFromLastJudged},
			4, "ghcr.io/example/a:1.9.0@sha256:a190", 20),
		merged("merge-commit", offHistory, &record.PullRequest{Number: 2, MergedBy: "erin", MergeCommit: hash(1),
			RollbackFrom: record.RollbackFromMergeCommit}, 2, "ghcr.io/example/a:1.9.1@sha256:a191", 10),
	}
	promos, got := promisedDigests(gate, branch, recs, h)
	var names, promised []string
	for _, p := range promos {
		names = append(names, p.tag.Name)
	}
	for _, pd := range got {
		promised = append(promised, pd.promo.tag.Name+" "+pd.image.Digest)
	}
	if want := []string{"merge-commit", "fast-forward"}; !slices.Equal(names, want) {
		t.Errorf("promotions on the history = %v, want %v", names, want)
	}
	if want := []string{"merge-commit sha256:a191"}; !slices.Equal(promised, want) {
		t.Errorf("promised = %v, want %v (the merge commit's 1.9.1 replaced the fast-forward's 1.9.0)", promised, want)
	}
	for _, tt := range []struct {
		at   int
		want bool
	}{{0, false}, {1, true}, {2, false}, {3, true}, {4, false}} {
		if got := byGate(h, promos, h.commits[tt.at]); got != tt.want {
			t.Errorf("byGate(c%d) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

// A release promoted within the same second as the rollback it releases ends the
// hold: record times are whole seconds, so the tags' numbers order them.
func TestActiveRollbacksWithinOneSecond(t *testing.T) {
	const gate, branch, digest = "flux-system/apps-prod", "main", "sha256:b190"
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	rb := taggedRecord{tag: git.Tag{Name: "prod-2026-06-01-002"}, rec: record.Record{Kind: record.Rollback, Branch: branch, Commit: fmt.Sprintf("%040x", 2),
		Rollback: &record.RollbackInfo{Gate: gate, Digests: []string{digest}}, Time: at}}
	promo := func(name string) taggedRecord {
		return taggedRecord{tag: git.Tag{Name: name}, rec: record.Record{Kind: record.Promotion, Branch: branch, Commit: fmt.Sprintf("%040x", 3),
			Images: []record.Image{record.ImageOf("ghcr.io/example/a:1.9.0@" + digest)}, Approval: &record.Approval{Gate: gate}, Time: at}}
	}
	for _, tc := range []struct {
		name  string
		recs  []taggedRecord
		holds bool
	}{
		{"rollback alone", []taggedRecord{rb}, true},
		{"promotion before it, same second", []taggedRecord{promo("prod-2026-06-01-001"), rb}, true},
		{"release after it, same second", []taggedRecord{rb, promo("prod-2026-06-01-003")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(activeRollbacks(gate, branch, tc.recs)) > 0; got != tc.holds {
				t.Errorf("held = %v, want %v", got, tc.holds)
			}
		})
	}
}
