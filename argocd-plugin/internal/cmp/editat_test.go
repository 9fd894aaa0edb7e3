package cmp

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/extract"
)

// The refusal names the file to edit: the overlay's images: entry for a kustomize
// overlay, the values file and key for a Helm chart.
func TestRefusalNamesTheFileToEdit(t *testing.T) {
	repo := copyExamples(t)
	k := filepath.Join(repo, prodPath, "kustomization.yaml")
	data, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAll(data, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	v := filepath.Join(repo, "charts/payments-api/values-prod.yaml")
	data, err = os.ReadFile(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v, regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAll(data, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		environ    []string
		want       string
	}{
		{"kustomize overlay", prodPath, nil, "; set in apps/payments-api/overlays/prod/kustomization.yaml:8\n"},
		{"helm values", "charts/payments-api", []string{`ARGOCD_APP_PARAMETERS=[{"name":"values-files","array":["values-prod.yaml"]}]`},
			"; set in charts/payments-api/values-prod.yaml:5 (image.tag)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			code, _, stderr := generate(t, repo, tt.path, settings(t), tt.environ...)
			g.Expect(code).To(Equal(ExitRefused), stderr)
			g.Expect(stderr).To(ContainSubstring(tt.want))
		})
	}
}

func TestEditAt(t *testing.T) {
	for _, tt := range []struct {
		src  extract.Source
		want string
	}{
		{extract.Source{File: "apps/x/overlays/prod", Document: 1}, ""}, // the application path alone
		{extract.Source{File: "apps/x/base/deployment.yaml", Line: 19}, "apps/x/base/deployment.yaml:19"},
		{extract.Source{File: "charts/x/values-prod.yaml", Line: 5, ValuesKey: "image.tag"}, "charts/x/values-prod.yaml:5 (image.tag)"},
	} {
		if got := editAt(tt.src); got != tt.want {
			t.Errorf("editAt(%+v) = %q, want %q", tt.src, got, tt.want)
		}
	}
}
