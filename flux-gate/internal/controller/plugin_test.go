package controller_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/plugin"
)

// buildTestPlugin builds the plugin runner's test plugin (its first argument picks its
// behaviour) and returns its path and SHA-256.
func buildTestPlugin(t *testing.T) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "testplugin")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/testplugin")
	cmd.Dir = filepath.Join("..", "..", "..", "shared", "plugin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the test plugin: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return out, hex.EncodeToString(sum[:])
}

// A rule's plugin runs for the images of a proposal: a plugin that passes lets it be
// promoted, one that reports a finding or crashes holds it with the plugin named.
func TestPlugins(t *testing.T) {
	path, sum := buildTestPlugin(t)
	for _, tc := range []struct {
		mode, message string
	}{
		{mode: "pass"},
		{mode: "fail", message: "is not allowed here"},
		{mode: "crash", message: "boom: nil report"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := newBareHarness(t)
			runner := plugin.NewRunner(plugin.Options{})
			t.Cleanup(func() { _ = runner.Close() })
			h.plugins = runner
			h.startManager()
			t.Cleanup(h.stopManager)
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(basePolicy + fmt.Sprintf(`    - name: prod-plugin
      environments: [prod]
      plugins:
        - {name: vetted, path: %s, sha256: %s, args: [%s], timeout: 20s}
`, path, sum, tc.mode))
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			target := h.head(f, "main")
			p := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
			})
			if tc.message == "" {
				h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(p))
				return
			}
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
			h.g.Expect(h.head(f, "main")).To(Equal(target), "held")
			h.g.Expect(g.Status.LastEvaluation.Findings).NotTo(BeEmpty())
			finding := g.Status.LastEvaluation.Findings[0]
			h.g.Expect(finding.Rule).To(Equal("prod-plugin"))
			h.g.Expect(finding.Check).To(Equal("plugins"))
			h.g.Expect(finding.Message).To(And(ContainSubstring("vetted"), ContainSubstring(tc.message)))
		})
	}
}
