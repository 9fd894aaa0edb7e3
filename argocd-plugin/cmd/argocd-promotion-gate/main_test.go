package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/argocd-plugin/internal/cmp"
)

func TestCommands(t *testing.T) {
	policyDir, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	dev, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "platform-config", "apps", "payments-api", "overlays", "dev"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("version", func(t *testing.T) {
		g := NewWithT(t)
		var out, errOut bytes.Buffer
		g.Expect(run([]string{"version"}, &out, &errOut)).To(Equal(0))
		g.Expect(out.String()).To(HavePrefix("argocd-promotion-gate "))
	})

	t.Run("check prints the report generate acts on", func(t *testing.T) {
		g := NewWithT(t)
		t.Chdir(dev)
		t.Setenv(cmp.EnvPolicyDir, policyDir)
		t.Setenv(cmp.EnvAppSourcePath, "apps/payments-api/overlays/dev")
		var out, errOut bytes.Buffer
		g.Expect(run([]string{"check", "-o", "json"}, &out, &errOut)).To(Equal(0), errOut.String())
		var report struct {
			Results []struct {
				Target, Verdict, Environment string
			} `json:"results"`
		}
		g.Expect(json.Unmarshal(out.Bytes(), &report)).To(Succeed())
		g.Expect(report.Results).To(HaveLen(1))
		g.Expect(report.Results[0].Target).To(Equal("apps/payments-api/overlays/dev"))
		g.Expect(report.Results[0].Verdict).To(Equal("Warned"))
		g.Expect(report.Results[0].Environment).To(Equal("dev"))
	})

	t.Run("an invalid sidecar setting refuses every render", func(t *testing.T) {
		g := NewWithT(t)
		t.Chdir(dev)
		t.Setenv(cmp.EnvTimeout, "forever")
		t.Setenv(cmp.EnvAppSourcePath, "apps/payments-api/overlays/dev")
		var out, errOut bytes.Buffer
		g.Expect(run([]string{"generate"}, &out, &errOut)).To(Equal(cmp.ExitInvalid))
		g.Expect(out.String()).To(BeEmpty())
		g.Expect(errOut.String()).To(ContainSubstring("promotion-gate refused to render apps/payments-api/overlays/dev: the request is invalid"))
		g.Expect(errOut.String()).To(ContainSubstring(cmp.EnvTimeout))
	})

	t.Run("flags from plugin.yaml override the environment", func(t *testing.T) {
		g := NewWithT(t)
		t.Chdir(dev)
		t.Setenv(cmp.EnvPolicyDir, "/nonexistent")
		t.Setenv(cmp.EnvAppSourcePath, "apps/payments-api/overlays/dev")
		var out, errOut bytes.Buffer
		g.Expect(run([]string{"generate", "--policy-dir", policyDir}, &out, &errOut)).To(Equal(0), errOut.String())
		g.Expect(out.String()).To(ContainSubstring("kind: Deployment"))
	})
}
