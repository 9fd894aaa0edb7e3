package main

import (
	"path/filepath"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
)

// A finding names the file and line to edit, in every report format: the prod overlay's
// images: entry when the overlay sets the image, the base's resource when the base does,
// the values file and key for Helm.
func TestFindingsNameTheFileToEdit(t *testing.T) {
	const (
		overlayEntry = "apps/payments-api/overlays/prod/kustomization.yaml"
		baseResource = "apps/payments-api/base/deployment.yaml"
		valuesProd   = "charts/payments-api/values-prod.yaml"
	)
	// The base's own image, on a tag: reached by no images: entry when the base renders.
	baseLatest := func(t *testing.T, repo, _ string) {
		edit(t, filepath.Join(repo, baseResource), func(s string) string {
			return regexp.MustCompile(`(?m)^(\s+image: )\S+`).ReplaceAllString(s, "${1}ghcr.io/example/payments-api:latest")
		})
	}
	helmLatest := func(t *testing.T, repo, _ string) {
		edit(t, filepath.Join(repo, valuesProd), func(s string) string {
			s = regexp.MustCompile(`(?m)^(\s+tag: )\S+`).ReplaceAllString(s, "${1}latest")
			return regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAllString(s, "")
		})
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, repo, policyDir string)
		path   string
		args   []string
		format string
		want   []string
	}{
		{"overlay, text", setProdTag("latest"), "apps/payments-api/overlays/prod", nil, "text", []string{overlayEntry + ":8 (document 1)"}},
		{"overlay, markdown", setProdTag("latest"), "apps/payments-api/overlays/prod", nil, "markdown", []string{"`" + overlayEntry + ":8`"}},
		{"overlay, sarif", setProdTag("latest"), "apps/payments-api/overlays/prod", nil, "sarif", []string{`"uri": "` + overlayEntry + `"`, `"startLine": 8`}},
		{"overlay, json", setProdTag("latest"), "apps/payments-api/overlays/prod", nil, "json", []string{`"file": "` + overlayEntry + `"`, `"line": 8`}},
		{"base, text", baseLatest, "apps/payments-api/base", []string{"--env", "prod"}, "text", []string{baseResource + ":19 (document 1)"}},
		{"base, sarif", baseLatest, "apps/payments-api/base", []string{"--env", "prod"}, "sarif", []string{`"uri": "` + baseResource + `"`, `"startLine": 19`}},
		{"helm values, text", helmLatest, "charts/payments-api", []string{"-f", "values-prod.yaml"}, "text", []string{valuesProd + ":5 (image.tag)"}},
		{"helm values, markdown", helmLatest, "charts/payments-api", []string{"-f", "values-prod.yaml"}, "markdown", []string{"`" + valuesProd + ":5 (image.tag)`"}},
		{"helm values, sarif", helmLatest, "charts/payments-api", []string{"-f", "values-prod.yaml"}, "sarif", []string{`"uri": "` + valuesProd + `"`, `"startLine": 5`, "(values key image.tag)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			tt.setup(t, repo, policyDir)
			args := append([]string{"check", filepath.Join(repo, tt.path), "--policy", policyDir, "--repo-root", repo, "-o", tt.format}, tt.args...)
			code, out, errOut := execute(t, args...)
			g.Expect(code).To(Equal(exitDenied), "stdout: %s\nstderr: %s", out, errOut)
			for _, w := range tt.want {
				g.Expect(out).To(ContainSubstring(w))
			}
		})
	}
}
