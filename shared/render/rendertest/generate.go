// Package rendertest builds render inputs for tests and benchmarks of the packages
// that render: large generated kustomizations that nobody wants to commit.
package rendertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

// Digest is the digest the generated overlay pins every image to, so that the
// generated application passes a digest-pinning policy and a benchmark measures the
// whole evaluation, not an early refusal.
const Digest = "sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6"

// perFile is how many Deployments share a base file: real repositories keep several
// related objects per file, and 5,000 files would measure the disk, not kustomize.
const perFile = 50

// GenerateKustomization writes, under dir, a kustomize overlay of n Deployments:
// dir/base holds the Deployments (a mutable tag, as a shared base usually has) and
// their kustomization; dir/kustomization.yaml is the overlay that sets a namespace
// and pins the image by digest with an images: entry — the shape of a production
// overlay. Render dir to get n Deployments.
//
// kustomize's build time grows with the square of the number of resources (every
// append and name reference scans the resource map), so n = 5,000 takes minutes.
func GenerateKustomization(dir string, n int) error {
	base := filepath.Join(dir, "base")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("generate kustomization in %s: %w", dir, err)
	}
	var files []string
	for first := 0; first < n; first += perFile {
		name := fmt.Sprintf("deployments-%05d.yaml", first)
		var buf bytes.Buffer
		for i := first; i < n && i < first+perFile; i++ {
			if err := deployment.Execute(&buf, i); err != nil {
				return fmt.Errorf("generate deployment %d: %w", i, err)
			}
		}
		if err := os.WriteFile(filepath.Join(base, name), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("generate kustomization in %s: %w", dir, err)
		}
		files = append(files, name)
	}
	var k bytes.Buffer
	k.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, f := range files {
		fmt.Fprintf(&k, "  - %s\n", f)
	}
	if err := os.WriteFile(filepath.Join(base, "kustomization.yaml"), k.Bytes(), 0o644); err != nil {
		return fmt.Errorf("generate kustomization in %s: %w", dir, err)
	}
	overlay := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: bench-prod
resources:
  - base
images:
  - name: ghcr.io/example/bench
    newTag: 1.2.3
    digest: %s
`, Digest)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		return fmt.Errorf("generate kustomization in %s: %w", dir, err)
	}
	return nil
}

var deployment = template.Must(template.New("deployment").Parse(`---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{.}}
  labels:
    app.kubernetes.io/name: app-{{.}}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{{.}}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{{.}}
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/example/bench:1.2.3
          args: ["migrate", "--service", "app-{{.}}"]
      containers:
        - name: app
          image: ghcr.io/example/bench:1.2.3
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
`))

// GenerateChart writes, under dir, a Helm chart of n Deployments rendered by one
// template that ranges over a list in values-prod.yaml, each image pinned by Digest —
// the shape of a chart that deploys a fleet of services. Render dir with the values
// file "values-prod.yaml" to get n Deployments.
func GenerateChart(dir string, n int) error {
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		return err
	}
	var values bytes.Buffer
	values.WriteString("replicaCount: 2\nservices:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&values, "  - {name: svc-%d, repository: ghcr.io/example/svc-%d, tag: 1.0.%d, digest: %q}\n", i, i%50, i%7, Digest)
	}
	files := map[string]string{
		"Chart.yaml":                 "apiVersion: v2\nname: fleet\nversion: 0.1.0\n",
		"values.yaml":                "replicaCount: 1\nresources:\n  requests: {cpu: 50m, memory: 64Mi}\nservices: []\n",
		"values-prod.yaml":           values.String(),
		"templates/deployments.yaml": chartTemplate,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

const chartTemplate = `{{- range .Values.services }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels:
    app.kubernetes.io/name: {{ .name }}
    app.kubernetes.io/instance: {{ $.Release.Name }}
spec:
  replicas: {{ $.Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .name }}
    spec:
      containers:
        - name: app
          image: "{{ .repository }}:{{ .tag }}@{{ .digest }}"
          ports:
            - name: http
              containerPort: 8080
          resources:
            {{- toYaml $.Values.resources | nindent 12 }}
{{- end }}
`
