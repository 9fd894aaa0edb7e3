package extract

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// originRepo is a kustomize repository where images are set in three places: an
// overlay's images: entry, a base resource, and a component's resource.
var originRepo = map[string]string{
	"base/kustomization.yaml": "resources: [deployment.yaml]\n",
	"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/web:1.0
        - name: proxy
          image: ghcr.io/example/proxy:2.1
`,
	"components/backup/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cronjob.yaml]\n",
	"components/backup/cronjob.yaml": `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              image: ghcr.io/example/backup:0.3
`,
	"overlays/prod/kustomization.yaml": `namePrefix: prod-
resources:
  - ../../base
components:
  - ../../components/backup
patches:
  - target: {kind: Deployment}
    patch: |
      - op: move
        from: /spec/template/spec/containers/1
        path: /spec/template/spec/containers/0
  - path: sidecar.yaml
  - target: {kind: CronJob}
    patch: |
      - op: replace
        path: /spec/jobTemplate/spec/template/spec/containers/0/image
        value: ghcr.io/example/backup:0.4
images:
  - name: ghcr.io/example/web
    newTag: "1.1"
`,
	"overlays/dev/kustomization.yaml": "resources: [../../base]\ncomponents: [../../components/backup]\n",
	"overlays/prod/sidecar.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: log-shipper
          image: docker.io/fluent/fluent-bit:latest
`,
}

func TestImagesNameTheFileToEdit(t *testing.T) {
	repo := t.TempDir()
	for name, content := range originRepo {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type where struct{ image, file string }
	tests := []struct {
		app  string
		want map[where]int // line
	}{
		{"overlays/prod", map[where]int{
			{"ghcr.io/example/web:1.1", "overlays/prod/kustomization.yaml"}:      19, // the images: entry
			{"ghcr.io/example/proxy:2.1", "base/deployment.yaml"}:                12, // reordered by a patch: found by container name
			{"docker.io/fluent/fluent-bit:latest", "overlays/prod/sidecar.yaml"}: 10, // a container a patch file adds
			{"ghcr.io/example/backup:0.4", "overlays/prod/kustomization.yaml"}:   14, // an inline patch
		}},
		{"overlays/dev", map[where]int{
			{"ghcr.io/example/web:1.0", "base/deployment.yaml"}:              10,
			{"ghcr.io/example/proxy:2.1", "base/deployment.yaml"}:            12,
			{"ghcr.io/example/backup:0.3", "components/backup/cronjob.yaml"}: 13, // a component's resource
		}},
		{"base", map[where]int{
			{"ghcr.io/example/web:1.0", "base/deployment.yaml"}:   10,
			{"ghcr.io/example/proxy:2.1", "base/deployment.yaml"}: 12,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			g := NewWithT(t)
			res, err := render.Render(context.Background(), render.Options{Path: filepath.Join(repo, tt.app), RepoRoot: repo, Origins: true})
			g.Expect(err).NotTo(HaveOccurred())
			got := map[where]int{}
			for _, img := range Images(res.Documents, nil) {
				got[where{img.Raw, img.Source.File}] = img.Source.Line
			}
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestFieldNode(t *testing.T) {
	docs, err := decodeDocs("f.yaml", []byte(`spec:
  "odd.key":
    - name: a
      image: x
    - name: b
      image: "y"
  values:
    image: {repository: r, tag: t}
`))
	if err != nil {
		t.Fatal(err)
	}
	doc := docs[0].Node
	for _, tt := range []struct {
		path, container string
		line            int
	}{
		{`spec["odd.key"][1].image`, "", 6},
		{`spec["odd.key"][0].image`, "b", 6},
		{`spec.values.image.{repository,tag}`, "", 8},
		{`spec.nothing[3].image`, "", 0},
		{`spec["unterminated`, "", 0},
		{`spec["odd.key"][x]`, "", 0},
	} {
		n := fieldNode(doc, tt.path, tt.container)
		line := 0
		if n != nil {
			line = n.Line
		}
		if line != tt.line {
			t.Errorf("fieldNode(%q, %q): line %d, want %d", tt.path, tt.container, line, tt.line)
		}
	}
}

// For Helm, the values file and key that set the image: the digest or tag of the
// environment's values file, else the chart's values.yaml; the template when no value
// holds any part of the image.
func TestHelmImagesNameTheValuesKey(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples", "platform-config"))
	if err != nil {
		t.Fatal(err)
	}
	templated := t.TempDir()
	chart := filepath.Join(templated, "charts", "fixed")
	for name, content := range map[string]string{
		"Chart.yaml":                "apiVersion: v2\nname: fixed\nversion: 0.1.0\n",
		"values.yaml":               "replicaCount: 1\n",
		"templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: fixed}\nspec:\n  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/example/fixed:1\n",
	} {
		p := filepath.Join(chart, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, repo, chart string
		values            []string
		file, key         string
		line              int
	}{
		{"prod: the digest of values-prod.yaml", examples, "charts/payments-api", []string{"values-prod.yaml"}, "charts/payments-api/values-prod.yaml", "image.digest", 6},
		{"dev: the tag of values-dev.yaml", examples, "charts/payments-api", []string{"values-dev.yaml"}, "charts/payments-api/values-dev.yaml", "image.tag", 2},
		{"no values file: the repository in values.yaml", examples, "charts/payments-api", nil, "charts/payments-api/values.yaml", "image.repository", 4},
		{"an image written in the template", templated, "charts/fixed", nil, "charts/fixed/templates/deployment.yaml", "", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res, err := render.Render(context.Background(), render.Options{Path: filepath.Join(tt.repo, tt.chart), RepoRoot: tt.repo, ValuesFiles: tt.values})
			g.Expect(err).NotTo(HaveOccurred())
			images := Images(res.Documents, nil)
			g.Expect(images).To(HaveLen(1))
			src := images[0].Source
			g.Expect([]any{src.File, src.ValuesKey, src.Line}).To(Equal([]any{tt.file, tt.key, tt.line}))
		})
	}
}

func TestFindValueNeedsAStringUnderAnImageKey(t *testing.T) {
	docs, err := decodeDocs("v.yaml", []byte("replicaCount: \"1\"\nworkers: [\"1\"]\nsidecar:\n  imageTag: \"1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := NewWithT(t)
	n, key := findValue(docs[0].Node, "1", "", true)
	g.Expect(n).NotTo(BeNil())
	g.Expect(key).To(Equal("sidecar.imageTag"))
	_, key = findValue(docs[0].Node, "1", "", false)
	g.Expect(key).To(Equal("replicaCount"))
}
