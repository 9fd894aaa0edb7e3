package supplychain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// cosignFixtures holds what cosign v3.1.3 wrote to a registry, byte for byte: an image,
// its signature and attestations as Sigstore bundles (OCI referrers) and as legacy
// sha256-<hex>.sig/.att tags, and the public key. testdata/cosign/README.md says how.
const cosignFixtures = "testdata/cosign"

// cosignImageDigest is the digest of testdata/cosign/image.json, the image cosign signed.
const cosignImageDigest = "sha256:317bf478d552573bf5ea3d9945f2dd6e4d8b4a41628a28f421f396030b022760"

// cosignScanTime is a little after the fixtures' vulnerability scan finished.
var cosignScanTime = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// TestCosignOutput verifies real cosign output through the gate: a regression test for
// interoperability with the tool people sign with, beside the tests that sign with
// sigstore-go directly.
func TestCosignOutput(t *testing.T) {
	tests := []struct {
		name string
		// manifests pushed besides the image: fixture name → tag ("" = by digest).
		manifests map[string]string
	}{
		{name: "bundles as OCI referrers (cosign v3 default)", manifests: map[string]string{
			"referrer-sign": "", "referrer-slsa": "", "referrer-vuln": "",
		}},
		{name: "legacy tags (--new-bundle-format=false)", manifests: map[string]string{
			"legacy-sig": strings.Replace(cosignImageDigest, ":", "-", 1) + ".sig",
			"legacy-att": strings.Replace(cosignImageDigest, ":", "-", 1) + ".att",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			repo, err := name.NewRepository(e.reg.Host + "/payments-api")
			g.Expect(err).NotTo(HaveOccurred())
			pushCosignFixture(t, repo, "image", "")
			for m, tag := range tt.manifests {
				pushCosignFixture(t, repo, m, tag)
			}
			pub, err := os.ReadFile(filepath.Join(cosignFixtures, "cosign.pub"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(os.WriteFile(filepath.Join(e.dir, "cosign.pub"), pub, 0o600)).To(Succeed())

			rule := cosignRule()
			ref := repo.String() + "@" + cosignImageDigest
			c := cosignCheck(t, rule, ref)
			vs, err := e.v.Signatures(context.Background(), c)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(messages(vs)).To(BeEmpty())
			vs, err = e.v.Attestations(context.Background(), c)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(messages(vs)).To(BeEmpty())

			// The same output must not pass for a key that did not sign it, nor a
			// scan threshold the fixture's HIGH finding breaks.
			other := e.key.PublicKeyPEM(t)
			g.Expect(os.WriteFile(filepath.Join(e.dir, "cosign.pub"), other, 0o600)).To(Succeed())
			vs, err = e.v.Signatures(context.Background(), c)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(messages(vs)).To(ContainSubstring("signed by another key"))
			g.Expect(os.WriteFile(filepath.Join(e.dir, "cosign.pub"), pub, 0o600)).To(Succeed())
			rule.Attestations[1].VulnerabilityScan.Thresholds = map[string]int{"high": 0}
			vs, err = e.v.Attestations(context.Background(), cosignCheck(t, rule, ref))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(messages(vs)).To(ContainSubstring("1 high vulnerability (max 0): CVE-2026-0100"))
		})
	}
}

// cosignRule is the worked example's rule: the fixture key, no transparency log (the
// fixtures were signed with --tlog-upload=false), provenance and a scan.
func cosignRule() policy.Rule {
	return policy.Rule{
		Name: "cosign",
		Signatures: &policy.Signatures{
			Authorities:     []policy.Authority{{Name: "release-key", Key: &policy.Material{File: "cosign.pub"}}},
			TransparencyLog: policy.TlogIgnore,
		},
		Attestations: []policy.Attestation{
			{Name: "provenance", Authorities: []string{"release-key"}, SLSAProvenance: &policy.SLSAProvenance{
				BuilderID:        "https://github.com/slsa-framework/slsa-github-generator/**",
				SourceRepository: "https://github.com/example/payments-api", SourceRef: "refs/tags/v*",
			}},
			{Name: "scan", Authorities: []string{"release-key"}, VulnerabilityScan: &policy.VulnerabilityScan{
				MaxAge: "7d", Thresholds: map[string]int{"critical": 0, "high": 1},
			}},
		},
	}
}

func cosignCheck(t *testing.T, rule policy.Rule, ref string) evaluate.ImageCheck {
	t.Helper()
	r, err := imageref.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return evaluate.ImageCheck{
		Rule: rule, Environment: policy.Classification{Environment: "prod", Protected: true},
		Ref: r, PolicyRevision: "sha256:cosign", Now: cosignScanTime,
	}
}

// pushCosignFixture uploads the blobs of testdata/cosign/<fixture>.json and then the
// manifest itself, unchanged, by tag or (tag "") by digest.
func pushCosignFixture(t *testing.T, repo name.Repository, fixture, tag string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(cosignFixtures, fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	type blob struct{ MediaType, Digest string }
	blobs := []blob{{m.Config.MediaType, m.Config.Digest}}
	for _, l := range m.Layers {
		blobs = append(blobs, blob{l.MediaType, l.Digest})
	}
	for _, b := range blobs {
		data, err := os.ReadFile(filepath.Join(cosignFixtures, "blobs", strings.TrimPrefix(b.Digest, "sha256:")))
		if err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		if err := remote.WriteLayer(repo, static.NewLayer(data, types.MediaType(b.MediaType))); err != nil {
			t.Fatalf("push blob %s of %s: %v", b.Digest, fixture, err)
		}
	}
	var ref name.Reference = repo.Tag(tag)
	if tag == "" {
		h, _, err := v1.SHA256(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ref = repo.Digest(h.String())
	}
	if err := remote.Put(ref, fixtureManifest{raw: raw, mt: types.MediaType(m.MediaType)}); err != nil {
		t.Fatalf("push %s as %s: %v", fixture, ref, err)
	}
}

// fixtureManifest is a manifest pushed exactly as cosign wrote it.
type fixtureManifest struct {
	raw []byte
	mt  types.MediaType
}

func (f fixtureManifest) RawManifest() ([]byte, error)        { return f.raw, nil }
func (f fixtureManifest) MediaType() (types.MediaType, error) { return f.mt, nil }
