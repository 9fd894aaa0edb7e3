package cmp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// The sidecar logs the policy's warnings (the ones `promotion-gate policy validate`
// prints) after a successful render, and never into a refusal.
func TestGeneratePolicyWarnings(t *testing.T) {
	const header = "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: p}\nspec:\n"
	examples, err := filepath.Abs(examplesRepo)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, policy, path string
		environ            []string
		wantCode           int
		wantWarnings       []string
	}{
		{name: "the example policy has none", path: prodPath, wantCode: ExitRendered},
		{name: "no protected environment: rendered, with the warning", path: prodPath, wantCode: ExitRendered,
			policy:       header + "  environments:\n    - {name: prod, match: {paths: [\"apps/*/overlays/prod/**\"]}}\n  rules:\n    - {name: digests, requireDigest: true}\n",
			wantWarnings: []string{"warning: no environment is protected"}},
		{name: "unreachable prod requested by the app: refused, no warning in the refusal", path: "apps/payments-api/overlays/dev",
			environ:  []string{"PARAM_ENVIRONMENT=prod"},
			wantCode: ExitRefused,
			policy:   header + "  environments:\n    - {name: prod, protected: true}\n  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n"},
		{name: "unreachable prod: dev renders, with both warnings", path: "apps/payments-api/overlays/dev", wantCode: ExitRendered,
			policy:       header + "  environments:\n    - {name: prod, protected: true}\n  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n",
			wantWarnings: []string{"warning: environment prod is protected but its match is empty", "warning: rule digests applies only to environment prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s := settings(t)
			if tt.policy != "" {
				s.PolicyDir = t.TempDir()
				g.Expect(os.WriteFile(filepath.Join(s.PolicyDir, "p.yaml"), []byte(tt.policy), 0o644)).To(Succeed())
			}
			code, _, stderr := generate(t, examples, tt.path, s, tt.environ...)
			g.Expect(code).To(Equal(tt.wantCode), stderr)
			var logged []string
			for _, line := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(line, "promotion-gate: policy "+s.PolicyDir+": warning: ") {
					logged = append(logged, line)
				}
			}
			g.Expect(logged).To(HaveLen(len(tt.wantWarnings)), stderr)
			for i, w := range tt.wantWarnings {
				g.Expect(logged[i]).To(ContainSubstring(w))
			}
			if tt.wantCode != ExitRendered {
				g.Expect(stderr).NotTo(ContainSubstring("warning:"))
			}
		})
	}
}
