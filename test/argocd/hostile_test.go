package argocd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

// withResource adds a resource file to the prod overlay's kustomization.
func withResource(t *testing.T, root, name string) {
	t.Helper()
	kust := string(mustRead(t, filepath.Join(root, prodPath, "kustomization.yaml")))
	kust = strings.Replace(kust, "  - ../../base\n", "  - ../../base\n  - "+name+"\n", 1)
	cmpharness.WriteFile(t, root, prodPath+"/kustomization.yaml", kust)
}

func TestHostileRepositoriesAreRefused(t *testing.T) {
	srv := gate(t, policyDir())
	call := func(root string) cmpharness.Call {
		return cmpharness.Call{Repo: root, Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"}
	}

	t.Run("symlink out of the repository", func(t *testing.T) {
		g := NewWithT(t)
		root := examplesCopy(t)
		outside := filepath.Join(t.TempDir(), "stolen.yaml")
		cmpharness.WriteFile(t, filepath.Dir(outside), "stolen.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\n")
		rel, err := filepath.Rel(filepath.Join(root, prodPath), outside)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.Symlink(rel, filepath.Join(root, prodPath, "stolen.yaml"))).To(Succeed())
		withResource(t, root, "stolen.yaml")

		// Argo CD itself refuses to unpack a link that leaves the streamed repository.
		res := srv.Call(t, call(root))
		t.Logf("Argo CD received: %s", res.Stderr)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stdout).To(BeEmpty())
		g.Expect(res.Stderr).To(ContainSubstring("illegal filepath in symlink"))

		// The plugin refuses it on its own too, wherever it runs (the repository checked
		// out by something other than the CMP server).
		direct := cmpharness.Run(t, filepath.Join(root, prodPath), pluginEnv(policyDir(), prodPath, "payments-api-prod", "payments-prod"), pluginBin, "generate")
		t.Logf("the plugin wrote: %s", direct.Stderr)
		g.Expect(direct.ExitCode).To(Equal(1), direct.String())
		g.Expect(direct.Stdout).To(BeEmpty())
		g.Expect(direct.Stderr).To(HavePrefix(fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected): the check failed", prodPath, "prod")))
		g.Expect(direct.Stderr).To(ContainSubstring("outside the repository root"))
	})

	t.Run("absolute symlink", func(t *testing.T) {
		g := NewWithT(t)
		root := examplesCopy(t)
		g.Expect(os.Symlink("/etc/passwd", filepath.Join(root, prodPath, "passwd.yaml"))).To(Succeed())
		withResource(t, root, "passwd.yaml")
		// Argo CD re-roots the link inside the repository, where it points at nothing.
		res := srv.Call(t, call(root))
		t.Logf("Argo CD received: %s", res.Stderr)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stderr).To(ContainSubstring(fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected): the check failed", prodPath, "prod")))
		g.Expect(res.Stderr).NotTo(ContainSubstring("root:x:0:0"))
	})

	t.Run("YAML bomb", func(t *testing.T) {
		g := NewWithT(t)
		root := examplesCopy(t)
		cmpharness.WriteFile(t, root, prodPath+"/bomb.yaml", yamlBomb(7))
		withResource(t, root, "bomb.yaml")
		res := srv.Call(t, call(root))
		t.Logf("Argo CD received: %s", res.Stderr)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stderr).To(ContainSubstring(fmt.Sprintf("promotion-gate refused to render %s for environment %q (protected): the check failed", prodPath, "prod")))
		g.Expect(res.Stderr).To(ContainSubstring("limit"))
	})

	t.Run("no policy mounted", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "policy")
		unmounted := gate(t, missing)
		for _, path := range []string{prodPath, devPath} {
			g := NewWithT(t)
			res := unmounted.Call(t, cmpharness.Call{Repo: examples(), Path: path, App: "payments-api", Namespace: "payments"})
			t.Logf("Argo CD received: %s", res.Stderr)
			g.Expect(res.ExitCode).To(Equal(1), res.String())
			g.Expect(res.Stdout).To(BeEmpty())
			g.Expect(res.Stderr).To(ContainSubstring("promotion-gate refused to render " + path + " for an unclassified environment (treated as protected): the check failed"))
			g.Expect(res.Stderr).To(ContainSubstring(missing))
			g.Expect(res.Stderr).To(ContainSubstring("mount the policy ConfigMaps"))
		}
	})

	t.Run("invalid policy mounted", func(t *testing.T) {
		g := NewWithT(t)
		broken := t.TempDir()
		cmpharness.WriteFile(t, broken, "broken.yaml", "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n    - name: x\n      enforcment: deny\n")
		res := gate(t, broken).Call(t, cmpharness.Call{Repo: examples(), Path: devPath, App: "payments-api-dev", Namespace: "payments-dev"})
		t.Logf("Argo CD received: %s", res.Stderr)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stderr).To(ContainSubstring("treated as protected): the check failed"))
		g.Expect(res.Stderr).To(ContainSubstring("broken.yaml"))
	})
}

// yamlBomb is a "billion laughs" ConfigMap: levels of ten aliases each, 10^levels nodes
// once expanded, in a few hundred bytes.
func yamlBomb(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\ndata:\n")
	b.WriteString("  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.Repeat(p+", ", 9)+p)
	}
	return b.String()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// manifestsJSON decodes the cmp-client's JSON output: the manifests exactly as Argo CD
// receives them (one JSON document each).
func manifestsJSON(t *testing.T, out string) []any {
	t.Helper()
	var manifests []string
	if err := json.Unmarshal([]byte(out), &manifests); err != nil {
		t.Fatalf("decode the manifests: %v\n%s", err, out)
	}
	docs := make([]any, 0, len(manifests))
	for _, m := range manifests {
		var v any
		if err := json.Unmarshal([]byte(m), &v); err != nil {
			t.Fatalf("decode manifest %s: %v", m, err)
		}
		docs = append(docs, v)
	}
	return docs
}

// documents splits a YAML stream into decoded documents, dropping empty ones.
func documents(t *testing.T, stream []byte) []any {
	t.Helper()
	var docs []any
	for _, part := range bytes.Split(append([]byte("\n"), stream...), []byte("\n---")) {
		if len(bytes.TrimSpace(part)) == 0 {
			continue
		}
		var v any
		if err := yaml.Unmarshal(part, &v); err != nil {
			t.Fatalf("decode rendered document: %v\n%s", err, part)
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
	return docs
}
