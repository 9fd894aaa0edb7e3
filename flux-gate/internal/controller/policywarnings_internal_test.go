package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

func TestPolicyWarningsLoggedOncePerPolicy(t *testing.T) {
	const header = "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: p}\nspec:\n"
	parse := func(spec string) *policy.Set {
		set, err := policy.Parse(policy.Source{Name: "p.yaml", Data: []byte(header + spec)})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	unprotected := parse("  environments:\n    - {name: prod, match: {branches: [main]}}\n  rules:\n    - {name: digests, requireDigest: true}\n")
	protected := parse("  environments:\n    - {name: prod, protected: true, match: {branches: [main]}}\n  rules:\n    - {name: digests, requireDigest: true}\n")
	unreachable := parse("  environments:\n    - {name: prod, protected: true}\n  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n")

	g := NewWithT(t)
	var lines []string
	ctx := logr.NewContext(context.Background(), funcr.New(func(_, args string) { lines = append(lines, args) }, funcr.Options{}))
	var p policyWarnings
	now := time.Now()
	steps := []struct {
		set  *policy.Set
		want []string // substrings of the lines logged by this load
	}{
		{unprotected, []string{`"msg"="warning: no environment is protected`}},
		{unprotected, nil}, // the same policy again: logged already
		{protected, nil},   // no warnings
		{unreachable, []string{"warning: environment prod is protected but its match is empty", "warning: rule digests applies only to environment prod"}},
		{unreachable, nil},
		{unprotected, []string{"warning: no environment is protected"}}, // changed back: logged again
		{nil, nil}, // no policy: nothing to warn about (the load error is reported elsewhere)
	}
	for i, s := range steps {
		lines = nil
		p.log(ctx, "flux-system", s.set, now)
		g.Expect(lines).To(HaveLen(len(s.want)), "step %d: %v", i, lines)
		for j, w := range s.want {
			g.Expect(lines[j]).To(ContainSubstring(w), "step %d", i)
			g.Expect(lines[j]).To(ContainSubstring(`"policyNamespace"="flux-system"`))
			g.Expect(strings.Contains(lines[j], `"policyRevision"="sha256:`)).To(BeTrue())
		}
	}
}
