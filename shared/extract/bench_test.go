package extract

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// benchDeployments is the size of the generated stream: the 5,000 Deployments the
// render benchmark uses.
const benchDeployments = 5000

// deploymentStream generates n Deployments with three images each (one shared by all,
// two distinct), about as large as real rendered manifests.
func deploymentStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: team-%[2]d
  labels: {app.kubernetes.io/name: app-%[1]d, app.kubernetes.io/part-of: bench}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: app-%[1]d}
  template:
    metadata:
      labels: {app.kubernetes.io/name: app-%[1]d}
    spec:
      serviceAccountName: app-%[1]d
      initContainers:
        - name: migrate
          image: ghcr.io/example/migrate:1.%[1]d.0
      containers:
        - name: app
          image: ghcr.io/example/app-%[1]d:1.2.%[1]d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          ports: [{containerPort: 8080, name: http}]
          env:
            - {name: LOG_LEVEL, value: info}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
        - name: proxy
          image: envoyproxy/envoy:v1.31.0
`, i, i%50)
	}
	return b.Bytes()
}

// BenchmarkImages extracts the images of 5,000 Deployments. Compare it with
// BenchmarkDecode, the YAML decoding any renderer does at least once for the same
// stream: extraction is meant to be a small fraction of it.
func BenchmarkImages(b *testing.B) {
	docs, err := decodeDocs("bench.yaml", deploymentStream(benchDeployments))
	if err != nil {
		b.Fatal(err)
	}
	fields := []policy.ImageField{{Kind: "HelmRelease", Path: "spec.values.image"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if got := Images(docs, fields); len(got) != 3*benchDeployments {
			b.Fatalf("got %d images", len(got))
		}
	}
}

// BenchmarkDecode is the reference for BenchmarkImages: decoding the same stream into
// yaml.v3 nodes.
func BenchmarkDecode(b *testing.B) {
	data := deploymentStream(benchDeployments)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeDocs("bench.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
