package check_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// exampleCopy is a writable copy of the example platform repository with files
// added ("-> target" makes a symlink).
func exampleCopy(t *testing.T, files map[string]string) string {
	t.Helper()
	repo := t.TempDir()
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(examples, "platform-config"))); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// TestRunClassifiesByEffect: a render counts as the strictest environment of what it
// was asked to render, the files it read and the namespaces its objects land in.
func TestRunClassifiesByEffect(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		path        string
		query       policy.Query
		values      []string
		wantEnv     string
		wantVerdict evaluate.Verdict
		wantBecause string // a substring of one reason; "" means none
	}{
		{
			name: "a dev overlay that includes the prod overlay and sets :latest",
			files: map[string]string{"apps/evil/overlays/dev/kustomization.yaml": "resources: [../../../payments-api/overlays/prod]\n" +
				"images: [{name: ghcr.io/example/payments-api, newTag: latest, digest: ''}]\n"},
			path:        "apps/evil/overlays/dev",
			query:       policy.Query{Application: "evil-dev"},
			wantEnv:     "prod",
			wantVerdict: evaluate.Denied,
			wantBecause: "the render read apps/payments-api/overlays/prod/kustomization.yaml",
		},
		{
			name:        "a dev overlay that renders into a prod namespace",
			files:       map[string]string{"apps/evil/overlays/dev/kustomization.yaml": "namespace: payments-prod\nresources: [../../../payments-api/base]\n"},
			path:        "apps/evil/overlays/dev",
			wantEnv:     "prod",
			wantVerdict: evaluate.Denied,
			wantBecause: `a rendered object lands in namespace payments-prod: namespace "payments-prod" matches "*-prod"`,
		},
		{
			name:        "a dev application that creates a prod namespace",
			files:       map[string]string{"apps/evil/overlays/dev/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-prod}\n"},
			path:        "apps/evil/overlays/dev",
			wantEnv:     "prod",
			wantVerdict: evaluate.Allowed,
			wantBecause: "a rendered object lands in namespace team-prod",
		},
		{
			name:        "a non-prod application that picks the prod values file",
			path:        "charts/payments-api",
			query:       policy.Query{Application: "payments-api-dev", Namespace: "payments-dev"},
			values:      []string{"values-prod.yaml"},
			wantEnv:     "prod",
			wantVerdict: evaluate.Allowed,
		},
		{
			name: "a chart template that reads the prod values through .Files and a link",
			files: map[string]string{
				"apps/evil/overlays/dev/chart/Chart.yaml":          "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
				"apps/evil/overlays/dev/chart/prod.yaml":           "-> ../../../../../charts/payments-api/values-prod.yaml",
				"apps/evil/overlays/dev/chart/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: copy}\ndata: {v: {{ .Files.Get \"prod.yaml\" | quote }}}\n",
				"apps/evil/overlays/dev/chart/templates/note.yaml": "",
			},
			path:        "apps/evil/overlays/dev/chart",
			wantEnv:     "prod",
			wantVerdict: evaluate.Allowed,
			wantBecause: "the render read charts/payments-api/values-prod.yaml",
		},
		{
			name:        "the shared chart with dev values stays dev: values-prod.yaml is only loaded",
			path:        "charts/payments-api",
			query:       policy.Query{Application: "payments-api-dev", Namespace: "payments-dev"},
			values:      []string{"values-dev.yaml"},
			wantEnv:     "dev",
			wantVerdict: evaluate.Warned,
		},
		{
			name:        "an unprotected render that reads only unprotected files stays unprotected",
			path:        "apps/payments-api/overlays/dev",
			wantEnv:     "dev",
			wantVerdict: evaluate.Warned,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo := exampleCopy(t, tt.files)
			out := check.Run(context.Background(), check.Request{
				Path: filepath.Join(repo, tt.path), RepoRoot: repo, Policy: examplePolicy(t), Query: tt.query,
				Render: render.Options{ValuesFiles: tt.values},
			})
			g.Expect(out.Err).NotTo(HaveOccurred())
			g.Expect(out.Result.Environment).To(Equal(tt.wantEnv))
			g.Expect(out.Result.Verdict).To(Equal(tt.wantVerdict))
			if tt.wantBecause == "" {
				g.Expect(out.Result.Because).To(BeEmpty())
				return
			}
			g.Expect(out.Result.Because).To(ContainElement(ContainSubstring(tt.wantBecause)))
			g.Expect(out.Result.Protected).To(BeTrue())
		})
	}
}

// TestRunRefusesAnEmptyProtectedRender: Argo CD would prune everything.
func TestRunRefusesAnEmptyProtectedRender(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		path        string
		wantVerdict evaluate.Verdict
		wantMessage string
	}{
		{"a Jsonnet directory on a prod path", map[string]string{"apps/x/overlays/prod/main.jsonnet": "{}"}, "apps/x/overlays/prod", evaluate.Denied, "Jsonnet directory (main.jsonnet)"},
		{"an empty directory on a prod path", map[string]string{"apps/x/overlays/prod/README.md": "# x"}, "apps/x/overlays/prod", evaluate.Denied, "holds no *.yaml, *.yml or *.json file (it holds README.md)"},
		{"YAML without objects on a prod path", map[string]string{"apps/x/overlays/prod/empty.yaml": "# nothing\n---\n"}, "apps/x/overlays/prod", evaluate.Denied, "its YAML files hold no Kubernetes object"},
		{"a kustomization without resources on a prod path", map[string]string{"apps/x/overlays/prod/kustomization.yaml": "namePrefix: x-\n"}, "apps/x/overlays/prod", evaluate.Denied, "the kustomize render produced no object"},
		{"an empty dev directory passes with a notice", map[string]string{"apps/x/overlays/dev/main.jsonnet": "{}"}, "apps/x/overlays/dev", evaluate.Allowed, "Jsonnet directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo := exampleCopy(t, tt.files)
			out := check.Run(context.Background(), check.Request{Path: filepath.Join(repo, tt.path), RepoRoot: repo, Policy: examplePolicy(t)})
			g.Expect(out.Result.Verdict).To(Equal(tt.wantVerdict))
			if tt.wantVerdict == evaluate.Denied {
				g.Expect(out.Err).To(MatchError(check.ErrNothingRendered))
				g.Expect(out.Err.Error()).To(ContainSubstring(tt.wantMessage))
				g.Expect(out.Err.Error()).To(ContainSubstring("Argo CD would prune every object"))
				return
			}
			g.Expect(out.Err).NotTo(HaveOccurred())
			g.Expect(out.Result.Notices).To(ContainElement(ContainSubstring(tt.wantMessage)))
		})
	}
}
