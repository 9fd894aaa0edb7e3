package controller

import (
	"bytes"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// maxStatusFindings bounds the findings kept in status; the Warning event and the
// CLI report carry all of them.
const maxStatusFindings = 20

// maxEventBytes bounds an event message; the API server refuses very long ones.
const maxEventBytes = 4000

// recordEvaluation writes the verdict on proposal to status and the metrics.
func (r *PromotionGateReconciler) recordEvaluation(gate *gatev1.PromotionGate, res evaluate.Result, files []string, target, proposal string) {
	ev := &gatev1.Evaluation{
		Commit:         proposal,
		TargetCommit:   target,
		Verdict:        string(res.Verdict),
		Environment:    res.Environment,
		Protected:      res.Protected,
		PolicyRevision: res.PolicyRevision,
		Files:          files,
		Images:         imageList(res),
		Error:          res.Error,
		Time:           metav1.NewTime(r.now()),
	}
	for i, f := range res.Findings {
		if i == maxStatusFindings {
			break
		}
		ev.Findings = append(ev.Findings, gatev1.Finding{
			Rule:        f.Rule,
			Check:       f.Check,
			Enforcement: string(f.Enforcement),
			Image:       f.Image,
			File:        f.Source.File,
			Field:       f.Source.FieldPath,
			Message:     f.Message,
			Fix:         f.Fix,
		})
	}
	gate.Status.LastEvaluation = ev
	r.Metrics.Evaluations.WithLabelValues(gate.Namespace, gate.Name, string(res.Verdict)).Inc()
}

func (r *PromotionGateReconciler) recordPromotion(gate *gatev1.PromotionGate, auto *automation, res evaluate.Result, target, proposal string) {
	gate.Status.LastPromotion = &gatev1.Promotion{
		Branch:         auto.target,
		Commit:         proposal,
		PreviousCommit: target,
		Images:         imageList(res),
		PolicyRevision: res.PolicyRevision,
		Time:           metav1.NewTime(r.now()),
	}
}

// holdMessage is the Ready condition's message for a held proposal: short, with the
// count and the first finding, since the printer column shows it.
func holdMessage(auto *automation, proposal string, res evaluate.Result) string {
	env := res.Environment
	if env == "" {
		env = "unclassified"
	}
	if res.Error != "" {
		return fmt.Sprintf("holding %s on %s: evaluation failed in environment %s (fail closed): %s",
			short(proposal), auto.proposal, env, res.Error)
	}
	n := len(res.Findings)
	msg := fmt.Sprintf("holding %s on %s: %d finding(s) in environment %s", short(proposal), auto.proposal, n, env)
	if n > 0 {
		f := res.Findings[0]
		msg += fmt.Sprintf("; %s: %s", f.Rule, f.Message)
		if f.Source.File != "" { // commit findings have no file
			msg += fmt.Sprintf(" (%s)", f.Source.File)
		}
	}
	return msg
}

// holdEvent is the Warning event for a held proposal: the shared text report,
// which names each finding with its file, field, rule and fix.
func holdEvent(auto *automation, proposal string, res evaluate.Result) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "holding %s on %s, not promoting it to %s:\n", short(proposal), auto.proposal, auto.target)
	if err := report.Write(&b, report.Text, []report.Target{{Path: auto.proposal + "@" + short(proposal), Result: res}}); err != nil {
		fmt.Fprintf(&b, "(report failed: %v) %s", err, holdMessage(auto, proposal, res))
	}
	return truncate(b.String(), maxEventBytes)
}

// promotedEvent says what changed: the commit, from and to, the images.
func promotedEvent(auto *automation, res evaluate.Result, target, proposal string) string {
	msg := fmt.Sprintf("promoted %s to %s (previous head %s, the rollback point)", proposal, auto.target, target)
	if imgs := imageList(res); len(imgs) > 0 {
		msg += ": " + strings.Join(imgs, ", ")
	}
	if res.Verdict == evaluate.Warned {
		msg += fmt.Sprintf(" — with %d warning(s)", len(res.Findings))
	}
	return truncate(msg, maxEventBytes)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-len(" …(truncated)")], "") + " …(truncated)"
}

// event records an event annotated with the commit it is about, so that Flux
// notification-controller can forward it with the revision.
func (r *PromotionGateReconciler) event(gate *gatev1.PromotionGate, eventType, reason, commit, format string, args ...any) {
	if r.EventRecorder == nil {
		return
	}
	annotations := map[string]string{gatev1.GroupVersion.Group + "/revision": commit}
	r.EventRecorder.AnnotatedEventf(gate, nil, annotations, eventType, reason, reason, format, args...)
}
