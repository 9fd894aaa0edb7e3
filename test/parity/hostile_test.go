package parity

import (
	"testing"

	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

// injectedName is a file name that, written verbatim into a "# Source:" comment,
// would smuggle a Pod into the manifests: Git allows newlines in names.
const injectedName = "z\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: evil}\nspec: {containers: [{name: a, image: \"evil:latest\"}]}\n---\n#.yaml"

const pinnedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments-prod}
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers:
        - name: ledger
          image: ghcr.io/example/ledger@sha256:1111111111111111111111111111111111111111111111111111111111111111
`

// hostileCases are repositories written by an application author who wants around the
// gate. Both doors must give the same verdict for each, and none may render unchecked.
func hostileCases() []parityCase {
	prodPlain := target{path: "clusters/prod/ledger", app: "ledger-prod", namespace: "payments-prod"}
	devTarget := target{path: "apps/evil/overlays/dev", app: "evil-dev", namespace: "evil-dev"}
	return []parityCase{
		{
			name: "hostile: a file name that injects a document",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, prodPlain.path+"/"+injectedName, pinnedDeployment)
			},
			target: prodPlain,
		},
		{
			name: "hostile: a generator file fetched over HTTP",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, prodPlain.path+"/kustomization.yaml",
					"resources: [deploy.yaml]\nconfigMapGenerator: [{name: stolen, files: [a/b=http://127.0.0.1:9/metadata]}]\n")
				cmpharness.WriteFile(t, root, prodPlain.path+"/deploy.yaml", pinnedDeployment)
			},
			target: prodPlain,
		},
		{
			name: "hostile: a Helm template that allocates without end",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, "charts/payments-api/templates/bomb.yaml", `x: {{ repeat 1500000000 "x" }}`+"\n")
			},
			target: target{path: "charts/payments-api", app: "payments-api", namespace: "payments", valuesFiles: []string{"values-prod.yaml"}},
		},
		{
			name: "hostile: a dev overlay that renders the prod overlay on latest",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, devTarget.path+"/kustomization.yaml", "resources: [../../../payments-api/overlays/prod]\n"+
					"images: [{name: ghcr.io/example/payments-api, newTag: latest, digest: ''}]\n")
			},
			target: devTarget,
		},
		{
			name: "hostile: a dev overlay that renders into a prod namespace",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, devTarget.path+"/kustomization.yaml", "namespace: payments-prod\nresources: [../../../payments-api/overlays/dev]\n")
			},
			target: devTarget,
		},
		{
			name: "hostile: a prod path that renders nothing",
			mutate: func(t *testing.T, root string) {
				cmpharness.WriteFile(t, root, prodPlain.path+"/main.jsonnet", "{}\n")
			},
			target: prodPlain,
		},
	}
}
