package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestDevPathThatRendersProd: an application on a dev path that includes the prod
// overlay and sets :latest is a prod render; check denies it and says why, explain
// names the file that made it prod.
func TestDevPathThatRendersProd(t *testing.T) {
	g := NewWithT(t)
	repo, policyDir := exampleRepo(t)
	evil := filepath.Join(repo, "apps/evil/overlays/dev")
	g.Expect(os.MkdirAll(evil, 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(evil, "kustomization.yaml"), []byte("resources: [../../../payments-api/overlays/prod]\n"+
		"images: [{name: ghcr.io/example/payments-api, newTag: latest, digest: ''}]\n"), 0o644)).To(Succeed())

	code, out, errOut := execute(t, "check", evil, "--policy", policyDir, "--repo-root", repo)
	g.Expect(code).To(Equal(exitDenied), "stderr: %s\n%s", errOut, out)
	g.Expect(out).To(ContainSubstring("Denied (environment prod, protected)"))
	g.Expect(out).To(ContainSubstring("counted as prod: the render read apps/payments-api/overlays/prod/kustomization.yaml"))

	code, out, errOut = execute(t, "explain", evil, "--policy", policyDir, "--repo-root", repo)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("environment: prod"))
	g.Expect(out).To(ContainSubstring("the render read apps/payments-api/overlays/prod/kustomization.yaml"))
	g.Expect(out).To(ContainSubstring("counted as prod by what the render reads or renders into"))

	code, out, errOut = execute(t, "explain", evil, "--policy", policyDir, "--repo-root", repo, "--render=false")
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("environment: dev"))
	g.Expect(out).To(ContainSubstring("not known without rendering"))
}

// TestEmptyProtectedRender: the CLI does not call an empty prod render allowed.
func TestEmptyProtectedRender(t *testing.T) {
	g := NewWithT(t)
	repo, policyDir := exampleRepo(t)
	dir := filepath.Join(repo, "apps/x/overlays/prod")
	g.Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "main.jsonnet"), []byte("{}"), 0o644)).To(Succeed())
	code, out, _ := execute(t, "check", dir, "--policy", policyDir, "--repo-root", repo)
	g.Expect(code).To(Equal(exitConfig))
	g.Expect(out).To(ContainSubstring("Denied (environment prod, protected) — evaluation failed"))
	g.Expect(out).To(ContainSubstring("renders no Kubernetes object: it is a Jsonnet directory (main.jsonnet)"))
	g.Expect(out).NotTo(ContainSubstring("Allowed"))
}

// TestRenderBudgetFlags: --max-memory and --timeout bound each render.
func TestRenderBudgetFlags(t *testing.T) {
	g := NewWithT(t)
	repo, policyDir := exampleRepo(t)
	chart := filepath.Join(repo, "charts/bomb")
	g.Expect(os.MkdirAll(filepath.Join(chart, "templates"), 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: bomb\nversion: 0.1.0\n"), 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(chart, "templates/x.yaml"), []byte(`x: {{ repeat 1500000000 "x" }}`+"\n"), 0o644)).To(Succeed())

	code, out, _ := execute(t, "check", chart, "--policy", policyDir, "--repo-root", repo, "--env", "prod", "--max-memory", "320Mi")
	g.Expect(code).To(Equal(exitConfig))
	g.Expect(out).To(ContainSubstring("the render needed more than its memory budget of 320 MiB"))

	code, _, errOut := execute(t, "check", chart, "--policy", policyDir, "--max-memory", "lots")
	g.Expect(code).To(Equal(exitConfig))
	g.Expect(errOut).To(ContainSubstring("--max-memory"))
}

// TestCheckWithACacheDir: a second check of an unchanged path is served from the
// cache with the same report; a change is rendered again.
func TestCheckWithACacheDir(t *testing.T) {
	g := NewWithT(t)
	repo, policyDir := exampleRepo(t)
	cacheDir := filepath.Join(t.TempDir(), "renders")
	prod := filepath.Join(repo, "apps/payments-api/overlays/prod")
	args := []string{"check", prod, "--policy", policyDir, "--repo-root", repo, "--cache-dir", cacheDir, "-o", "json"}
	code, first, errOut := execute(t, args...)
	g.Expect(code).To(Equal(exitAllowed), errOut)
	results, err := os.ReadDir(filepath.Join(cacheDir, "r"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(1))
	code, second, errOut := execute(t, args...)
	g.Expect(code).To(Equal(exitAllowed), errOut)
	g.Expect(second).To(Equal(first))

	kust := filepath.Join(prod, "kustomization.yaml")
	data, err := os.ReadFile(kust)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(kust, []byte(strings.Replace(string(data), "newTag: 1.8.3", "newTag: latest", 1)), 0o644)).To(Succeed())
	code, third, _ := execute(t, args...)
	g.Expect(code).To(Equal(exitDenied))
	g.Expect(third).To(ContainSubstring(`"verdict": "Denied"`))
	results, err = os.ReadDir(filepath.Join(cacheDir, "r"))
	g.Expect(err).NotTo(HaveOccurred())
	// The changed render, and the same render with origins, which names the file to edit.
	g.Expect(results).To(HaveLen(3))
}
