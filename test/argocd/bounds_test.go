package argocd

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

// injected is a file or template name that, written verbatim into the "# Source:"
// comment of the output, would smuggle a Pod with a mutable image past the check.
const injected = "z\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: smuggled}\nspec: {containers: [{name: a, image: \"evil:latest\"}]}\n---\n#\x1b[2K\xff.yaml"

// TestEmittedIsExactlyWhatWasChecked: whatever names the repository holds, Argo CD gets
// the documents the policy evaluated, in the same order, and nothing else.
func TestEmittedIsExactlyWhatWasChecked(t *testing.T) {
	srv := gate(t, policyDir())
	tests := []struct {
		name, path, app, ns string
		values              []string
		files               map[string]string
	}{
		{
			name: "plain YAML file name", path: "clusters/prod/ledger", app: "ledger-prod", ns: "payments-prod",
			files: map[string]string{"clusters/prod/ledger/" + injected: pinnedLedger, "clusters/prod/ledger/a.yaml": pinnedLedger},
		},
		{
			name: "Helm template name", path: "charts/payments-api", app: "payments-api", ns: "payments", values: []string{"values-prod.yaml"},
			files: map[string]string{"charts/payments-api/templates/" + injected: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			root := examplesCopy(t)
			for name, content := range tt.files {
				cmpharness.WriteFile(t, root, name, content)
			}
			want := checkInProcess(t, root, tt.path, policy.Query{Application: tt.app, Namespace: tt.ns}, tt.values, tt.app)
			g.Expect(want.Err).NotTo(HaveOccurred())
			g.Expect(want.Result.Verdict).To(Equal(evaluate.Allowed))
			checked := documents(t, want.Rendered.YAML)
			g.Expect(checked).To(HaveLen(len(want.Rendered.Documents)))

			// The plugin binary, as the sidecar runs it.
			direct := cmpharness.Run(t, filepath.Join(root, tt.path), withValues(pluginEnv(policyDir(), tt.path, tt.app, tt.ns), tt.values), pluginBin, "generate")
			g.Expect(direct.ExitCode).To(Equal(0), direct.String())
			g.Expect(direct.Stderr).To(BeEmpty())
			g.Expect(documents(t, []byte(direct.Stdout))).To(Equal(checked))
			g.Expect(direct.Stdout).NotTo(MatchRegexp("(?m)^kind: Pod"), "the name left its comment")

			// Through Argo CD's cmp-server, as Argo CD parses it.
			res := srv.Call(t, cmpharness.Call{Repo: root, Path: tt.path, App: tt.app, Namespace: tt.ns, Output: "json", Parameters: valuesParameter(tt.values)})
			g.Expect(res.ExitCode).To(Equal(0), res.String())
			g.Expect(manifestsJSON(t, res.Stdout)).To(Equal(checked))
			g.Expect(res.Stdout).NotTo(ContainSubstring(`"kind":"Pod"`))
		})
	}
}

// TestSidecarKeepsServingAfterARenderOverItsBudget: a template that allocates without
// end is refused with the budget and how to raise it, and the next application renders.
func TestSidecarKeepsServingAfterARenderOverItsBudget(t *testing.T) {
	g := NewWithT(t)
	srv := gate(t, policyDir(), "PROMOTION_GATE_MAX_MEMORY=320Mi")
	root := examplesCopy(t)
	cmpharness.WriteFile(t, root, "charts/payments-api/templates/bomb.yaml", `x: {{ repeat 1500000000 "x" }}`+"\n")
	res := srv.Call(t, cmpharness.Call{Repo: root, Path: "charts/payments-api", App: "payments-api", Namespace: "payments", Parameters: valuesParameter([]string{"values-prod.yaml"})})
	t.Logf("Argo CD received: %s", res.Stderr)
	g.Expect(res.ExitCode).NotTo(Equal(0), res.String())
	g.Expect(res.Stderr).To(ContainSubstring("promotion-gate refused to render charts/payments-api"))
	g.Expect(res.Stderr).To(ContainSubstring("memory budget of 320 MiB"))
	g.Expect(res.Stderr).To(ContainSubstring("PROMOTION_GATE_MAX_MEMORY"))
	g.Expect(res.Stderr).NotTo(ContainSubstring("goroutine"))

	res = srv.Call(t, cmpharness.Call{Repo: examples(), Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"})
	g.Expect(res.ExitCode).To(Equal(0), res.String())
}

// TestRenderIsOffline: a kustomize field that takes a URL sends no request from the
// sidecar; the refusal names the field and says to vendor the content.
func TestRenderIsOffline(t *testing.T) {
	var requests atomic.Int64
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, "SECRET=from-the-network\n")
	}))
	defer listener.Close()
	srv := gate(t, policyDir())
	for name, kust := range map[string]string{
		"configMapGenerator files": "resources: [../../base]\nconfigMapGenerator: [{name: x, files: [\"a/b=" + listener.URL + "/f\"]}]\n",
		"builtin generator envs":   "resources: [../../base]\ngenerators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata: {name: x}\n  envs: [\"" + listener.URL + "/e\"]\n",
		"builtin transformer path": "resources: [../../base]\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata: {name: x}\n  path: \"" + listener.URL + "/p\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			root := examplesCopy(t)
			cmpharness.WriteFile(t, root, prodPath+"/kustomization.yaml", kust)
			res := srv.Call(t, cmpharness.Call{Repo: root, Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"})
			t.Logf("Argo CD received: %s", res.Stderr)
			g.Expect(requests.Load()).To(BeZero(), "the sidecar reached the listener")
			g.Expect(res.ExitCode).NotTo(Equal(0))
			g.Expect(res.Stderr).To(ContainSubstring("renders offline: vendor the content into the repository"))
			g.Expect(res.Stderr).NotTo(ContainSubstring("from-the-network"))
		})
	}
}

// TestStdoutAndStderrCarryOnlyTheirs: kustomize's deprecation warnings reach neither
// the manifests nor the error text.
func TestStdoutAndStderrCarryOnlyTheirs(t *testing.T) {
	g := NewWithT(t)
	root := examplesCopy(t)
	// "bases" and "patchesStrategicMerge" make kustomize print deprecation warnings.
	cmpharness.WriteFile(t, root, devPath+"/kustomization.yaml", "namespace: payments-dev\nbases: [../../base]\npatchesStrategicMerge: [patch-replicas.yaml]\n")
	direct := cmpharness.Run(t, filepath.Join(root, devPath), pluginEnv(policyDir(), devPath, "payments-api-dev", "payments-dev"), pluginBin, "generate")
	g.Expect(direct.ExitCode).To(Equal(0), direct.String())
	g.Expect(direct.Stderr).NotTo(ContainSubstring("deprecated"))
	g.Expect(direct.Stdout).NotTo(ContainSubstring("deprecated"))
	g.Expect(documents(t, []byte(direct.Stdout))).NotTo(BeEmpty())
}

// TestSymlinkedApplicationDirectoryIsRefused: an application path that is a link out of
// the repository is not rendered, however the plugin is started.
func TestSymlinkedApplicationDirectoryIsRefused(t *testing.T) {
	g := NewWithT(t)
	root := examplesCopy(t)
	outside := filepath.Join(t.TempDir(), "prod")
	cmpharness.WriteFile(t, outside, "kustomization.yaml", "resources: [cm.yaml]\n")
	cmpharness.WriteFile(t, outside, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside}\n")
	link := filepath.Join(root, "apps/linked/overlays/prod")
	g.Expect(os.MkdirAll(filepath.Dir(link), 0o755)).To(Succeed())
	g.Expect(os.Symlink(outside, link)).To(Succeed())
	res := cmpharness.Run(t, link, pluginEnv(policyDir(), "apps/linked/overlays/prod", "linked-prod", "payments-prod"), pluginBin, "generate")
	t.Logf("the plugin wrote: %s", res.Stderr)
	g.Expect(res.ExitCode).NotTo(Equal(0))
	g.Expect(res.Stdout).To(BeEmpty())
	g.Expect(res.Stderr).To(ContainSubstring("not a link"))
}

const pinnedLedger = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments-prod}
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers:
        - name: ledger
          image: ghcr.io/example/ledger@sha256:1111111111111111111111111111111111111111111111111111111111111111
`

// withValues adds the values-files parameter to a plugin environment.
func withValues(env []string, values []string) []string {
	if p := valuesParameter(values); p != "" {
		env = append(env, "ARGOCD_APP_PARAMETERS="+p)
	}
	return env
}

func valuesParameter(values []string) string {
	if len(values) == 0 {
		return ""
	}
	b := `[{"name":"values-files","array":[`
	for i, v := range values {
		if i > 0 {
			b += ","
		}
		b += fmt.Sprintf("%q", v)
	}
	return b + "]}]"
}

// TestDevApplicationThatRendersProdIsRefusedAsProd: the Argo CD error names the file
// that made a dev application's render a prod render.
func TestDevApplicationThatRendersProdIsRefusedAsProd(t *testing.T) {
	g := NewWithT(t)
	srv := gate(t, policyDir())
	root := examplesCopy(t)
	cmpharness.WriteFile(t, root, "apps/evil/overlays/dev/kustomization.yaml", "resources: [../../../payments-api/overlays/prod]\n"+
		"images: [{name: ghcr.io/example/payments-api, newTag: latest, digest: ''}]\n")
	res := srv.Call(t, cmpharness.Call{Repo: root, Path: "apps/evil/overlays/dev", App: "evil-dev", Namespace: "evil-dev"})
	t.Logf("Argo CD received: %s", res.Stderr)
	g.Expect(res.ExitCode).NotTo(Equal(0))
	g.Expect(res.Stdout).To(BeEmpty())
	g.Expect(res.Stderr).To(ContainSubstring(`promotion-gate refused to render apps/evil/overlays/dev for environment "prod" (protected): 2 findings`))
	g.Expect(res.Stderr).To(ContainSubstring("- counted as prod because the render read apps/payments-api/overlays/prod/kustomization.yaml"))
}
