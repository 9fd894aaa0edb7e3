// Package parity proves the house rule that the same input gives the same verdict at
// every door: each example and fixture goes through the promotion-gate CLI and through
// the Argo CD plugin, and their JSON reports must agree on the verdict, the environment
// and every finding. With the Argo CD harness present, each case also goes through the
// real argocd-cmp-server, whose answer (manifests or a refusal) must match the verdict.
package parity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

var (
	repo              string
	cliBin, pluginBin string
	setupErr          error
)

func TestMain(m *testing.M) {
	render.ServeWorker()
	repo, setupErr = cmpharness.RepoRoot()
	tmp, err := os.MkdirTemp("", "pgparity")
	if err != nil {
		panic(err)
	}
	if setupErr == nil {
		cliBin, setupErr = cmpharness.BuildCLI(repo, tmp)
	}
	if setupErr == nil {
		pluginBin, setupErr = cmpharness.BuildPlugin(repo, tmp)
	}
	code := m.Run()
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

// target is one application as both doors see it.
type target struct {
	path        string
	app         string
	namespace   string
	valuesFiles []string
	environment string // the requested environment (a plugin parameter, the CLI's --env)
}

// parityCase is a repository (the examples, possibly changed) and an application in it.
type parityCase struct {
	name   string
	mutate func(t *testing.T, root string) // nil: the examples as they are
	policy string                          // a test policy (see resolvePolicy); "" means examples/policy
	target target
}

func TestCLIAndPluginAgree(t *testing.T) {
	if setupErr != nil {
		t.Fatalf("set up: %v", setupErr)
	}
	cases := exampleCases()
	cases = append(cases, fixtureCases()...)
	cases = append(cases, hostileCases()...)
	var srv *cmpharness.Server
	if os.Getenv(cmpharness.BinEnv) != "" {
		srv = cmpharness.StartServer(t, cmpharness.Bin(t), cmpharness.ServerOptions{
			PluginBinDir: filepath.Dir(pluginBin),
			PluginYAML:   filepath.Join(repo, "argocd-plugin", "plugin.yaml"),
			Env:          []string{"PROMOTION_GATE_POLICY_DIR=" + filepath.Join(repo, "examples", "policy")},
		})
	} else {
		t.Logf("%s is not set: comparing the CLI with the plugin binary only, not through argocd-cmp-server", cmpharness.BinEnv)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			root := filepath.Join(repo, "examples", "platform-config")
			if tc.mutate != nil {
				root = cmpharness.CopyTree(t, root)
				tc.mutate(t, root)
			}
			policyDir := resolvePolicy(t, tc.policy)

			cliRes, cliOut := runCLI(t, root, policyDir, tc.target)
			plugRes, plugOut := runPluginCheck(t, root, policyDir, tc.target)
			t.Logf("CLI and plugin: exit %d, %s in %q (protected %v), %d findings, %d exempted, error %q",
				cliOut.ExitCode, cliRes.Verdict, cliRes.Environment, cliRes.Protected, len(cliRes.Findings), len(cliRes.Exempted), cliRes.Error)
			g.Expect(plugOut.ExitCode).To(Equal(cliOut.ExitCode), "exit codes differ\nCLI: %s\nplugin: %s", cliOut, plugOut)
			g.Expect(comparable(plugRes)).To(Equal(comparable(cliRes)))

			if srv == nil || tc.policy != "" {
				return
			}
			// Through Argo CD: a Denied or failed check is a refusal with one line per
			// finding; anything else renders.
			res := srv.Call(t, cmpharness.Call{Repo: root, Path: tc.target.path, App: tc.target.app, Namespace: tc.target.namespace,
				Parameters: parameters(tc.target)})
			if cliRes.Verdict == "Denied" || cliOut.ExitCode != 0 {
				g.Expect(res.ExitCode).NotTo(Equal(0), res.String())
				g.Expect(res.Stderr).To(ContainSubstring("promotion-gate refused to render " + tc.target.path))
				for _, f := range cliRes.Findings {
					g.Expect(res.Stderr).To(ContainSubstring(fmt.Sprintf("image %s: rule %s", f.Image, f.Rule)))
				}
				if len(cliRes.Findings) > 0 {
					g.Expect(res.Stderr).To(ContainSubstring(count(len(cliRes.Findings))))
				}
				return
			}
			g.Expect(res.ExitCode).To(Equal(0), res.String())
			g.Expect(res.Stdout).To(ContainSubstring(`"kind":"Deployment"`))
			// No fixture renders anything named evil: only an injected document would.
			g.Expect(res.Stdout).NotTo(ContainSubstring("evil"))
		})
	}
}

// result is the part of a JSON report (promotion-gate.io/report/v1) the two doors must
// agree on.
type result struct {
	Target         string            `json:"target"`
	Verdict        string            `json:"verdict"`
	Environment    string            `json:"environment"`
	Protected      bool              `json:"protected"`
	Because        []string          `json:"because"`
	PolicyRevision string            `json:"policyRevision"`
	Findings       []json.RawMessage `json:"findings"`
	Exempted       []json.RawMessage `json:"exempted"`
	Notices        []string          `json:"notices"`
	Images         []json.RawMessage `json:"images"`
	Error          string            `json:"error"`
}

type finding struct {
	Image string `json:"image"`
	Rule  string `json:"rule"`
}

type decoded struct {
	result
	Findings []finding
}

// comparable drops what legitimately differs between the doors: the wording of an
// error (the plugin adds how to mount the policy in the sidecar) but not its presence.
func comparable(r decoded) result {
	out := r.result
	if out.Error != "" {
		out.Error = "(error)"
	}
	return out
}

func decode(t *testing.T, who string, out cmpharness.Result) decoded {
	t.Helper()
	var report struct {
		SchemaVersion string   `json:"schemaVersion"`
		Results       []result `json:"results"`
	}
	if err := json.Unmarshal([]byte(out.Stdout), &report); err != nil {
		t.Fatalf("%s report is not JSON: %v\n%s", who, err, out)
	}
	if len(report.Results) != 1 {
		t.Fatalf("%s report has %d results, want 1\n%s", who, len(report.Results), out)
	}
	d := decoded{result: report.Results[0]}
	for _, raw := range d.result.Findings {
		var f finding
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		d.Findings = append(d.Findings, f)
	}
	return d
}

func runCLI(t *testing.T, root, policyDir string, tg target, extra ...string) (decoded, cmpharness.Result) {
	t.Helper()
	args := []string{"check", tg.path, "--policy", policyDir, "--repo-root", root, "--app", tg.app,
		"--namespace", tg.namespace, "--release-name", tg.app, "--kube-version", "1.31.0", "-o", "json"}
	for _, f := range tg.valuesFiles {
		args = append(args, "-f", f)
	}
	if tg.environment != "" {
		args = append(args, "--env", tg.environment)
	}
	args = append(args, extra...)
	out := cmpharness.Run(t, root, nil, cliBin, args...)
	return decode(t, "CLI", out), out
}

func runPluginCheck(t *testing.T, root, policyDir string, tg target) (decoded, cmpharness.Result) {
	t.Helper()
	env := []string{
		"PROMOTION_GATE_POLICY_DIR=" + policyDir,
		"ARGOCD_APP_NAME=" + tg.app,
		"ARGOCD_APP_NAMESPACE=" + tg.namespace,
		"ARGOCD_APP_SOURCE_PATH=" + tg.path,
		"KUBE_VERSION=1.31.0",
	}
	if p := parameters(tg); p != "" {
		env = append(env, "ARGOCD_APP_PARAMETERS="+p)
	}
	out := cmpharness.Run(t, filepath.Join(root, filepath.FromSlash(tg.path)), env, pluginBin, "check", "-o", "json")
	return decode(t, "plugin", out), out
}

// parameters is spec.source.plugin.parameters for the target, as JSON.
func parameters(tg target) string {
	var params []map[string]any
	if len(tg.valuesFiles) > 0 {
		params = append(params, map[string]any{"name": "values-files", "array": tg.valuesFiles})
	}
	if tg.environment != "" {
		params = append(params, map[string]any{"name": "environment", "string": tg.environment})
	}
	if len(params) == 0 {
		return ""
	}
	b, _ := json.Marshal(params)
	return string(b)
}

func count(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

// exampleCases are every application of examples/platform-config: each overlay, and the
// chart with each environment's values.
func exampleCases() []parityCase {
	var cases []parityCase
	for _, env := range []string{"dev", "staging", "prod"} {
		cases = append(cases, parityCase{
			name:   "overlay " + env,
			target: target{path: "apps/payments-api/overlays/" + env, app: "payments-api-" + env, namespace: "payments-" + env},
		}, parityCase{
			name:   "chart values-" + env,
			target: target{path: "charts/payments-api", app: "payments-api", namespace: "payments", valuesFiles: []string{"values-" + env + ".yaml"}},
		})
	}
	return cases
}

func replaceIn(t *testing.T, root, rel, old, new string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	cmpharness.WriteFile(t, root, rel, strings.Replace(string(b), old, new, 1))
}
