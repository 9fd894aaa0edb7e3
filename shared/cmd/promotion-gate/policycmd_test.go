package main

import (
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

func TestPolicyValidateWarnings(t *testing.T) {
	const header = "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: p}\nspec:\n"
	const unprotected = header + "  environments:\n    - {name: staging, match: {paths: [\"apps/*/overlays/staging/**\"]}}\n" +
		"  rules:\n    - {name: digests, requireDigest: true}\n"
	const unreachable = header + "  environments:\n    - {name: prod, protected: true}\n" +
		"  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n"
	tests := []struct {
		name, policy string
		args         []string
		wantCode     int
		wantOut      []string
		wantErr      string
	}{
		{name: "example policy: no warnings", wantCode: 0, args: []string{"--strict"}},
		{name: "no protected environment", policy: unprotected, wantCode: 0,
			wantOut: []string{"is valid: 1 environments, 1 rules", "warning: no environment is protected"}},
		{name: "no protected environment, strict", policy: unprotected, args: []string{"--strict"}, wantCode: exitConfig,
			wantOut: []string{"warning: no environment is protected"}, wantErr: "1 warning with --strict; fix the policy, or drop --strict"},
		{name: "unreachable rule, strict", policy: unreachable, args: []string{"--strict"}, wantCode: exitConfig,
			wantOut: []string{"warning: environment prod is protected but its match is empty", "warning: rule digests applies only to environment prod, which no match reaches"},
			wantErr: "2 warnings with --strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, policyDir := exampleRepo(t)
			if tt.policy != "" {
				write(t, filepath.Join(policyDir, "platform-baseline.yaml"), tt.policy)
			}
			code, out, errOut := execute(t, append([]string{"policy", "validate", policyDir}, tt.args...)...)
			g.Expect(code).To(Equal(tt.wantCode), "stdout: %s\nstderr: %s", out, errOut)
			if len(tt.wantOut) == 0 {
				g.Expect(out).NotTo(ContainSubstring("warning:"))
			}
			for _, w := range tt.wantOut {
				g.Expect(out).To(ContainSubstring(w))
			}
			if tt.wantErr != "" {
				g.Expect(errOut).To(ContainSubstring(tt.wantErr))
			} else {
				g.Expect(errOut).To(BeEmpty())
			}
		})
	}
}
