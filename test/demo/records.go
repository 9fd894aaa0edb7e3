package demo

// Records in Git and rollbacks that stick. Chapter 4 ends with a person reverting the
// 1.9.0 promotion on main; Flux proposes the same digest again; flux-gate records the
// rollback and holds the proposal. Chapter 8: promotion-gate history lists the
// promotions and the rollback, each with its rollback commit, from Git alone.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-billy/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// onCall is the person who rolls prod back.
var onCall = person{"Dana On-Call", "dana@example.com"}

// Revert is the second half of chapter 4: the on-call person reverts the 1.9.0
// promotion on main, Flux proposes 1.9.0 again, and flux-gate holds it as rolled back.
type Revert struct {
	Commit      string   // the person's revert on main
	Digest      string   // the digest rolled back (1.9.0's)
	RolledBack  []string // status.rolledBack digests after the revert
	RollbackTag string   // the record tag of the rollback
	Proposal    string   // Flux's proposal bringing the digest back
	ReadyReason string   // the gate's Ready reason for it
	MainAfter   string   // main afterwards: still the revert
	Event       string   // the Warning event
}

// Records is chapter 8's evidence: the history read from Git alone.
type Records struct {
	RolledBack []string // status.rolledBack digests at the end of the supply-chain chapters
	Tag        string   // the rollback's record tag, shown in full
	History    string   // promotion-gate history's output
	Show       string   // promotion-gate history show of the rollback
}

// revert is the second half of chapter 4: the on-call person runs the `git revert`
// the gate's status names, and the rollback sticks when Flux proposes 1.9.0 again.
func (d *demo) revert(ctx context.Context) error {
	b := d.rep.Rollback
	tag, digest := "1.9.0", d.rep.Digests["1.9.0"]
	d.rep.Rollback.Revert = Revert{Digest: digest}
	rv := &d.rep.Rollback.Revert
	d.say("payments-api %s misbehaves in prod. %s runs exactly that revert on main, a Git operation like any other:", tag, onCall.Name)
	restore := map[string][]byte{}
	for _, f := range b.Files {
		data, err := d.git.fileAt(ctx, "main", b.PreviousCommit, f)
		if err != nil {
			return err
		}
		restore[f] = data
	}
	msg := fmt.Sprintf("Revert \"Update payments-api to %s\"\n\nThis reverts commit %s.", tag, b.Commit)
	revert, err := d.git.commit(ctx, "main", "main", onCall, msg, func(fs billy.Filesystem) error {
		for f, data := range restore {
			if err := writeFile(fs, f, data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rv.Commit = revert
	d.field("revert", "%s by %s: main has the content of %s again", revert, onCall.Name, short(b.PreviousCommit))
	if err := d.requestReconcile(ctx); err != nil {
		return err
	}

	// The gate records the rollback, and the held :latest proposal, built on the
	// reverted commit, is stale: the gate deletes it and asks the automation to
	// rebuild it from main.
	var g *gatev1.PromotionGate
	key := client.ObjectKey{Namespace: fluxNamespace, Name: gateName}
	err = d.waitFor(ctx, fmt.Sprintf("PromotionGate %s to record the rollback of %s and delete the stale proposal branch %s", key, digest, proposalBranch), func() (bool, string, error) {
		if err := d.fluxGate.running(); err != nil {
			return false, "", err
		}
		g = &gatev1.PromotionGate{}
		if err := d.cluster.k8s.Get(ctx, key, g); err != nil {
			return false, err.Error(), nil
		}
		_, _, line := ready(g)
		if !slices.ContainsFunc(g.Status.RolledBack, func(r gatev1.RolledBackDigest) bool { return r.Digest == digest }) {
			return false, "status.rolledBack has no " + digest + "; " + line, nil
		}
		head, err := d.git.head(ctx, proposalBranch)
		if err != nil {
			return false, err.Error(), nil
		}
		if head != "" {
			return false, proposalBranch + " is still at " + short(head) + "; " + line, nil
		}
		return true, line, nil
	})
	if err != nil {
		return err
	}
	for _, r := range g.Status.RolledBack {
		rv.RolledBack = append(rv.RolledBack, r.Digest)
		if r.Digest == digest {
			rv.RollbackTag = r.Tag
		}
		d.field("rolled back", "%s: by %s (%s), recorded as tag %s", r.Digest, short(r.RevertCommit), r.Author, r.Tag)
	}
	d.say("flux-gate found the revert in Git and wrote the rollback as a record. The held :latest proposal was built on "+
		"the reverted commit, so the gate deleted branch %s and asked the automation to rebuild it from main.", proposalBranch)

	p, err := d.playIAC(ctx, "its ImagePolicy, back on the release tags, still picks "+tag+", the newest one — the ping-pong "+
		"Flux users know (\"if we roll back the version, ImageUpdateAutomation pushes the latest image back\")",
		"Update payments-api to "+tag, map[string]string{"tag": tag, "digest": digest})
	if err != nil {
		return err
	}
	g, err = d.waitGate(ctx, metav1.ConditionFalse, []string{gatev1.RolledBackReason}, func(g *gatev1.PromotionGate) bool {
		return g.Status.Proposal != nil && g.Status.Proposal.Commit == p
	})
	if err != nil {
		return err
	}
	_, reason, line := ready(g)
	event, err := d.waitEvent(ctx, "Warning", gatev1.RolledBackReason, short(p))
	if err != nil {
		return err
	}
	main, err := d.git.head(ctx, "main")
	if err != nil {
		return err
	}
	rv.Proposal, rv.ReadyReason, rv.Event, rv.MainAfter = p, reason, event, main
	if main != revert {
		return fmt.Errorf("main must stay at the revert %s, it is at %s", short(revert), short(main))
	}
	d.say("flux-gate holds it: the rollback sticks, main stays at the revert.")
	d.field("Ready", "%s", line)
	d.say("The Warning event:")
	d.quote(event)
	d.say("To promote %s again on purpose: kubectl -n %s annotate promotiongate %s %s=%s", tag, fluxNamespace, gateName,
		gatev1.ReleaseRollbackAnnotation, digest)
	d.say("A different digest promotes as usual: the next chapters bring payments-api %s.", unsignedTag)
	return nil
}

// records is chapter 8: the promotions and the rollback, read from Git alone.
func (d *demo) records(ctx context.Context) error {
	g := &gatev1.PromotionGate{}
	if err := d.cluster.k8s.Get(ctx, client.ObjectKey{Namespace: fluxNamespace, Name: gateName}, g); err != nil {
		return err
	}
	lp := g.Status.LastPromotion
	if lp == nil || g.Status.LastRecord == nil {
		return fmt.Errorf("PromotionGate %s has no last promotion or record", gateName)
	}
	for _, r := range g.Status.RolledBack {
		d.rep.Records.RolledBack = append(d.rep.Records.RolledBack, r.Digest)
	}
	rbTag := d.rep.Rollback.Revert.RollbackTag
	if rbTag == "" {
		return fmt.Errorf("chapter 4 recorded no rollback tag")
	}
	d.rep.Records.Tag = rbTag
	d.say("Every promotion above is also an annotated tag in the platform repository, its message the record "+
		"(a YAML block for programs, then the four questions in prose); the last one is %s on %s. "+
		"So is the rollback of chapter 4, tag %s.", g.Status.LastRecord.Tag, short(lp.Commit), rbTag)

	d.say("An auditor or the on-call engineer reads the history from Git alone, with the promotion-gate CLI:")
	d.field("", "promotion-gate history --repo %s", d.git.url)
	out, err := d.historyCLI(ctx, "history", "--repo", d.git.url)
	if err != nil {
		return err
	}
	d.rep.Records.History = out
	d.quote(out)
	d.field("", "promotion-gate history show %s --repo %s", rbTag, d.git.url)
	show, err := d.historyCLI(ctx, "history", "show", rbTag, "--repo", d.git.url)
	if err != nil {
		return err
	}
	d.rep.Records.Show = show
	d.quote(show)
	return nil
}

// historyCLI runs the promotion-gate CLI built by make demo (bin/promotion-gate).
func (d *demo) historyCLI(ctx context.Context, args ...string) (string, error) {
	cli := filepath.Join(d.cfg.RepoRoot, "bin", "promotion-gate")
	if _, err := os.Stat(cli); err != nil {
		// Not built by make demo (the Go test runs the story): build it from the
		// workspace, from the build cache.
		cli = filepath.Join(d.work, "promotion-gate")
		build := exec.CommandContext(ctx, "go", "build", "-o", cli, "./cmd/promotion-gate")
		build.Dir = filepath.Join(d.cfg.RepoRoot, "shared")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build the promotion-gate CLI: %w: %s", err, out)
		}
	}
	cmd := exec.CommandContext(ctx, cli, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("promotion-gate %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n"), nil
}
