package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// signedPolicy requires prod images to be signed by the key in release.pub, logged in
// the transparency log whose key is in the trusted root.
const signedPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: signed}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["apps/*/overlays/prod/**"]}
  rules:
    - name: prod-signed
      environments: [prod]
      signatures:
        authorities:
          - name: release
            key: {file: release.pub}
            trustedRoot: {configMapRef: {name: sigstore, key: trusted_root.json}}
`

// pointProdAt makes the prod overlay run img by digest.
func pointProdAt(t *testing.T, repo string, img registrytest.Image) {
	t.Helper()
	name, _, _ := strings.Cut(img.Repository, "@")
	edit(t, filepath.Join(repo, prodKust), func(s string) string {
		s = regexp.MustCompile(`(?m)^(\s+newName: )\S+`).ReplaceAllString(s, "${1}"+name)
		s = regexp.MustCompile(`(?m)^(\s+newTag: )\S+`).ReplaceAllString(s, "${1}"+img.Tag)
		return regexp.MustCompile(`(?m)^(\s+digest: )\S+`).ReplaceAllString(s, "${1}"+img.Digest)
	})
}

func TestCheckSignatures(t *testing.T) {
	reg := registrytest.New(t)
	ss := registrytest.NewSigstore(t)
	key := ss.NewKey(t)
	signed := reg.PushImage(t, "payments-api", "1.9.0")
	reg.PushBundle(t, signed, key.SignImage(t, signed))
	unsigned := reg.PushImage(t, "payments-api", "1.9.1")

	tests := []struct {
		name     string
		img      registrytest.Image
		down     bool
		wantCode int
		want     []string
	}{
		{"signed image passes", signed, false, exitAllowed, []string{"Allowed"}},
		{"unsigned image is denied", unsigned, false, exitDenied, []string{"deny prod-signed", "is unsigned", unsigned.Digest, "cosign sign --key"}},
		{"unreachable registry fails closed", signed, true, exitDenied, []string{"signatures check failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, _ := exampleRepo(t)
			policyDir := t.TempDir()
			write(t, filepath.Join(policyDir, "signed.yaml"), signedPolicy)
			trustDir := t.TempDir()
			write(t, filepath.Join(trustDir, "release.pub"), string(key.PublicKeyPEM(t)))
			write(t, filepath.Join(trustDir, "sigstore", "trusted_root.json"), string(ss.TrustedRoot(t)))
			pointProdAt(t, repo, tt.img)
			r := reg
			if tt.down {
				r = registrytest.New(t)
				pointProdAt(t, repo, registrytest.Image{Repository: r.Host + "/payments-api", Tag: tt.img.Tag, Digest: tt.img.Digest})
				r.Close()
			}
			code, out, errOut := execute(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"),
				"--repo-root", repo, "--policy", policyDir, "--trust-dir", trustDir, "--registry-timeout", "2s")
			g.Expect(code).To(Equal(tt.wantCode), out+errOut)
			for _, w := range tt.want {
				g.Expect(out).To(ContainSubstring(w))
			}
		})
	}
}

// commitAll commits the work tree of repo (initialising it first when needed).
func commitAll(t *testing.T, repo, msg string) {
	t.Helper()
	r, err := git.PlainOpen(repo)
	if err == git.ErrRepositoryNotExists {
		r, err = git.PlainInit(repo, false)
	}
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
}

const scopePolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: scope}
spec:
  rules:
    - name: prod-images-only
      environments: [prod]
      changeScope: imagesOnly
`

func TestCheckChangeScopeAgainstBase(t *testing.T) {
	const newDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	tests := []struct {
		name     string
		change   func(t *testing.T, repo string)
		base     string
		wantCode int
		want     []string
	}{
		{"an image update only passes", func(t *testing.T, repo string) {
			edit(t, filepath.Join(repo, prodKust), func(s string) string {
				return strings.Replace(strings.Replace(s, "1.8.3", "1.9.0", 1), prodDigest, newDigest, 1)
			})
		}, "HEAD", exitAllowed, []string{"Allowed"}},
		{"a replicas change is named", func(t *testing.T, repo string) {
			edit(t, filepath.Join(repo, "apps/payments-api/overlays/prod/patch-replicas.yaml"), func(s string) string {
				return regexp.MustCompile(`replicas: \d+`).ReplaceAllString(s, "replicas: 9")
			})
		}, "HEAD", exitDenied, []string{"prod-images-only", "Deployment payments-prod/payments-api spec.replicas changed 6 → 9"}},
		{"an unknown base is a usage error", func(*testing.T, string) {}, "no-such-branch", exitConfig,
			[]string{`resolve revision "no-such-branch"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			write(t, filepath.Join(policyDir, "scope.yaml"), scopePolicy)
			commitAll(t, repo, "base")
			tt.change(t, repo)
			code, out, errOut := execute(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"),
				"--policy", policyDir, "--base", tt.base)
			g.Expect(code).To(Equal(tt.wantCode), out+errOut)
			for _, w := range tt.want {
				g.Expect(out + errOut).To(ContainSubstring(w))
			}
			entries, _ := filepath.Glob(filepath.Join(os.TempDir(), "promotion-gate-base-*"))
			g.Expect(entries).To(BeEmpty(), "the exported base is removed")
		})
	}
}
