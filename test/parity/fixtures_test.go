package parity

import (
	"path/filepath"
	"testing"

	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

const prodOverlay = "apps/payments-api/overlays/prod"

var prodTarget = target{path: prodOverlay, app: "payments-api-prod", namespace: "payments-prod"}

// fixtureCases are changed copies of the examples: each breaks the policy, or the
// input, in one way.
func fixtureCases() []parityCase {
	digestLine := "    digest: sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6 # {\"$imagepolicy\": \"flux-system:payments-api-prod:digest\"}\n"
	unpinProd := func(t *testing.T, root string) {
		replaceIn(t, root, prodOverlay+"/kustomization.yaml", digestLine, "")
	}
	return []parityCase{
		{name: "prod overlay with a tag and no digest", mutate: unpinProd, target: prodTarget},
		{
			name: "prod overlay on latest",
			mutate: func(t *testing.T, root string) {
				unpinProd(t, root)
				replaceIn(t, root, prodOverlay+"/kustomization.yaml", "newTag: 1.8.3", "newTag: latest")
			},
			target: prodTarget,
		},
		{
			name:   "prod overlay that asks to be dev",
			mutate: unpinProd,
			target: target{path: prodOverlay, app: "payments-api-prod", namespace: "payments-prod", environment: "dev"},
		},
		{
			name:   "staging overlay that asks to be prod",
			target: target{path: "apps/payments-api/overlays/staging", app: "payments-api-staging", namespace: "payments-staging", environment: "prod"},
		},
		{
			name: "chart with prod values and no digest",
			mutate: func(t *testing.T, root string) {
				replaceIn(t, root, "charts/payments-api/values-prod.yaml",
					"  digest: sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6 # {\"$imagepolicy\": \"flux-system:payments-api-prod:digest\"}\n", "")
			},
			target: target{path: "charts/payments-api", app: "payments-api", namespace: "payments", valuesFiles: []string{"values-prod.yaml"}},
		},
		{
			name: "plain YAML in a prod cluster path, with a HelmRelease image field",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, "clusters/prod/payments/workloads.yaml", plainProdYAML)
			},
			target: target{path: "clusters/prod/payments", app: "cluster-prod-payments", namespace: "payments"},
		},
		{
			name: "an image reference the runtime cannot parse",
			mutate: func(t *testing.T, root string) {
				replaceIn(t, root, "apps/payments-api/base/deployment.yaml", "image: ghcr.io/example/payments-api:1.8.3", "image: ghcr.io/example/Payments-API:1.8.3")
			},
			target: target{path: "apps/payments-api/overlays/staging", app: "payments-api-staging", namespace: "payments-staging"},
		},
		{
			name: "a YAML bomb in prod",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, prodOverlay+"/bomb.yaml", bomb)
				replaceIn(t, root, prodOverlay+"/kustomization.yaml", "  - ../../base\n", "  - ../../base\n  - bomb.yaml\n")
			},
			target: prodTarget,
		},
		{
			name:   "exemptions, live and expired",
			mutate: unpinProd,
			policy: "exemptions",
			target: prodTarget,
		},
		{name: "no policy", policy: "missing", target: prodTarget},
	}
}

// resolvePolicy turns the named test policies into directories.
func resolvePolicy(t *testing.T, name string) string {
	switch name {
	case "":
		return filepath.Join(repo, "examples", "policy")
	case "missing":
		return filepath.Join(t.TempDir(), "not-mounted")
	case "exemptions":
		dir := cmpharness.CopyTree(t, filepath.Join(repo, "examples", "policy"))
		cmpharness.WriteFile(t, dir, "zz-exemptions.yaml", exemptionsPolicy)
		return dir
	}
	t.Fatalf("unknown test policy %q", name)
	return ""
}

const exemptionsPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: payments-exemptions
spec:
  exemptions:
    - rule: prod-immutable-images
      images: ["ghcr.io/example/payments-api:*"]
      reason: "digest pinning rolls out with PAY-42"
      owner: team-payments
      expires: "2999-12-31"
    - rule: prod-immutable-images
      images: ["ghcr.io/example/payments-api:1.8.3"]
      reason: "an old exemption nobody removed"
      owner: team-payments
      expires: "2020-01-31"
`

const plainProdYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
  namespace: payments
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/example/ledger-migrate@sha256:1111111111111111111111111111111111111111111111111111111111111111
      containers:
        - name: ledger
          image: nginx
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cache
  namespace: payments
spec:
  values:
    image:
      repository: registry.example.com/cache
      tag: main
`

const bomb = `apiVersion: v1
kind: ConfigMap
metadata:
  name: laughs
data:
  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
  l1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]
  l2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]
  l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]
  l4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]
  l5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]
  l6: &l6 [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]
  l7: &l7 [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]
`
