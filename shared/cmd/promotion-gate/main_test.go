package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const (
	prodDigest = "sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6"
	prodKust   = "apps/payments-api/overlays/prod/kustomization.yaml"
)

// exampleRepo copies examples/platform-config and examples/policy into a temporary
// directory, so each case can break its own copy.
func exampleRepo(t *testing.T) (repo, policyDir string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "platform-config")
	policyDir = filepath.Join(dir, "policy")
	copyTree(t, filepath.Join("..", "..", "..", "examples", "platform-config"), repo)
	copyTree(t, filepath.Join("..", "..", "..", "examples", "policy"), policyDir)
	return repo, policyDir
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}

func edit(t *testing.T, file string, fn func(string) string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(fn(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setProdTag replaces the prod overlay's tag and digest with a bare tag.
func setProdTag(tag string) func(t *testing.T, repo, policyDir string) {
	return func(t *testing.T, repo, _ string) {
		edit(t, filepath.Join(repo, prodKust), func(s string) string {
			s = regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAllString(s, "")
			return regexp.MustCompile(`newTag: 1\.8\.3`).ReplaceAllString(s, "newTag: "+tag)
		})
	}
}

func execute(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckVerdicts(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(t *testing.T, repo, policyDir string)
		path     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "prod pinned by digest", path: "apps/payments-api/overlays/prod", wantCode: 0,
			wantOut: []string{"Allowed", "prod"}},
		{name: "prod on latest", setup: setProdTag("latest"), path: "apps/payments-api/overlays/prod", wantCode: 1,
			wantOut: []string{"Denied", "Deployment", "payments-api", "api", "ghcr.io/example/payments-api:latest", "prod-immutable-images", "fix:"}},
		{name: "prod on a release tag without digest", setup: setProdTag("1.8.3"), path: "apps/payments-api/overlays/prod", wantCode: 1,
			wantOut: []string{"Denied", "ghcr.io/example/payments-api:1.8.3", "prod-immutable-images", "digest"}},
		{name: "dev on a mutable tag warns", path: "apps/payments-api/overlays/dev", wantCode: 0,
			wantOut: []string{"Warned", "preprod-prefer-digests", "ghcr.io/example/payments-api:main"}},
		{name: "staging warns", path: "apps/payments-api/overlays/staging", wantCode: 0,
			wantOut: []string{"Warned"}},
		{name: "helm chart with prod values", path: "charts/payments-api", args: []string{"-f", "values-prod.yaml"}, wantCode: 0,
			wantOut: []string{"Allowed", "prod"}},
		{name: "helm chart with prod values on a tag", path: "charts/payments-api", args: []string{"-f", "values-prod.yaml"},
			setup: func(t *testing.T, repo, _ string) {
				edit(t, filepath.Join(repo, "charts/payments-api/values-prod.yaml"), func(s string) string {
					return regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAllString(s, "")
				})
			},
			wantCode: 1, wantOut: []string{"Denied", "ghcr.io/example/payments-api:1.8.3", "prod-immutable-images"}},
		{name: "helm chart with dev values", path: "charts/payments-api", args: []string{"-f", "values-dev.yaml"}, wantCode: 0,
			wantOut: []string{"Warned"}},
		{name: "a requested environment makes dev stricter", path: "apps/payments-api/overlays/dev", args: []string{"--env", "prod"}, wantCode: 1,
			wantOut: []string{"Denied", "prod-immutable-images"}},
		{name: "a requested environment cannot make prod weaker", setup: setProdTag("latest"), path: "apps/payments-api/overlays/prod", args: []string{"--env", "dev"}, wantCode: 1,
			wantOut: []string{"Denied"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			if tc.setup != nil {
				tc.setup(t, repo, policyDir)
			}
			args := append([]string{"check", filepath.Join(repo, tc.path), "--policy", policyDir, "--repo-root", repo}, tc.args...)
			code, out, errOut := execute(t, args...)
			g.Expect(code).To(Equal(tc.wantCode), "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, w := range tc.wantOut {
				g.Expect(out).To(ContainSubstring(w))
			}
		})
	}
}

// TestHelmAndKustomizeAgree checks the seed's two ways of writing prod give the same
// verdicts and findings for the same images.
func TestHelmAndKustomizeAgree(t *testing.T) {
	for _, tag := range []string{"", "latest", "1.8.3"} {
		t.Run("tag="+tag, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			if tag != "" {
				setProdTag(tag)(t, repo, policyDir)
				edit(t, filepath.Join(repo, "charts/payments-api/values-prod.yaml"), func(s string) string {
					s = regexp.MustCompile(`(?m)^\s+digest: .*\n`).ReplaceAllString(s, "")
					return regexp.MustCompile(`tag: 1\.8\.3`).ReplaceAllString(s, "tag: "+tag)
				})
			}
			kust := jsonVerdict(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"), "--policy", policyDir, "--repo-root", repo, "-o", "json")
			helm := jsonVerdict(t, "check", filepath.Join(repo, "charts/payments-api"), "-f", "values-prod.yaml", "--policy", policyDir, "--repo-root", repo, "-o", "json")
			g.Expect(helm).To(Equal(kust))
		})
	}
}

// jsonVerdict runs a check with JSON output and returns what must agree between two
// renderings of the same images: verdict, environment, and each finding's rule and image.
func jsonVerdict(t *testing.T, args ...string) []string {
	t.Helper()
	_, out, errOut := execute(t, args...)
	var doc struct {
		Results []struct {
			Verdict     string `json:"verdict"`
			Environment string `json:"environment"`
			Findings    []struct {
				Rule  string `json:"rule"`
				Image string `json:"image"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("decode JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var got []string
	for _, r := range doc.Results {
		got = append(got, r.Verdict+" "+r.Environment)
		for _, f := range r.Findings {
			got = append(got, f.Rule+" "+f.Image)
		}
	}
	return got
}

func TestBrokenInputs(t *testing.T) {
	const prodPath = "apps/payments-api/overlays/prod"
	cases := []struct {
		name string
		// setup breaks the copy and returns the text the error must name.
		setup func(t *testing.T, repo, policyDir string) string
		path  string
	}{
		{name: "malformed YAML", setup: func(t *testing.T, repo, _ string) string {
			write(t, filepath.Join(repo, prodPath, "patch-replicas.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payments-api\nspec: [\n")
			return "patch-replicas.yaml"
		}},
		{name: "unknown policy field", setup: func(t *testing.T, _, policyDir string) string {
			edit(t, filepath.Join(policyDir, "platform-baseline.yaml"), func(s string) string {
				return strings.Replace(s, "requireDigest: true", "requireDigests: true", 1)
			})
			return "requireDigests"
		}},
		{name: "invalid glob", setup: func(t *testing.T, _, policyDir string) string {
			edit(t, filepath.Join(policyDir, "platform-baseline.yaml"), func(s string) string {
				return strings.Replace(s, `"clusters/prod/**"`, `"clusters/[prod/**"`, 1)
			})
			return "clusters/[prod/**"
		}},
		{name: "invalid regex", setup: func(t *testing.T, _, policyDir string) string {
			edit(t, filepath.Join(policyDir, "platform-baseline.yaml"), func(s string) string {
				return strings.Replace(s, "requireDigest: true\n      denyTags", "requireDigest: true\n      tagPattern: '^v(\\d+$'\n      denyTags", 1)
			})
			return "tagPattern"
		}},
		{name: "environment defined twice", setup: func(t *testing.T, _, policyDir string) string {
			write(t, filepath.Join(policyDir, "team.yaml"), `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: team}
spec:
  environments:
    - name: prod
      match: {paths: ["apps/*/overlays/production/**"]}
`)
			return "prod"
		}},
		{name: "kustomization references a missing file", setup: func(t *testing.T, repo, _ string) string {
			edit(t, filepath.Join(repo, prodKust), func(s string) string {
				return strings.Replace(s, "path: patch-replicas.yaml", "path: patch-missing.yaml", 1)
			})
			return "patch-missing.yaml"
		}},
		{name: "symlink out of the repository", setup: func(t *testing.T, repo, _ string) string {
			outside := filepath.Join(filepath.Dir(repo), "outside.yaml")
			write(t, outside, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\n")
			if err := os.Symlink(outside, filepath.Join(repo, prodPath, "stolen.yaml")); err != nil {
				t.Fatal(err)
			}
			edit(t, filepath.Join(repo, prodKust), func(s string) string {
				return strings.Replace(s, "  - ../../base\n", "  - ../../base\n  - stolen.yaml\n", 1)
			})
			return "stolen.yaml"
		}},
		{name: "YAML alias bomb", setup: func(t *testing.T, repo, _ string) string {
			var b strings.Builder
			b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
			for i := 1; i < 10; i++ {
				b.WriteString("  a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
				for j := 0; j < 9; j++ {
					if j > 0 {
						b.WriteString(",")
					}
					b.WriteString("*a" + string(rune('0'+i-1)))
				}
				b.WriteString("]\n")
			}
			write(t, filepath.Join(repo, prodPath, "bomb.yaml"), b.String())
			edit(t, filepath.Join(repo, prodKust), func(s string) string {
				return strings.Replace(s, "  - ../../base\n", "  - ../../base\n  - bomb.yaml\n", 1)
			})
			return "bomb.yaml"
		}},
		{name: "input over the size limit", setup: func(t *testing.T, repo, _ string) string {
			big := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: \"" + strings.Repeat("x", 6<<20) + "\"\n"
			write(t, filepath.Join(repo, prodPath, "big.yaml"), big)
			edit(t, filepath.Join(repo, prodKust), func(s string) string {
				return strings.Replace(s, "  - ../../base\n", "  - ../../base\n  - big.yaml\n", 1)
			})
			return "big.yaml"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			input := tc.setup(t, repo, policyDir)
			code, out, errOut := execute(t, "check", filepath.Join(repo, prodPath), "--policy", policyDir, "--repo-root", repo)
			g.Expect(code).To(Equal(exitConfig), "stdout:\n%s\nstderr:\n%s", out, errOut)
			g.Expect(strings.Count(strings.TrimSpace(errOut), "\n")).To(BeZero(), "the error is one line: %q", errOut)
			g.Expect(errOut).To(ContainSubstring(input))
			g.Expect(out).To(ContainSubstring("Denied"), "a broken input in prod is never allowed")
		})
	}
}

// TestUnreadablePolicyFailsClosed: with no usable policy, a protected environment is
// denied — the gate never invents an Allowed verdict.
func TestUnreadablePolicyFailsClosed(t *testing.T) {
	for name, policyArg := range map[string]func(policyDir string) string{
		"missing":   func(d string) string { return filepath.Join(d, "does-not-exist") },
		"not YAML":  func(d string) string { write(t, filepath.Join(d, "x.yaml"), "\x00\x01: [\n"); return d },
		"directory": func(d string) string { return filepath.Join(d, "empty") },
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			g.Expect(os.MkdirAll(filepath.Join(policyDir, "empty"), 0o755)).To(Succeed())
			code, out, errOut := execute(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"),
				"--policy", policyArg(policyDir), "--repo-root", repo, "--env", "prod", "-o", "json")
			g.Expect(code).To(Equal(exitConfig), "stderr: %s", errOut)
			g.Expect(out).To(ContainSubstring(`"verdict": "Denied"`))
		})
	}
}

func TestPolicyValidateAndExplain(t *testing.T) {
	g := NewWithT(t)
	repo, policyDir := exampleRepo(t)

	code, out, errOut := execute(t, "policy", "validate", policyDir)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(MatchRegexp(`is valid: 3 environments, 2 rules, 0 exemptions`))
	g.Expect(out).To(MatchRegexp(`revision: sha256:[0-9a-f]{64}`))

	code, out, errOut = execute(t, "explain", filepath.Join(repo, "apps/payments-api/overlays/prod"), "--policy", policyDir, "--repo-root", repo)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("environment: prod"))
	g.Expect(out).To(ContainSubstring("protected:   true"))
	g.Expect(out).To(ContainSubstring("prod-immutable-images (deny)"))

	code, _, errOut = execute(t, "check", "--policy", policyDir)
	g.Expect(code).To(Equal(exitConfig))
	g.Expect(errOut).To(ContainSubstring("requires at least 1 arg"))

	code, _, errOut = execute(t, "check", filepath.Join(repo, "apps"), "--policy", policyDir, "-o", "yaml")
	g.Expect(code).To(Equal(exitConfig))
	g.Expect(errOut).To(ContainSubstring("yaml"))

	code, out, _ = execute(t, "version")
	g.Expect(code).To(Equal(0))
	g.Expect(out).To(HavePrefix("promotion-gate "))
}
