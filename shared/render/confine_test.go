package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// tree writes files (path -> content) under dir; a content starting with "-> " makes
// a symlink to the rest.
func tree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
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
}

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"

const kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\n"

func TestConfinement(t *testing.T) {
	outside := t.TempDir()
	tree(t, outside, map[string]string{
		"secret.yaml":             strings.Replace(configMap, "%s", "stolen", 1),
		"base/kustomization.yaml": strings.Replace(kustomization, "%s", "cm.yaml", 1),
		"base/cm.yaml":            strings.Replace(configMap, "%s", "stolen", 1),
	})
	secret := filepath.Join(outside, "secret.yaml")
	chart := "apiVersion: v2\nname: c\nversion: 0.1.0\n"

	tests := []struct {
		name  string
		files map[string]string
		path  string   // the application, inside the repository
		ok    []string // names of the rendered documents, when the render must succeed
		says  []string // else the error wraps ErrOutsideRoot and says these
	}{
		{
			name:  "plain file linking out",
			files: map[string]string{"app/leak.yaml": "-> " + secret},
			path:  "app",
			says:  []string{"symlink app/leak.yaml -> " + secret},
		},
		{
			name: "plain file linking inside the repository",
			files: map[string]string{
				"shared/cm.yaml": strings.Replace(configMap, "%s", "shared", 1),
				"app/cm.yaml":    "-> ../shared/cm.yaml",
			},
			path: "app",
			ok:   []string{"shared"},
		},
		{
			name: "kustomize resource linking out",
			files: map[string]string{
				"app/kustomization.yaml": strings.Replace(kustomization, "%s", "leak.yaml", 1),
				"app/leak.yaml":          "-> " + secret,
			},
			path: "app",
			says: []string{"symlink app/leak.yaml -> " + secret},
		},
		{
			name: "kustomize base directory linking out",
			files: map[string]string{
				"app/kustomization.yaml": strings.Replace(kustomization, "%s", "base", 1),
				"app/base":               "-> " + filepath.Join(outside, "base"),
			},
			path: "app",
			says: []string{"symlink app/base -> " + filepath.Join(outside, "base")},
		},
		{
			name: "kustomize resource by absolute path outside",
			files: map[string]string{
				"app/kustomization.yaml": strings.Replace(kustomization, "%s", secret, 1),
			},
			path: "app",
			says: []string{secret, "outside the repository root"},
		},
		{
			name: "kustomize generator reading a file outside",
			files: map[string]string{
				"app/kustomization.yaml": "configMapGenerator:\n  - name: x\n    files:\n      - key=" + secret + "\n",
			},
			path: "app",
			says: []string{secret, "outside the repository root"},
		},
		{
			name: "kustomization file linking out",
			files: map[string]string{
				"app/kustomization.yaml": "-> " + filepath.Join(outside, "base", "kustomization.yaml"),
			},
			path: "app",
			says: []string{"symlink app/kustomization.yaml"},
		},
		{
			name: "helm template linking out",
			files: map[string]string{
				"chart/Chart.yaml":          chart,
				"chart/templates/leak.yaml": "-> " + secret,
			},
			path: "chart",
			says: []string{"symlink chart/templates/leak.yaml -> " + secret},
		},
		{
			name: "helm values.yaml linking out",
			files: map[string]string{
				"chart/Chart.yaml":  chart,
				"chart/values.yaml": "-> " + secret,
			},
			path: "chart",
			says: []string{"symlink chart/values.yaml"},
		},
		{
			name:  "application directory linking out",
			files: map[string]string{"app": "-> " + outside},
			path:  "app",
			says:  []string{"symlink app -> " + outside},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			root := t.TempDir()
			tree(t, root, tt.files)
			res, err := Render(context.Background(), Options{Path: filepath.Join(root, tt.path), RepoRoot: root})
			if tt.ok != nil {
				g.Expect(err).NotTo(HaveOccurred())
				var names []string
				for _, d := range res.Documents {
					names = append(names, field(d, "metadata", "name"))
				}
				g.Expect(names).To(Equal(tt.ok))
				return
			}
			g.Expect(err).To(HaveOccurred())
			t.Log(err)
			g.Expect(errors.Is(err, ErrOutsideRoot)).To(BeTrue(), "%v", err)
			for _, s := range tt.says {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
		})
	}
}

func TestChartSymlinkLoop(t *testing.T) {
	g := NewWithT(t)
	root := t.TempDir()
	tree(t, root, map[string]string{
		"chart/Chart.yaml":     "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"chart/templates/loop": "-> ..",
	})
	_, err := Render(context.Background(), Options{Path: filepath.Join(root, "chart")})
	g.Expect(err).To(MatchError(ContainSubstring("symlink loop")))
}

// TestFileOverDefaultLimit writes a file one byte over the default limit: the limit
// applies without any option set.
func TestFileOverDefaultLimit(t *testing.T) {
	g := NewWithT(t)
	root := t.TempDir()
	big := make([]byte, DefaultLimits().MaxFileBytes+1)
	copy(big, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  x: |\n")
	for i := 80; i < len(big); i++ {
		big[i] = 'x'
	}
	tree(t, root, map[string]string{"app/big.yaml": string(big)})
	_, err := Render(context.Background(), Options{Path: filepath.Join(root, "app"), RepoRoot: root})
	g.Expect(errors.Is(err, ErrLimit)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("app/big.yaml is 5242881 bytes, over the limit of 5242880 bytes per file"))
}
