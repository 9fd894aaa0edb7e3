package demo

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

const (
	fluxNamespace  = "flux-system"
	gateName       = "payments-api-prod"
	proposalBranch = "automation/payments-api-prod"
	prodOverlay    = "apps/payments-api/overlays/prod"
	prodKustomize  = prodOverlay + "/kustomization.yaml"
	// imagePolicy is the ImagePolicy named by the prod overlay's setter markers.
	imagePolicy = "flux-system:payments-api-prod"
)

// createFluxObjects creates what a platform team commits for a gated automation: the
// GitRepository, the ImageUpdateAutomation pushing to a proposal branch, and the
// PromotionGate that promotes from it to main.
func (d *demo) createFluxObjects(ctx context.Context) error {
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "platform-config", Namespace: fluxNamespace},
		Spec: sourcev1.GitRepositorySpec{
			URL: d.git.url, Interval: metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
	auto, gate := gatedAutomation(gateName, repo.Name, proposalBranch)
	for _, o := range []client.Object{repo, auto, gate} {
		if err := d.cluster.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	d.automation = client.ObjectKeyFromObject(auto)
	return nil
}

// gatedAutomation is the rest of what a platform team writes for a gated automation,
// both objects named name: the ImageUpdateAutomation that pushes the prod overlay's
// updates from the GitRepository repo to a proposal branch, and the PromotionGate
// that promotes from that branch to main.
func gatedAutomation(name, repo, branch string) (*imagev1.ImageUpdateAutomation, *gatev1.PromotionGate) {
	auto := &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fluxNamespace},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: repo},
			Interval:  metav1.Duration{Duration: 5 * time.Minute},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: sourcev1.GitRepositoryRef{Branch: "main"}},
				Commit:   imagev1.CommitSpec{Author: imagev1.CommitUser{Name: fluxBot.Name, Email: fluxBot.Email}},
				Push:     &imagev1.PushSpec{Branch: branch},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./" + prodOverlay},
		},
	}
	gate := &gatev1.PromotionGate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fluxNamespace},
		Spec: gatev1.PromotionGateSpec{
			AutomationRef: meta.LocalObjectReference{Name: auto.Name},
			TargetBranch:  "main",
			Environment:   "prod",
		},
	}
	return auto, gate
}

// recordPush plays image-automation-controller's status update after a push.
func (d *demo) recordPush(ctx context.Context, commit string) error {
	auto := &imagev1.ImageUpdateAutomation{}
	if err := d.cluster.k8s.Get(ctx, d.automation, auto); err != nil {
		return fmt.Errorf("read ImageUpdateAutomation %s: %w", d.automation, err)
	}
	before := auto.DeepCopy()
	now := metav1.Now()
	auto.Status.LastPushCommit = commit
	auto.Status.LastPushTime = &now
	if err := d.cluster.k8s.Status().Patch(ctx, auto, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("set status.lastPushCommit of ImageUpdateAutomation %s: %w", d.automation, err)
	}
	return nil
}

// waitGate waits until the gate's Ready condition has status and one of reasons for its
// current generation and done accepts the gate; it returns the gate.
func (d *demo) waitGate(ctx context.Context, status metav1.ConditionStatus, reasons []string, done func(*gatev1.PromotionGate) bool) (*gatev1.PromotionGate, error) {
	key := client.ObjectKey{Namespace: fluxNamespace, Name: gateName}
	var g *gatev1.PromotionGate
	what := fmt.Sprintf("PromotionGate %s to be Ready=%s (%s)", key, status, strings.Join(reasons, " or "))
	err := d.waitFor(ctx, what, func() (bool, string, error) {
		if err := d.fluxGate.running(); err != nil {
			return false, "", err
		}
		g = &gatev1.PromotionGate{}
		if err := d.cluster.k8s.Get(ctx, key, g); err != nil {
			return false, err.Error(), nil
		}
		c := apimeta.FindStatusCondition(g.Status.Conditions, meta.ReadyCondition)
		if c == nil {
			return false, "no Ready condition", nil
		}
		seen := fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		ok := c.Status == status && contains(reasons, c.Reason) && g.Status.ObservedGeneration == g.Generation && (done == nil || done(g))
		return ok, seen, nil
	})
	return g, err
}

// waitEvent waits for an event on the gate of type and reason whose message has text.
func (d *demo) waitEvent(ctx context.Context, eventType, reason, text string) (string, error) {
	var msg string
	err := d.waitFor(ctx, fmt.Sprintf("a %s event %s on PromotionGate %s mentioning %s", eventType, reason, gateName, text), func() (bool, string, error) {
		var list corev1.EventList
		if err := d.cluster.k8s.List(ctx, &list, client.InNamespace(fluxNamespace)); err != nil {
			return false, err.Error(), nil
		}
		seen := fmt.Sprintf("%d events", len(list.Items))
		for _, e := range list.Items {
			if e.InvolvedObject.Kind != gatev1.PromotionGateKind || e.InvolvedObject.Name != gateName {
				continue
			}
			seen = fmt.Sprintf("%s %s: %s", e.Type, e.Reason, firstLine(e.Message))
			if e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, text) {
				msg = e.Message
				return true, seen, nil
			}
		}
		return false, seen, nil
	})
	return msg, err
}

// ready returns the gate's Ready condition as one line.
func ready(g *gatev1.PromotionGate) (status, reason, line string) {
	c := apimeta.FindStatusCondition(g.Status.Conditions, meta.ReadyCondition)
	if c == nil {
		return "", "", "no Ready condition"
	}
	return string(c.Status), c.Reason, fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
}

// setterLine matches a YAML field whose line comment is a Flux setter marker.
var setterLine = regexp.MustCompile(`^(\s*(?:- )?[\w.-]+:\s*)(\S+)(\s+#\s*\{"\$imagepolicy":\s*"([^"]+)"\}\s*)$`)

// applySetters does what image-automation-controller's Setters strategy does to a file:
// it writes the ImagePolicy's latest reference into the fields marked for policy.
// Parts in set get the value; parts in drop lose their line (the policy has no digest).
// Every part named must be marked in the file.
func applySetters(data []byte, policy string, set map[string]string, drop ...string) ([]byte, error) {
	found := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		m := setterLine.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		part, ours := strings.CutPrefix(m[4], policy+":")
		if !ours {
			out = append(out, line)
			continue
		}
		if v, ok := set[part]; ok {
			found[part] = true
			out = append(out, m[1]+v+m[3])
			continue
		}
		if contains(drop, part) {
			found[part] = true
			continue
		}
		out = append(out, line)
	}
	for part := range set {
		if !found[part] {
			return nil, fmt.Errorf("no field marked {\"$imagepolicy\": \"%s:%s\"}", policy, part)
		}
	}
	for _, part := range drop {
		if !found[part] {
			return nil, fmt.Errorf("no field marked {\"$imagepolicy\": \"%s:%s\"}", policy, part)
		}
	}
	return []byte(strings.Join(out, "\n")), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// waitHeld waits until flux-gate holds proposal commit p, and returns the gate, the
// Warning event it recorded and the branch heads then.
func (d *demo) waitHeld(ctx context.Context, p string) (*gatev1.PromotionGate, string, map[string]string, error) {
	g, err := d.waitGate(ctx, metav1.ConditionFalse, []string{gatev1.PolicyViolationReason}, func(g *gatev1.PromotionGate) bool {
		return g.Status.LastEvaluation != nil && g.Status.LastEvaluation.Commit == p
	})
	if err != nil {
		return nil, "", nil, err
	}
	event, err := d.waitEvent(ctx, "Warning", gatev1.PolicyViolationReason, short(p))
	if err != nil {
		return nil, "", nil, err
	}
	heads, err := d.git.heads(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	return g, event, heads, nil
}

// waitPromoted waits until flux-gate has promoted proposal commit p — Promoted, or
// already UpToDate if the gate looked again since: either way main must then be exactly
// the proposal, which callers check in Git — and returns the gate and main's head.
func (d *demo) waitPromoted(ctx context.Context, p string) (*gatev1.PromotionGate, string, error) {
	g, err := d.waitGate(ctx, metav1.ConditionTrue, []string{gatev1.PromotedReason, gatev1.UpToDateReason}, func(g *gatev1.PromotionGate) bool {
		return g.Status.LastPromotion != nil && g.Status.LastPromotion.Commit == p
	})
	if err != nil {
		return nil, "", err
	}
	main, err := d.git.head(ctx, "main")
	if err != nil {
		return nil, "", err
	}
	return g, main, nil
}
