package supplychain_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/supplychain/profile"
)

// signedPolicy requires, in prod and dev, a signature by the key in release.pub of the
// trust directory.
const signedPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: supply-chain
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
    - name: dev
      match: {paths: ["dev/**"]}
  rules:
    - name: signed-images
      environments: [prod, dev]
      enforcement: deny
      signatures:
        authorities:
          - name: release
            key: {file: release.pub}
            trustedRoot: {file: sigstore/trusted_root.json}
`

var (
	prod = policy.Classification{Environment: "prod", Protected: true}
	dev  = policy.Classification{Environment: "dev"}
)

func parsePolicy(t testing.TB) *policy.Set {
	t.Helper()
	set, err := policy.Parse(policy.Source{Name: "policy.yaml", Data: []byte(signedPolicy)})
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	return set
}

func evaluateImage(t testing.TB, v evaluate.ImageVerifier, set *policy.Set, cls policy.Classification, ref string) evaluate.Result {
	t.Helper()
	r, err := imageref.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	img := extract.Image{Raw: ref, Ref: &r, Source: extract.Source{
		File: cls.Environment + "/deployment.yaml", Kind: "Deployment", Namespace: "payments", Name: "payments-api",
		Container: "app", FieldPath: "spec.template.spec.containers[0].image",
	}}
	return evaluate.Evaluate(context.Background(), evaluate.Request{
		Policy: set, Environment: cls, Images: []extract.Image{img}, Verifier: v, Now: time.Now(),
	})
}

func TestEvaluateSignatures(t *testing.T) {
	tests := []struct {
		name string
		// prepare signs (or not) the image and breaks the registry as the case needs; it
		// returns the verifier to use.
		prepare     func(e *env, img string) evaluate.ImageVerifier
		prod, dev   evaluate.Verdict
		wantMessage string
	}{
		{
			name:    "signed",
			prepare: func(e *env, _ string) evaluate.ImageVerifier { return e.v },
			prod:    evaluate.Allowed, dev: evaluate.Allowed,
		},
		{
			name: "unsigned: denied in prod, warned in dev",
			prepare: func(e *env, _ string) evaluate.ImageVerifier {
				e.reg.PushImage(e.t, "payments-api", "1.4.2") // moves the tag to an unsigned image
				return e.v
			},
			prod: evaluate.Denied, dev: evaluate.Warned, wantMessage: "is unsigned",
		},
		{
			name: "registry unreachable: fails closed in prod, warns in dev",
			prepare: func(e *env, _ string) evaluate.ImageVerifier {
				e.reg.Close()
				return e.v
			},
			prod: evaluate.Denied, dev: evaluate.Warned,
			wantMessage: "signatures check failed: resolve the tag of image",
		},
		{
			name: "registry slower than the timeout: fails closed in prod, warns in dev",
			prepare: func(e *env, _ string) evaluate.ImageVerifier {
				e.reg.SetDelay(5 * time.Second)
				return e.verifier(200 * time.Millisecond)
			},
			prod: evaluate.Denied, dev: evaluate.Warned,
			wantMessage: "did not answer within 200ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			e.keyAuthority("release", e.key)
			img := e.reg.PushImage(t, "payments-api", "1.4.2")
			e.reg.PushBundle(t, img, e.key.SignImage(t, img))
			v := tt.prepare(e, img.TagRef())
			set := parsePolicy(t)
			for _, c := range []struct {
				cls  policy.Classification
				want evaluate.Verdict
			}{{prod, tt.prod}, {dev, tt.dev}} {
				res := evaluateImage(t, v, set, c.cls, img.TagRef())
				g.Expect(res.Verdict).To(Equal(c.want), "%s: %+v", c.cls.Environment, res.Findings)
				if tt.wantMessage == "" {
					g.Expect(res.Findings).To(BeEmpty())
					continue
				}
				g.Expect(res.Findings).To(HaveLen(1))
				f := res.Findings[0]
				g.Expect(f.Check).To(Equal("signatures"))
				g.Expect(f.Rule).To(Equal("signed-images"))
				g.Expect(f.Message).To(ContainSubstring(tt.wantMessage))
				g.Expect(f.Message).To(ContainSubstring(img.Repository), "the message names the image")
			}
		})
	}
}

// attestedPolicy requires, in prod, provenance from the release workflow signed keyless
// by the CI identity, whose trusted root is a projected ConfigMap.
const attestedPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: provenance
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
  rules:
    - name: built-by-ci
      environments: [prod]
      signatures:
        authorities:
          - name: ci
            keyless:
              issuer: https://token.actions.example.com
              subjectRegExp: '^release@example\.com$'
            trustedRoot: {configMapRef: {name: sigstore, key: trusted_root.json}}
      attestations:
        - name: provenance
          authorities: [ci]
          slsaProvenance:
            builderID: "https://github.com/example/payments-api/.github/workflows/release.yml@refs/tags/*"
            sourceRepository: https://github.com/example/payments-api
            sourceRef: "refs/tags/v*"
`

func TestEvaluateAttestations(t *testing.T) {
	for _, tt := range []struct {
		name, builder string
		want          evaluate.Verdict
	}{
		{"expected builder", builder, evaluate.Allowed},
		{"wrong builder", "https://ci.example.com/other-builder", evaluate.Denied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			img := e.reg.PushImage(t, "payments-api", "1.4.2")
			signer := e.ss.Keyless(subject, issuer)
			e.reg.PushBundle(t, img, signer.SignImage(t, img))
			st := statement(t, profile.SLSAProvenanceV1, provenance(tt.builder, sourceRepo, "refs/tags/v1.4.2"), img.Digest)
			e.reg.PushBundle(t, img, signer.Attest(t, st))
			set, err := policy.Parse(policy.Source{Name: "policy.yaml", Data: []byte(attestedPolicy)})
			g.Expect(err).NotTo(HaveOccurred())
			res := evaluateImage(t, e.v, set, prod, img.DigestRef())
			g.Expect(res.Verdict).To(Equal(tt.want), "%+v", res.Findings)
			if tt.want == evaluate.Denied {
				g.Expect(res.Findings).To(HaveLen(1))
				g.Expect(res.Findings[0].Check).To(Equal("attestations"))
				g.Expect(res.Findings[0].Message).To(ContainSubstring("other-builder"))
			}
		})
	}
}
