package demo

import (
	"context"
	"fmt"
	"github.com/promotion-gate/promotion-gate/test/internal/manifests"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-billy/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// playIAC says plainly what the demo does in image-automation-controller's place,
// commits the setter change to the proposal branch as the automation's author, and
// records the push in the automation's status.
func (d *demo) playIAC(ctx context.Context, why, message string, set map[string]string, drop ...string) (string, error) {
	d.say("The demo plays Flux's image-automation-controller, which is not running here: %s, so it "+
		"rewrites the setter-marked fields of %s, commits as %s to %s, and sets status.lastPushCommit "+
		"on ImageUpdateAutomation %s/%s.", why, prodKustomize, fluxBot.Name, proposalBranch, fluxNamespace, gateName)
	commit, err := d.git.commit(ctx, "main", proposalBranch, fluxBot, message, func(fs billy.Filesystem) error {
		data, err := readFile(fs, prodKustomize)
		if err != nil {
			return err
		}
		data, err = applySetters(data, imagePolicy, set, drop...)
		if err != nil {
			return fmt.Errorf("%s: %w", prodKustomize, err)
		}
		return writeFile(fs, prodKustomize, data)
	})
	if err != nil {
		return "", err
	}
	if err := d.recordPush(ctx, commit); err != nil {
		return "", err
	}
	d.field("proposal", "%s on %s", commit, proposalBranch)
	return commit, nil
}

// promote is step 1: a digest-pinned proposal is promoted to main.
func (d *demo) promote(ctx context.Context) error {
	digest := d.rep.Digests["1.9.0"]
	p, err := d.playIAC(ctx, "its ImagePolicy picked payments-api 1.9.0 with its digest",
		"Update payments-api to 1.9.0", map[string]string{"tag": "1.9.0", "digest": digest})
	if err != nil {
		return err
	}
	d.field("change", "newTag: 1.9.0, digest: %s", digest)
	g, main, err := d.waitPromoted(ctx, p)
	if err != nil {
		return err
	}
	lp, ev := g.Status.LastPromotion, g.Status.LastEvaluation
	status, reason, line := ready(g)
	d.rep.Promoted = Promotion{Proposal: p, MainAfter: main, ReadyStatus: status, ReadyReason: reason, Images: lp.Images,
		SignatureReads: d.signatureReads("1.9.0")}
	if main != p {
		return fmt.Errorf("the gate reports the promotion of %s, but main is at %s", p, main)
	}
	d.say("flux-gate, the real controller, evaluated exactly that commit: %s in environment %s. It fast-forwarded main to it.",
		ev.Verdict, envLabel(ev.Environment, ev.Protected))
	d.field("main", "was %s, now %s: the proposal commit itself", lp.PreviousCommit, main)
	d.field("images", "%s", strings.Join(lp.Images, ", "))
	d.field("signature", "verified (rule %s): flux-gate read the image's OCI referrers at ghcr.io (%d request(s)) and found "+
		"the release key's signature, logged in the transparency log", signedRule, d.rep.Promoted.SignatureReads)
	d.field("policy", "%s", lp.PolicyRevision)
	d.field("Ready", "%s", line)
	return nil
}

// hold is step 2: a proposal with a mutable tag is held on the proposal branch.
func (d *demo) hold(ctx context.Context) error {
	before, err := d.git.head(ctx, "main")
	if err != nil {
		return err
	}
	p, err := d.playIAC(ctx, "its ImagePolicy now picks the tag latest, which comes without a digest",
		"Update payments-api to latest", map[string]string{"tag": "latest"}, "digest")
	if err != nil {
		return err
	}
	d.field("change", "newTag: latest, digest line removed")
	g, event, heads, err := d.waitHeld(ctx, p)
	if err != nil {
		return err
	}
	ev := g.Status.LastEvaluation
	_, _, line := ready(g)
	d.rep.Held = newHold(g, p, heads, event)
	if heads["main"] != before || heads[proposalBranch] != p {
		return fmt.Errorf("want main still at %s and %s at %s; Git has main at %s and %s at %s",
			short(before), proposalBranch, short(p), short(heads["main"]), proposalBranch, short(heads[proposalBranch]))
	}
	d.say("flux-gate evaluated the commit: %s in environment %s. Nothing was pushed: main stays at %s, "+
		"and the commit waits on %s, where a person can see it.",
		ev.Verdict, envLabel(ev.Environment, ev.Protected), short(before), proposalBranch)
	d.field("Ready", "%s", line)
	d.findings(ev.Findings)
	d.say("The Warning event on PromotionGate %s/%s (what `kubectl describe` and Flux alerts show):", fluxNamespace, gateName)
	d.quote(event)
	return nil
}

// argo is step 3: Argo CD renders prod through the real sidecar, from main and from the
// held proposal.
func (d *demo) argo(ctx context.Context) error {
	d.say("The demo plays Argo CD's repo-server, which is not running here: it checks out the Application's " +
		"revision and streams it to the real argocd-cmp-server, through a client built from argo-cd's own code.")
	app := prodApplication("main")
	rev, res, err := d.render(ctx, app, "main")
	if err != nil {
		return err
	}
	d.rep.Render = Render{Revision: rev, Manifests: res.Manifests}
	if res.ExitCode != 0 {
		return fmt.Errorf("rendering prod from main at %s was refused:\n%s", short(rev), res.Error)
	}
	objs, err := manifests.Decode(res.Manifests)
	if err != nil {
		return fmt.Errorf("the sidecar's manifests: %w", err)
	}
	d.field("Application", "%s, path %s, targetRevision main (%s)", app.Name, app.Path, short(rev))
	d.field("manifests", "%s", objectNames(objs))
	d.field("image", "%s", strings.Join(images(objs), ", "))

	d.say("")
	d.say("Now someone points the prod Application at the held proposal (targetRevision %s):", proposalBranch)
	app.TargetRevision = proposalBranch
	rev, res, err = d.render(ctx, app, "proposal")
	if err != nil {
		return err
	}
	d.rep.Refusal = Refusal{Revision: rev, ExitCode: res.ExitCode, SidecarError: res.Error}
	if res.ExitCode == 0 {
		return fmt.Errorf("the sidecar rendered the :latest proposal %s instead of refusing it", short(rev))
	}
	d.rep.Refusal.ComparisonError = comparisonError(res.Error)
	d.say("The sidecar refused to render it: Argo CD gets no manifests, so nothing is synced. The Application's " +
		"ComparisonError, as the Argo CD UI shows it (argo-cd v2.14's wording around the plugin's message):")
	d.quote(d.rep.Refusal.ComparisonError)
	return nil
}

// prodApplication is the prod Application at targetRevision.
func prodApplication(targetRevision string) application {
	return application{Name: "payments-api-prod", Namespace: "payments-prod", Path: prodOverlay, TargetRevision: targetRevision}
}

// render plays the repo-server for app: it checks out app.TargetRevision into a new
// directory named after what (each render gets its own, as each revision does in
// Argo CD) and asks the sidecar for the manifests.
func (d *demo) render(ctx context.Context, app application, what string) (string, cmpResult, error) {
	dir := filepath.Join(d.work, "argocd", what)
	rev, err := d.git.checkout(ctx, app.TargetRevision, dir)
	if err != nil {
		return "", cmpResult{}, err
	}
	res, err := d.generate(ctx, dir, rev, app)
	return rev, res, err
}

// rollback is step 4: the rollback point recorded by the gate, checked against Git;
// then a person uses it (revert, records.go).
func (d *demo) rollback(ctx context.Context) error {
	g, err := d.waitGate(ctx, metav1.ConditionFalse, []string{gatev1.PolicyViolationReason}, nil)
	if err != nil {
		return err
	}
	lp := g.Status.LastPromotion
	if lp == nil {
		return fmt.Errorf("PromotionGate %s has no status.lastPromotion", gateName)
	}
	parents, files, err := d.git.commitInfo(ctx, "main", lp.Commit)
	if err != nil {
		return err
	}
	d.rep.Rollback = Rollback{Commit: lp.Commit, PreviousCommit: lp.PreviousCommit, Files: files}
	if len(parents) == 1 {
		d.rep.Rollback.Parent = parents[0]
	}
	if !slices.Equal(parents, []string{lp.PreviousCommit}) {
		return fmt.Errorf("status.lastPromotion says %s replaced %s, but its parents in Git are %v", lp.Commit, lp.PreviousCommit, parents)
	}
	d.say("The gate's status.lastPromotion records what prod runs and what it ran before:")
	d.field("promoted", "%s at %s: %s", lp.Commit, lp.Time.UTC().Format("15:04:05Z"), strings.Join(lp.Images, ", "))
	d.field("replaced", "%s (the rollback point; Git confirms it is the promoted commit's parent)", lp.PreviousCommit)
	d.say("To roll prod back, revert the promoted commit; main returns to the content of %s:", short(lp.PreviousCommit))
	d.field("", "git revert %s", lp.Commit)
	d.field("", "(the revert changes only %s)", strings.Join(files, ", "))
	d.say("")
	return d.revert(ctx)
}

// images lists the container images of rendered workloads.
func images(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			if m, ok := c.(map[string]any); ok {
				if img, ok := m["image"].(string); ok && !slices.Contains(out, img) {
					out = append(out, img)
				}
			}
		}
	}
	return out
}

func envLabel(env string, protected bool) string {
	if env == "" {
		env = "(unclassified)"
	}
	if protected {
		return env + " (protected)"
	}
	return env
}

// newHold is the evidence of a held proposal p: the gate's evaluation and Ready
// condition, the branch heads and the Warning event.
func newHold(g *gatev1.PromotionGate, p string, heads map[string]string, event string) Hold {
	ev := g.Status.LastEvaluation
	status, reason, _ := ready(g)
	h := Hold{Proposal: p, MainAfter: heads["main"], ProposalBranch: heads[proposalBranch],
		ReadyStatus: status, ReadyReason: reason, Verdict: ev.Verdict, Event: event}
	for _, f := range ev.Findings {
		h.FindingRules = append(h.FindingRules, f.Rule)
		h.FindingChecks = append(h.FindingChecks, f.Check)
		h.FindingImages = append(h.FindingImages, f.Image)
		h.FindingMessages = append(h.FindingMessages, f.Message)
	}
	return h
}

// findings prints the findings of an evaluation.
func (d *demo) findings(fs []gatev1.Finding) {
	for _, f := range fs {
		if f.Image != "" && strings.Contains(f.Message, f.Image) {
			d.field("finding", "%s (%s): %s", f.Rule, f.Enforcement, f.Message)
		} else {
			d.field("finding", "%s (%s): %s %s", f.Rule, f.Enforcement, f.Image, f.Message)
		}
		d.field("", "in %s %s; fix: %s", f.File, f.Field, f.Fix)
	}
}
