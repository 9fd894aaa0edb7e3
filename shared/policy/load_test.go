package policy

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		file := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	envDoc := header + "spec:\n" + prodEnv
	ruleDoc := header + "spec:\n" + digestRule
	tests := []struct {
		name    string
		files   map[string]string
		path    string // relative to the test directory; "" = the directory
		sources []string
		want    string // error substring
	}{
		{name: "one file", files: map[string]string{"p.yaml": envDoc}, path: "p.yaml", sources: []string{"p.yaml"}},
		{name: "directory of .yaml and .yml, other files and subdirectories ignored",
			files: map[string]string{
				"b-rules.yml": ruleDoc, "a-env.yaml": envDoc, "README.md": "not policy",
				"sub/c.yaml": "not: loaded", "values.json": "{}",
			},
			sources: []string{"a-env.yaml", "b-rules.yml"}},
		{name: "error names the file", files: map[string]string{"a.yaml": envDoc, "b.yaml": header + "spec:\n  rules:\n    - {name: x, requireDigests: true}\n"},
			want: `b.yaml: line 6: unknown field "requireDigests" in rule`},
		{name: "empty directory", files: map[string]string{"notes.txt": "x"}, want: "the directory holds no *.yaml or *.yml files"},
		{name: "missing path", path: "nope", want: "load policy "},
		{name: "empty file", files: map[string]string{"p.yaml": ""}, path: "p.yaml", want: "no PromotionPolicy documents found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			s, err := Load(filepath.Join(dir, tt.path))
			if tt.want != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.want)))
				g.Expect(err.Error()).To(ContainSubstring(dir), "the error names the input")
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			var want []string
			for _, s := range tt.sources {
				want = append(want, filepath.Join(dir, s))
			}
			g.Expect(s.Sources).To(Equal(want))
		})
	}
}

// TestLoadProjectedConfigMap loads a directory laid out the way the kubelet projects a
// ConfigMap volume: the keys are symlinks through "..data" to a timestamped directory.
func TestLoadProjectedConfigMap(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"..2026_01_01_00_00_00.1/prod.yaml": basePolicy})
	g.Expect(os.Symlink("..2026_01_01_00_00_00.1", filepath.Join(dir, "..data"))).To(Succeed())
	g.Expect(os.Symlink("..data/prod.yaml", filepath.Join(dir, "prod.yaml"))).To(Succeed())
	s, err := Load(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Sources).To(Equal([]string{filepath.Join(dir, "prod.yaml")}))
}

func TestFromConfigMaps(t *testing.T) {
	cm := func(ns, name string, labels, data map[string]string) ConfigMap {
		return ConfigMap{Namespace: ns, Name: name, Labels: labels, Data: data}
	}
	policyLabel := map[string]string{ConfigMapLabel: "true"}
	tests := []struct {
		name    string
		cms     []ConfigMap
		sources []string
		want    string
	}{
		{
			name: "labelled ConfigMaps, yaml keys only, several documents in one key",
			cms: []ConfigMap{
				cm("flux-system", "rules", policyLabel, map[string]string{
					"rules.yml": header + "spec:\n" + digestRule + "---\n" + header + "spec:\n  rules:\n    - {name: tags, denyTags: [latest]}\n",
					"README":    "ignored",
				}),
				cm("flux-system", "envs", policyLabel, map[string]string{"prod.yaml": header + "spec:\n" + prodEnv}),
				cm("flux-system", "other", map[string]string{ConfigMapLabel: "false"}, map[string]string{"x.yaml": "broken: ["}),
				cm("flux-system", "unlabelled", nil, map[string]string{"x.yaml": "broken: ["}),
			},
			sources: []string{"configmap flux-system/envs key prod.yaml", "configmap flux-system/rules key rules.yml"},
		},
		{
			name: "errors name the ConfigMap and key",
			cms: []ConfigMap{cm("flux-system", "platform", policyLabel, map[string]string{
				"prod.yaml": header + "spec:\n  rules:\n    - name: r\n      requireDigests: true\n",
			})},
			want: `policy configmap flux-system/platform key prod.yaml: line 7: unknown field "requireDigests" in rule; check the spelling against docs/policy.md`,
		},
		{
			name: "no labelled ConfigMap",
			cms:  []ConfigMap{cm("flux-system", "unlabelled", nil, map[string]string{"x.yaml": basePolicy})},
			want: `no ConfigMap is labelled promotion-gate.io/policy: "true"`,
		},
		{
			name: "labelled ConfigMap without yaml keys",
			cms:  []ConfigMap{cm("flux-system", "p", policyLabel, map[string]string{"policy.json": "{}"})},
			want: "have no *.yaml or *.yml data keys",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s, err := FromConfigMaps(tt.cms)
			if tt.want != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.want)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Sources).To(Equal(tt.sources))
			g.Expect(s.Rules).To(HaveLen(2))
		})
	}
}

// TestLoadAndConfigMapsAgree checks that the same documents give the same revision
// whether they come from files (the Argo CD plugin) or from ConfigMaps (flux-gate).
func TestLoadAndConfigMapsAgree(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"base.yaml": basePolicy})
	fromFile, err := Load(dir)
	g.Expect(err).NotTo(HaveOccurred())
	fromCM, err := FromConfigMaps([]ConfigMap{{
		Namespace: "flux-system", Name: "platform", Labels: map[string]string{ConfigMapLabel: "true"},
		Data: map[string]string{"base.yaml": basePolicy},
	}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fromCM.Revision).To(Equal(fromFile.Revision))
}
