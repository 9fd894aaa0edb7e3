package main

import (
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// --project is what Argo CD 3 sends as ARGOCD_APP_PROJECT_NAME: it classifies like the
// other facts, and can only make the check stricter.
func TestCheckProject(t *testing.T) {
	const projects = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: projects}
spec:
  environments:
    - {name: prod, protected: true, match: {paths: ["apps/*/overlays/prod/**"], projects: [payments-prod]}}
    - {name: dev, match: {paths: ["apps/*/overlays/dev/**"], projects: ["*-dev"]}}
  rules:
    - {name: prod-digests, environments: [prod], requireDigest: true}
`
	tests := []struct {
		name, path, project string
		wantCode            int
		wantEnv             string
	}{
		{"dev overlay, no project", "apps/payments-api/overlays/dev", "", 0, `"environment": "dev"`},
		{"dev overlay in the prod project", "apps/payments-api/overlays/dev", "payments-prod", 1, `"environment": "prod"`},
		{"prod overlay in a dev project stays prod", "apps/payments-api/overlays/prod", "payments-dev", 0, `"environment": "prod"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			write(t, filepath.Join(policyDir, "platform-baseline.yaml"), projects)
			args := []string{"check", filepath.Join(repo, tt.path), "--policy", policyDir, "--repo-root", repo, "-o", "json"}
			if tt.project != "" {
				args = append(args, "--project", tt.project)
			}
			code, out, errOut := execute(t, args...)
			g.Expect(code).To(Equal(tt.wantCode), "stderr: %s", errOut)
			g.Expect(out).To(ContainSubstring(tt.wantEnv))
		})
	}
}
