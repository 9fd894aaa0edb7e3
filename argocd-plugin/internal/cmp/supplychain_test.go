package cmp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// signedPolicy requires the images of prod and dev to be signed by the key in the trust
// directory's release.pub, logged in the transparency log of the trusted root in the
// sigstore ConfigMap (mounted at <trust dir>/sigstore/trusted_root.json).
const signedPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: signed}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["apps/*/overlays/prod/**"]}
    - name: dev
      match: {paths: ["apps/*/overlays/dev/**"]}
  rules:
    - name: signed-images
      environments: [prod, dev]
      signatures:
        authorities:
          - name: release
            key: {file: release.pub}
            trustedRoot: {configMapRef: {name: sigstore, key: trusted_root.json}}
`

// pluginPolicy declares a plugin by a path relative to the policy directory.
const pluginPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: plugged}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["apps/*/overlays/prod/**"]}
  rules:
    - name: scanned
      environments: [prod]
      plugins:
        - name: scan-report
          path: plugins/scan-report
          sha256: "0000000000000000000000000000000000000000000000000000000000000000"
`

// overlayFor makes the overlay at path run img by tag and digest.
func overlayFor(t *testing.T, root, path, namespace string, img registrytest.Image) {
	t.Helper()
	name, _, _ := strings.Cut(img.Repository, "@")
	writeFile(t, filepath.Join(root, path, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: `+namespace+`
resources:
  - ../../base
images:
  - name: ghcr.io/example/payments-api
    newName: `+name+`
    newTag: `+img.Tag+`
    digest: `+img.Digest+`
`)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateSupplyChain(t *testing.T) {
	reg := registrytest.New(t)
	ss := registrytest.NewSigstore(t)
	key := ss.NewKey(t)
	signed := reg.PushImage(t, "payments-api", "1.9.0")
	reg.PushBundle(t, signed, key.SignImage(t, signed))
	unsigned := reg.PushImage(t, "payments-api", "1.9.1")

	// An image in a registry that is gone: the check cannot decide.
	gone := registrytest.New(t)
	unreachable := gone.PushImage(t, "payments-api", "1.9.0")
	gone.Close()
	// A registry slower than the whole render may take.
	slow := registrytest.New(t)
	slowImage := slow.PushImage(t, "payments-api", "1.9.0")
	slow.SetDelay(time.Hour)

	signedDir := t.TempDir()
	writeFile(t, filepath.Join(signedDir, "signed.yaml"), signedPolicy)
	pluginDir := t.TempDir()
	writeFile(t, filepath.Join(pluginDir, "plugged.yaml"), pluginPolicy)
	trustDir := t.TempDir()
	writeFile(t, filepath.Join(trustDir, "release.pub"), string(key.PublicKeyPEM(t)))
	writeFile(t, filepath.Join(trustDir, "sigstore", "trusted_root.json"), string(ss.TrustedRoot(t)))

	const devPath = "apps/payments-api/overlays/dev"
	tests := []struct {
		name       string
		path       string
		img        registrytest.Image
		policyDir  string
		settings   func(*Settings)
		wantCode   int
		wantStdout string
		wantStderr []string
		// wantOneOf: one of these is in stderr.
		wantOneOf []string
	}{
		{
			name: "prod signed by the release key renders", path: prodPath, img: signed,
			wantCode: ExitRendered, wantStdout: "image: " + signed.Repository + ":1.9.0@" + signed.Digest,
		},
		{
			name: "prod unsigned is refused with the signatures finding", path: prodPath, img: unsigned,
			wantCode: ExitRefused,
			wantStderr: []string{`promotion-gate refused to render apps/payments-api/overlays/prod for environment "prod" (protected): 1 finding`,
				"rule signed-images", "is unsigned", unsigned.Digest},
		},
		{
			name: "prod with the registry unreachable fails closed", path: prodPath, img: unreachable,
			settings: func(s *Settings) { s.RegistryTimeout = 2 * time.Second },
			wantCode: ExitRefused, wantStderr: []string{`for environment "prod" (protected)`, "signatures check failed"},
		},
		{
			name: "dev with the registry unreachable warns and renders", path: devPath, img: unreachable,
			settings: func(s *Settings) { s.RegistryTimeout = 2 * time.Second },
			wantCode: ExitRendered, wantStdout: unreachable.Digest,
			wantStderr: []string{`apps/payments-api/overlays/dev for environment "dev"`, "signatures check failed"},
		},
		{
			name: "prod with a registry slower than the sidecar's limit is refused", path: prodPath, img: slowImage,
			settings: func(s *Settings) { s.Timeout, s.RegistryTimeout = 2*time.Second, time.Hour },
			wantCode: ExitRefused, wantStderr: []string{`promotion-gate refused to render apps/payments-api/overlays/prod`},
			// The sidecar's deadline and the registry call's end at the same moment:
			// whichever is seen first, the render is refused in time.
			wantOneOf: []string{"did not finish within 2s (" + EnvTimeout, "signatures check failed"},
		},
		{
			name: "key material missing from the trust directory fails closed", path: prodPath, img: signed,
			settings: func(s *Settings) { s.TrustDir = t.TempDir() },
			wantCode: ExitRefused, wantStderr: []string{"release.pub"},
		},
		{
			name: "a relative plugin path is resolved in the policy directory", path: prodPath, img: signed, policyDir: pluginDir,
			wantCode: ExitRefused, wantStderr: []string{"scan-report", filepath.Join(pluginDir, "plugins", "scan-report"), "not found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			root := copyExamples(t)
			ns := "payments-prod"
			if tt.path == devPath {
				ns = "payments-dev"
			}
			overlayFor(t, root, tt.path, ns, tt.img)
			s := settings(t)
			s.PolicyDir, s.TrustDir = signedDir, trustDir
			if tt.policyDir != "" {
				s.PolicyDir = tt.policyDir
			}
			if tt.settings != nil {
				tt.settings(&s)
			}
			code, stdout, stderr := generate(t, root, tt.path, s)
			expectGenerated(g, code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			if len(tt.wantOneOf) > 0 {
				var matchers []types.GomegaMatcher
				for _, want := range tt.wantOneOf {
					matchers = append(matchers, ContainSubstring(want))
				}
				g.Expect(stderr).To(Or(matchers...))
			}
		})
	}
}

func TestCloseWithinDoesNotWaitForever(t *testing.T) {
	g := NewWithT(t)
	release := make(chan struct{})
	defer close(release)
	closed := make(chan struct{})
	// A close that blocks until the test ends: closeWithin must return anyway.
	closeWithin(func() { <-release }, time.Millisecond)
	closeWithin(func() { close(closed) }, time.Hour)
	g.Expect(closed).To(BeClosed())
}
