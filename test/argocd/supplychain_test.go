package argocd

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

// signedPolicy requires prod images to be signed by the release key, logged in the
// transparency log of the trusted root: both come from the sidecar's trust directory,
// the key as a file and the trusted root as a mounted ConfigMap.
const signedPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: signed}
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**"]
        applications: ["*-prod"]
  rules:
    - name: prod-signed
      environments: [prod]
      signatures:
        authorities:
          - name: release
            key: {file: release.pub}
            trustedRoot: {configMapRef: {name: sigstore, key: trusted_root.json}}
`

// prodRuns makes the prod overlay of a copy of the examples run img, pinned by digest.
func prodRuns(t *testing.T, img registrytest.Image) string {
	t.Helper()
	root := examplesCopy(t)
	cmpharness.WriteFile(t, root, prodPath+"/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: payments-prod
resources:
  - ../../base
images:
  - name: ghcr.io/example/payments-api
    newName: `+img.Repository+`
    newTag: `+img.Tag+`
    digest: `+img.Digest+`
`)
	return root
}

func TestProdSignaturesAreCheckedInTheSidecar(t *testing.T) {
	reg := registrytest.New(t)
	ss := registrytest.NewSigstore(t)
	key := ss.NewKey(t)
	signed := reg.PushImage(t, "payments-api", "1.9.0")
	reg.PushBundle(t, signed, key.SignImage(t, signed))
	unsigned := reg.PushImage(t, "payments-api", "1.9.1")

	policy := t.TempDir()
	cmpharness.WriteFile(t, policy, "signed.yaml", signedPolicy)
	// The trust directory as the chart mounts it: files, and <name>/<key> for the
	// Secrets and ConfigMaps the policy references.
	trust := t.TempDir()
	cmpharness.WriteFile(t, trust, "release.pub", string(key.PublicKeyPEM(t)))
	cmpharness.WriteFile(t, trust, "sigstore/trusted_root.json", string(ss.TrustedRoot(t)))
	srv := gate(t, policy,
		"PROMOTION_GATE_TRUST_DIR="+trust,
		"PROMOTION_GATE_REGISTRY_TIMEOUT=5s",
		// Verified digests outlive a render, as with the chart's cache volume.
		"PROMOTION_GATE_VERIFY_CACHE_DIR="+filepath.Join(t.TempDir(), "verified"),
		// No credentials: the test registry is anonymous, and the tester's own
		// docker config must not matter.
		"DOCKER_CONFIG="+t.TempDir(),
	)
	call := cmpharness.Call{Path: prodPath, App: "payments-api-prod", Namespace: "payments-prod"}

	t.Run("an unsigned image is refused with the finding", func(t *testing.T) {
		g := NewWithT(t)
		c := call
		c.Repo = prodRuns(t, unsigned)
		res := srv.Call(t, c)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stdout).To(BeEmpty())
		// What Argo CD shows as the application's ComparisonError.
		g.Expect(res.Stderr).To(ContainSubstring("`argocd-promotion-gate generate` failed exit status 1: " +
			`promotion-gate refused to render apps/payments-api/overlays/prod for environment "prod" (protected): 1 finding`))
		line := lineWith(res.Stderr, "rule prod-signed")
		g.Expect(line).To(ContainSubstring("Deployment payments-prod/payments-api, container api, image " + unsigned.TagRef() + "@" + unsigned.Digest))
		g.Expect(line).To(ContainSubstring("is unsigned"))
		g.Expect(line).To(ContainSubstring(`authority "release" (key) did not sign it`))
		g.Expect(line).To(ContainSubstring("fix: sign it with the key of authority \"release\": cosign sign --key"))
		t.Logf("Argo CD's message:\n%s", res.Stderr)
	})

	t.Run("a signed image renders", func(t *testing.T) {
		g := NewWithT(t)
		c := call
		c.Repo = prodRuns(t, signed)
		res := srv.Call(t, c)
		g.Expect(res.ExitCode).To(Equal(0), res.String())
		g.Expect(res.Stdout).To(ContainSubstring(`"image":"` + signed.TagRef() + "@" + signed.Digest + `"`))
		g.Expect(res.Stdout).To(ContainSubstring(`"kind":"Deployment"`))
		g.Expect(reg.RequestsTo("GET", "/referrers/"+signed.Digest)).To(BeNumerically(">=", 1), "the sidecar looked for the signature")

		// Each render is a process of its own; the next render of the same digest reads
		// the success from the cache directory and makes no registry request.
		reg.ResetCounts()
		res = srv.Call(t, c)
		g.Expect(res.ExitCode).To(Equal(0), res.String())
		g.Expect(reg.Requests()).To(Equal(0), "registry requests of the second render: %v", reg.Counts())
	})

	t.Run("an unreachable registry fails closed", func(t *testing.T) {
		g := NewWithT(t)
		gone := registrytest.New(t)
		img := gone.PushImage(t, "payments-api", "1.9.0")
		gone.Close()
		c := call
		c.Repo = prodRuns(t, img)
		res := srv.Call(t, c)
		g.Expect(res.ExitCode).To(Equal(1), res.String())
		g.Expect(res.Stdout).To(BeEmpty())
		g.Expect(lineWith(res.Stderr, "rule prod-signed")).To(ContainSubstring("signatures check failed"))
		g.Expect(lineWith(res.Stderr, "rule prod-signed")).To(ContainSubstring("cannot connect to registry " + gone.Host))
	})
}

// lineWith returns the first line of text that contains s, or "".
func lineWith(text, s string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
