package changescope_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  replicas: %REPLICAS%
  template:
    spec:
      containers:
        - name: api
          image: %IMAGE% # {"$imagepolicy": "flux-system:payments-api"}
          env:
            - name: LOG_LEVEL
              value: %LOG%
`

func deploy(replicas, image, log string) string {
	return strings.NewReplacer("%REPLICAS%", replicas, "%IMAGE%", image, "%LOG%", log).Replace(deployment)
}

const values = `replicaCount: %N%
image:
  repository: ghcr.io/example/payments-api # {"$imagepolicy": "flux-system:payments-api:name"}
  tag: %TAG% # {"$imagepolicy": "flux-system:payments-api:tag"}
`

func vals(n, tag string) string {
	return strings.NewReplacer("%N%", n, "%TAG%", tag).Replace(values)
}

const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: %PREFIX%
images:
  - name: payments-api
    newName: ghcr.io/example/payments-api
    newTag: %TAG%
`

func kust(prefix, tag string) string {
	return strings.NewReplacer("%PREFIX%", prefix, "%TAG%", tag).Replace(kustomization)
}

const service = `apiVersion: v1
kind: Service
metadata:
  name: payments-api
  namespace: payments
spec:
  ports: [{port: 80}]
`

const helmRelease = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: payments-api
  namespace: payments
spec:
  values:
    image: %IMAGE%
    replicas: 2
`

func TestDiff(t *testing.T) {
	tests := []struct {
		name       string
		base, head map[string]string
		fields     []policy.ImageField
	}{
		{
			name: "image-only",
			base: map[string]string{"prod/deploy.yaml": deploy("2", "ghcr.io/example/payments-api:v1.0.0", "info")},
			head: map[string]string{"prod/deploy.yaml": deploy("2", "ghcr.io/example/payments-api:v1.1.0@sha256:"+strings.Repeat("a", 64), "info")},
		},
		{
			name: "replicas",
			base: map[string]string{"prod/deploy.yaml": deploy("2", "ghcr.io/example/payments-api:v1.0.0", "info")},
			head: map[string]string{"prod/deploy.yaml": deploy("5", "ghcr.io/example/payments-api:v1.1.0", "info")},
		},
		{
			name: "env-and-type",
			base: map[string]string{"prod/deploy.yaml": deploy("2", "ghcr.io/example/payments-api:v1.0.0", "info")},
			head: map[string]string{"prod/deploy.yaml": deploy(`"2"`, "ghcr.io/example/payments-api:v1.0.0", "debug")},
		},
		{
			name: "helm-values-split-setters",
			base: map[string]string{"prod/values.yaml": vals("2", "v1.0.0")},
			head: map[string]string{"prod/values.yaml": vals("3", "v1.1.0")},
		},
		{
			name: "kustomization-images",
			base: map[string]string{"prod/kustomization.yaml": kust("prod-", "v1.0.0")},
			head: map[string]string{"prod/kustomization.yaml": kust("live-", "v1.1.0")},
		},
		{
			name:   "policy-image-fields",
			base:   map[string]string{"prod/hr.yaml": strings.Replace(helmRelease, "%IMAGE%", "ghcr.io/example/payments-api:v1", 1)},
			head:   map[string]string{"prod/hr.yaml": strings.Replace(helmRelease, "%IMAGE%", "ghcr.io/example/payments-api:v2", 1)},
			fields: []policy.ImageField{{Kind: "HelmRelease", Path: "spec.values.image"}},
		},
		{
			name: "documents-added-removed-reordered",
			base: map[string]string{
				"prod/all.yaml":  deploy("2", "ghcr.io/example/payments-api:v1", "info") + "---\n" + service,
				"prod/old.yaml":  "a: 1\n",
				"prod/same.yaml": "a: 1\n",
			},
			head: map[string]string{
				"prod/all.yaml":  service + "---\n" + deploy("2", "ghcr.io/example/payments-api:v2", "info") + "---\n" + strings.Replace(service, "name: payments-api", "name: payments-admin", 1),
				"prod/new.yaml":  "a: 1\nb: [1, 2]\n",
				"prod/same.yaml": "a: 1\nb: {c: d}\n",
			},
		},
		{
			name: "lists-grow-and-shrink",
			base: map[string]string{"prod/x.yaml": "args: [a, b, c]\nports: [80]\n"},
			head: map[string]string{"prod/x.yaml": "args: [a, b]\nports: [80, 443]\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			changes := changescope.Diff(parse(t, tt.base), parse(t, tt.head), tt.fields)
			var lines []string
			for _, c := range changes {
				lines = append(lines, c.String())
			}
			got := "(no changes)\n"
			if len(lines) > 0 {
				got = strings.Join(lines, "\n") + "\n"
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				g.Expect(os.WriteFile(golden, []byte(got), 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(golden)
			g.Expect(err).NotTo(HaveOccurred(), "run go test -update to create %s", golden)
			g.Expect(got).To(Equal(string(want)))
		})
	}
}

// parse reads files in name order, so that tests do not depend on map order.
func parse(t *testing.T, files map[string]string) []render.Document {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var docs []render.Document
	for _, n := range names {
		d, err := render.ParseDocuments(n, []byte(files[n]), render.DefaultLimits())
		if err != nil {
			t.Fatalf("parse %s: %v", n, err)
		}
		docs = append(docs, d...)
	}
	return docs
}

func TestChangeFields(t *testing.T) {
	g := NewWithT(t)
	base := parse(t, map[string]string{"prod/deploy.yaml": deploy("2", "ghcr.io/example/payments-api:v1", "info")})
	head := parse(t, map[string]string{"prod/deploy.yaml": deploy("5", "ghcr.io/example/payments-api:v2", "info")})
	g.Expect(changescope.Diff(base, head, nil)).To(Equal([]changescope.Change{{
		File: "prod/deploy.yaml", Document: 0, Kind: "Deployment", Namespace: "payments", Name: "payments-api",
		Field: "spec.replicas", Op: changescope.Changed, Old: "2", New: "5",
	}}))
	g.Expect(changescope.FileChanged("prod/script.sh").String()).To(Equal("file prod/script.sh changed"))
}
