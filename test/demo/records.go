package demo

// Chapter 8: records in Git and rollbacks that stick. A person reverts the
// last promotion on main; Flux proposes the same digest again; flux-gate records the
// rollback and holds the proposal; promotion-gate history lists the promotions and the
// rollback, each with its rollback commit.

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

// Records is chapter 8's evidence.
type Records struct {
	Reverted     string   // the promotion commit the person reverted
	RevertCommit string   // the person's revert on main
	Digest       string   // the digest rolled back
	RolledBack   []string // status.rolledBack digests
	Proposal     string   // Flux's proposal bringing the digest back
	ReadyReason  string   // the gate's Ready reason for it
	MainAfter    string   // main afterwards: still the revert
	Event        string   // the Warning event
	History      string   // promotion-gate history's output
	Show         string   // promotion-gate history show of the rollback
}

func (d *demo) records(ctx context.Context) error {
	g := &gatev1.PromotionGate{}
	if err := d.cluster.k8s.Get(ctx, client.ObjectKey{Namespace: fluxNamespace, Name: gateName}, g); err != nil {
		return err
	}
	lp := g.Status.LastPromotion
	if lp == nil || g.Status.LastRecord == nil {
		return fmt.Errorf("PromotionGate %s has no last promotion or record to roll back", gateName)
	}
	tag, digest := unsignedTag, d.rep.Digests[unsignedTag]
	d.rep.Records = Records{Reverted: lp.Commit, Digest: digest}
	d.say("Every promotion above is also an annotated tag in the platform repository, its message the record "+
		"(a YAML block for programs, then the four questions in prose); the last one is %s on %s.", g.Status.LastRecord.Tag, short(lp.Commit))

	d.say("payments-api %s misbehaves in prod. %s reverts its promotion on main, a Git operation like any other:", tag, onCall.Name)
	revert, err := d.git.commit(ctx, "main", "main", onCall, fmt.Sprintf("Revert \"Update payments-api to %s\"", tag), func(fs billy.Filesystem) error {
		data, err := readFile(fs, prodKustomize)
		if err != nil {
			return err
		}
		data, err = applySetters(data, imagePolicy, map[string]string{"tag": "1.9.0", "digest": d.rep.Digests["1.9.0"]})
		if err != nil {
			return err
		}
		return writeFile(fs, prodKustomize, data)
	})
	if err != nil {
		return err
	}
	d.rep.Records.RevertCommit = revert
	d.field("revert", "%s by %s: main runs 1.9.0 again", revert, onCall.Name)
	if err := d.requestReconcile(ctx); err != nil {
		return err
	}
	g, err = d.waitGate(ctx, metav1.ConditionTrue, []string{gatev1.PromotedReason, gatev1.UpToDateReason}, func(g *gatev1.PromotionGate) bool {
		return slices.ContainsFunc(g.Status.RolledBack, func(r gatev1.RolledBackDigest) bool { return r.Digest == digest })
	})
	if err != nil {
		return err
	}
	for _, r := range g.Status.RolledBack {
		d.rep.Records.RolledBack = append(d.rep.Records.RolledBack, r.Digest)
		d.field("rolled back", "%s: by %s (%s), recorded as %s", r.Digest, short(r.RevertCommit), r.Author, r.Tag)
	}

	d.say("The demo deletes the merged proposal branch, so that the automation rebuilds it from main, as it does after the gate " +
		"cleans a stale proposal. Its ImagePolicy still picks the newest tag — the ping-pong Flux users know.")
	if err := d.git.deleteBranch(ctx, proposalBranch); err != nil {
		return err
	}
	p, err := d.playIAC(ctx, "its ImagePolicy still picks "+tag, "Update payments-api to "+tag, map[string]string{"tag": tag, "digest": digest})
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
	d.rep.Records.Proposal, d.rep.Records.ReadyReason, d.rep.Records.Event, d.rep.Records.MainAfter = p, reason, event, main
	if main != revert {
		return fmt.Errorf("main must stay at the revert %s, it is at %s", short(revert), short(main))
	}
	d.say("flux-gate holds it: the rollback sticks, main stays at the revert.")
	d.field("Ready", "%s", line)
	d.say("The Warning event:")
	d.quote(event)

	d.say("An auditor or the on-call engineer reads the history from Git alone, with the promotion-gate CLI:")
	d.field("", "promotion-gate history --repo %s", d.git.url)
	out, err := d.historyCLI(ctx, "history", "--repo", d.git.url)
	if err != nil {
		return err
	}
	d.rep.Records.History = out
	d.quote(out)
	rbTag := g.Status.RolledBack[0].Tag
	d.field("", "promotion-gate history show %s --repo %s", rbTag, d.git.url)
	show, err := d.historyCLI(ctx, "history", "show", rbTag, "--repo", d.git.url)
	if err != nil {
		return err
	}
	d.rep.Records.Show = show
	d.quote(show)
	d.say("To promote %s again on purpose: kubectl -n %s annotate promotiongate %s %s=%s", tag, fluxNamespace, gateName,
		gatev1.ReleaseRollbackAnnotation, digest)
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
