package argocd

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

const (
	prodPath = "apps/payments-api/overlays/prod"
	devPath  = "apps/payments-api/overlays/dev"
	chart    = "charts/payments-api"
)

// mutableProd replaces the prod overlay's digest pin with a bare tag, and adds a
// sidecar container on :latest, so the refusal has more than one finding.
func mutableProd(t *testing.T, root string) {
	cmpharness.WriteFile(t, root, prodPath+"/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: payments-prod
resources:
  - ../../base
images:
  - name: ghcr.io/example/payments-api
    newTag: 1.8.4
patches:
  - path: patch-replicas.yaml
  - path: patch-sidecar.yaml
`)
	cmpharness.WriteFile(t, root, prodPath+"/patch-sidecar.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
spec:
  template:
    spec:
      containers:
        - name: log-shipper
          image: docker.io/fluent/fluent-bit:latest
`)
}

func TestGetParametersAnnouncementMatchesPluginYAML(t *testing.T) {
	g := NewWithT(t)
	srv := gate(t, policyDir())
	res := srv.Call(t, cmpharness.Call{Op: "parameters", Repo: examples(), Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"})
	g.Expect(res.ExitCode).To(Equal(0), res.String())

	var got []map[string]any
	g.Expect(json.Unmarshal([]byte(res.Stdout), &got)).To(Succeed())

	var cfg struct {
		Spec struct {
			Parameters struct {
				Static []map[string]any `json:"static"`
			} `json:"parameters"`
		} `json:"spec"`
	}
	raw := mustRead(t, filepath.Join(repo, "argocd-plugin", "plugin.yaml"))
	g.Expect(yaml.Unmarshal(raw, &cfg)).To(Succeed())
	g.Expect(got).To(Equal(cfg.Spec.Parameters.Static))

	var names []string
	for _, p := range got {
		names = append(names, p["name"].(string))
	}
	g.Expect(names).To(Equal([]string{"values-files", "release-name", "environment"}))
}

func TestProdPinnedByDigestRendersWhatTheCheckRendered(t *testing.T) {
	g := NewWithT(t)
	srv := gate(t, policyDir())
	res := srv.Call(t, cmpharness.Call{Repo: examples(), Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod", Output: "json"})
	g.Expect(res.ExitCode).To(Equal(0), res.String())
	g.Expect(res.Stderr).To(BeEmpty())

	want := checkInProcess(t, examples(), prodPath, policy.Query{Application: "payments-api-prod", Namespace: "payments-prod"}, nil, "payments-api-prod")
	g.Expect(want.Err).NotTo(HaveOccurred())
	g.Expect(want.Result.Verdict).To(Equal(evaluate.Allowed))
	g.Expect(manifestsJSON(t, res.Stdout)).To(Equal(documents(t, want.Rendered.YAML)))
	g.Expect(res.Stdout).To(ContainSubstring("ghcr.io/example/payments-api:1.8.3@sha256:8d3f8f5a"))
}

func TestProdMutableTagIsRefusedWithEveryFinding(t *testing.T) {
	g := NewWithT(t)
	root := examplesCopy(t)
	mutableProd(t, root)
	srv := gate(t, policyDir())
	res := srv.Call(t, cmpharness.Call{Repo: root, Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"})
	g.Expect(res.ExitCode).To(Equal(1), res.String())
	g.Expect(res.Stdout).To(BeEmpty())

	want := checkInProcess(t, root, prodPath, policy.Query{Application: "payments-api-prod", Namespace: "payments-prod"}, nil, "payments-api-prod")
	g.Expect(want.Result.Verdict).To(Equal(evaluate.Denied))
	findings := want.Result.Findings
	g.Expect(len(findings)).To(BeNumerically(">=", 2))

	// The refusal is the plugin's whole stderr, and Argo CD carries it whole.
	firstLine := fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected): %d findings", prodPath, "prod", len(findings))
	g.Expect(res.Stderr).To(ContainSubstring("`argocd-promotion-gate generate` failed exit status 1: " + firstLine))
	for _, f := range findings {
		g.Expect(findingLine(res.Stderr, f)).NotTo(BeEmpty(), "no line for finding %+v in\n%s", f, res.Stderr)
	}
	g.Expect(res.Stderr).To(ContainSubstring("docker.io/fluent/fluent-bit:latest"))
	// Each finding names the file to edit: the patch that added the sidecar, the overlay's
	// images: entry that set the tag.
	g.Expect(res.Stderr).To(ContainSubstring("; set in " + prodPath + "/patch-sidecar.yaml:10\n"))
	g.Expect(res.Stderr).To(ContainSubstring("; set in " + prodPath + "/kustomization.yaml:7\n"))

	// What Argo CD received is exactly what the plugin wrote: every line of the plugin's
	// own stderr, run directly on the same repository, is in it.
	direct := cmpharness.Run(t, filepath.Join(root, prodPath), pluginEnv(policyDir(), prodPath, "payments-api-prod", "payments-prod"), pluginBin, "generate")
	g.Expect(direct.ExitCode).To(Equal(1), direct.String())
	g.Expect(direct.Stdout).To(BeEmpty())
	lines := strings.Split(strings.TrimSpace(direct.Stderr), "\n")
	g.Expect(lines[0]).To(HavePrefix(firstLine))
	g.Expect(lines).To(HaveLen(1 + len(findings)))
	for _, line := range lines {
		g.Expect(res.Stderr).To(ContainSubstring(line))
	}
}

func TestDevLatestRenders(t *testing.T) {
	g := NewWithT(t)
	root := examplesCopy(t)
	kust := string(mustRead(t, filepath.Join(root, devPath, "kustomization.yaml")))
	cmpharness.WriteFile(t, root, devPath+"/kustomization.yaml", strings.Replace(kust, "newTag: main", "newTag: latest", 1))
	srv := gate(t, policyDir())
	res := srv.Call(t, cmpharness.Call{Repo: root, Path: devPath, App: "payments-api-dev", Namespace: "payments-dev"})
	g.Expect(res.ExitCode).To(Equal(0), res.String())
	g.Expect(res.Stdout).To(ContainSubstring(`"image":"ghcr.io/example/payments-api:latest"`))
	g.Expect(res.Stdout).To(ContainSubstring(`"kind":"Deployment"`))
}

func TestHelmChartWithProdValuesParameter(t *testing.T) {
	prodValues := `[{"name":"values-files","array":["values-prod.yaml"]}]`
	t.Run("pinned values render", func(t *testing.T) {
		g := NewWithT(t)
		srv := gate(t, policyDir())
		// A neutral application name and namespace: the values file alone makes it prod.
		res := srv.Call(t, cmpharness.Call{Repo: examples(), Path: chart, App: "payments-api", Namespace: "payments", Parameters: prodValues, Output: "json"})
		g.Expect(res.ExitCode).To(Equal(0), res.String())
		want := checkInProcess(t, examples(), chart, policy.Query{Application: "payments-api", Namespace: "payments"}, []string{"values-prod.yaml"}, "payments-api")
		g.Expect(want.Result.Verdict).To(Equal(evaluate.Allowed))
		g.Expect(want.Result.Environment).To(Equal("prod"))
		g.Expect(manifestsJSON(t, res.Stdout)).To(Equal(documents(t, want.Rendered.YAML)))
	})
	t.Run("mutable values are refused", func(t *testing.T) {
		g := NewWithT(t)
		root := examplesCopy(t)
		values := string(mustRead(t, filepath.Join(root, chart, "values-prod.yaml")))
		cmpharness.WriteFile(t, root, chart+"/values-prod.yaml", removeLine(values, "digest:"))
		srv := gate(t, policyDir())
		res := srv.Call(t, cmpharness.Call{Repo: root, Path: chart, App: "payments-api", Namespace: "payments", Parameters: prodValues})
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		want := checkInProcess(t, root, chart, policy.Query{Application: "payments-api", Namespace: "payments"}, []string{"values-prod.yaml"}, "payments-api")
		g.Expect(want.Result.Verdict).To(Equal(evaluate.Denied))
		g.Expect(res.Stderr).To(ContainSubstring(fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected): %s", chart, "prod", count(len(want.Result.Findings)))))
		for _, f := range want.Result.Findings {
			g.Expect(findingLine(res.Stderr, f)).NotTo(BeEmpty(), "no line for finding %+v", f)
		}
	})
	t.Run("dev values warn and render", func(t *testing.T) {
		g := NewWithT(t)
		srv := gate(t, policyDir())
		res := srv.Call(t, cmpharness.Call{Repo: examples(), Path: chart, App: "payments-api", Namespace: "payments",
			Parameters: `[{"name":"values-files","array":["values-dev.yaml"]}]`})
		g.Expect(res.ExitCode).To(Equal(0), res.String())
		g.Expect(res.Stdout).To(ContainSubstring(`"image":"ghcr.io/example/payments-api:main"`))
	})
}

func TestApplicationCannotSwitchTheGateOff(t *testing.T) {
	root := examplesCopy(t)
	mutableProd(t, root)
	// A permissive policy the application would like to use instead.
	permissive := t.TempDir()
	cmpharness.WriteFile(t, permissive, "allow.yaml", `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: allow-all}
spec:
  environments:
    - name: dev
      match: {paths: ["**"]}
`)
	srv := gate(t, policyDir())
	refusal := fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected)", prodPath, "prod")
	tests := []struct {
		name string
		call cmpharness.Call
		want string
	}{
		{name: "environment parameter says dev", call: cmpharness.Call{Params: []string{"environment=dev"}}, want: refusal},
		{name: "an unknown environment", call: cmpharness.Call{Params: []string{"environment=sandbox"}}, want: "promotion-gate refused to render"},
		{name: "plugin env names another policy", call: cmpharness.Call{Env: []string{"PROMOTION_GATE_POLICY_DIR=" + permissive, "PROMOTION_GATE_TIMEOUT=1h"}}, want: refusal},
		{name: "plugin env poses as Argo CD", call: cmpharness.Call{Env: []string{"ARGOCD_APP_SOURCE_PATH=" + devPath}}, want: refusal},
		{name: "a parameter the plugin does not have", call: cmpharness.Call{Params: []string{"policy-dir=" + permissive}}, want: `unknown plugin parameter "policy-dir"`},
		{name: "dev application name and namespace", call: cmpharness.Call{App: "payments-api-dev", Namespace: "payments-dev"}, want: refusal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := tt.call
			c.Repo, c.Path = root, prodPath
			if c.App == "" {
				c.App, c.Namespace = "payments-api-prod", "payments-prod"
			}
			res := srv.Call(t, c)
			g.Expect(res.ExitCode).To(Equal(1), res.String())
			g.Expect(res.Stdout).To(BeEmpty())
			g.Expect(res.Stderr).To(ContainSubstring(tt.want))
		})
	}
}

// findingLine returns the line of text that reports f: its resource, container, image,
// rule and fix on one line.
func findingLine(text string, f evaluate.Finding) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, f.Source.Kind+" ") && strings.Contains(line, f.Source.Name) &&
			strings.Contains(line, "container "+f.Source.Container) && strings.Contains(line, f.Image) &&
			strings.Contains(line, "rule "+f.Rule) && strings.Contains(line, f.Fix) {
			return line
		}
	}
	return ""
}

func count(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

func removeLine(s, contains string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, contains) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
