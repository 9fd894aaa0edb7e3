package report

import (
	"bytes"
	"fmt"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// writeText writes a report for people: per target a header with the verdict, then each
// finding with where it is, what is wrong and the fix; exempted findings and notices
// after the findings.
//
//	apps/payments-api/overlays/prod: Denied (environment prod, protected) — 1 finding
//	  3 images checked under policy sha256:…
//	  1. apps/payments-api/overlays/prod/deployment.yaml:21 (document 0)
//	     Deployment payments/payments-api, container api (spec.template.spec.containers[0].image)
//	     image ghcr.io/example/payments-api:1.8.3
//	     deny prod-immutable-images: not pinned by digest: tag "1.8.3" can be moved to other content
//	     fix: pin the image by digest: ghcr.io/example/payments-api:1.8.3@sha256:<digest> (…)
func writeText(b *bytes.Buffer, targets []Target) {
	for i, t := range targets {
		if i > 0 {
			b.WriteString("\n")
		}
		textTarget(b, t)
	}
	if len(targets) > 1 {
		c := tally(targets)
		fmt.Fprintf(b, "\n%s: %s (%d denied, %d warned, %d allowed)\n",
			plural(len(targets), "target"), Overall(targets), c.denied, c.warned, c.allowed)
	}
}

func textTarget(b *bytes.Buffer, t Target) {
	r := t.Result
	outcome := plural(len(r.Findings), "finding")
	if r.Error != "" {
		outcome = "evaluation failed"
	}
	fmt.Fprintf(b, "%s: %s (%s) — %s\n", clean(t.Path), r.Verdict, clean(environment(r)), outcome)
	for _, why := range r.Because {
		fmt.Fprintf(b, "  counted as %s: %s\n", clean(r.Environment), clean(why))
	}
	if r.Error != "" {
		fmt.Fprintf(b, "  error: %s\n", clean(r.Error))
	}
	revision := r.PolicyRevision
	if revision == "" {
		revision = "(none)"
	}
	fmt.Fprintf(b, "  %s checked under policy %s\n", plural(len(r.Images), "image"), clean(revision))
	for i, f := range r.Findings {
		textFinding(b, i+1, string(f.Enforcement), f)
	}
	if len(r.Exempted) > 0 {
		fmt.Fprintf(b, "  exempted (%d):\n", len(r.Exempted))
		for i, f := range r.Exempted {
			textFinding(b, i+1, "exempt", f)
		}
	}
	if len(r.Notices) > 0 {
		b.WriteString("  notices:\n")
		for _, n := range r.Notices {
			fmt.Fprintf(b, "  - %s\n", clean(n))
		}
	}
}

// textFinding writes one numbered finding; label is deny, warn or exempt.
func textFinding(b *bytes.Buffer, n int, label string, f evaluate.Finding) {
	indent := fmt.Sprintf("  %*s", len(fmt.Sprint(n))+2, "")
	if f.Source.File == "" {
		// A promotion finding (an unsigned commit) is about no file.
		fmt.Fprintf(b, "  %d. the promotion (%s)\n", n, clean(f.Check))
	} else {
		fmt.Fprintf(b, "  %d. %s (document %d)\n", n, clean(fileLine(f.Source)), f.Source.Document)
		where := object(f.Source)
		if p := place(f.Source); p != "" {
			where += ", " + p
		}
		fmt.Fprintf(b, "%s%s\n", indent, clean(where))
	}
	if f.Image != "" {
		fmt.Fprintf(b, "%simage %s\n", indent, clean(f.Image))
	}
	fmt.Fprintf(b, "%s%s %s: %s\n", indent, label, clean(f.Rule), clean(f.Message))
	fmt.Fprintf(b, "%sfix: %s\n", indent, clean(f.Fix))
	if f.Exemption != nil {
		fmt.Fprintf(b, "%sexemption: %s\n", indent, clean(exemptionText(f.Exemption)))
	}
}
