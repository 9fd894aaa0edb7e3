package supplychain_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

const (
	subject = "release@example.com"
	other   = "intruder@example.com"
)

func TestSignatures(t *testing.T) {
	tests := []struct {
		name string
		// sign attaches signatures to img (and may push other images) and returns the rule.
		sign func(e *env, img registrytest.Image) policy.Rule
		// want are substrings of the violations; none means the image passes.
		want []string
		// byTag checks the tag reference instead of the digest reference.
		byTag bool
	}{
		{
			name: "signed by the expected key, logged",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.key.SignImage(e.t, img))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
		},
		{
			name: "signed by the expected keyless identity",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).SignImage(e.t, img))
				return signaturesRule(keylessAuthority("ci", subject))
			},
		},
		{
			name: "keyless identity by regular expression, tag reference resolved",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).SignImage(e.t, img))
				a := keylessAuthority("ci", "")
				a.Keyless.SubjectRegExp = `^release@example\.com$`
				return signaturesRule(a)
			},
			byTag: true,
		},
		{
			name: "unsigned",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				return signaturesRule(e.keyAuthority("release", e.key))
			},
			want: []string{"is unsigned", `authority "release" (key)`, ".sig", "cosign sign --key"},
		},
		{
			name: "signed by another key",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.NewKey(e.t).SignImage(e.t, img))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
			want: []string{`not signed by authority "release" (key): it is signed by another key`},
		},
		{
			name: "signed for another digest",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				otherImg := e.reg.PushImage(e.t, "payments-api", "other")
				e.reg.PushBundle(e.t, img, e.key.SignImage(e.t, otherImg))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
			want: []string{"is for another digest, sha256:", "sign the digest that is deployed"},
		},
		{
			name: "wrong OIDC subject",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(other, issuer).SignImage(e.t, img))
				return signaturesRule(keylessAuthority("ci", subject))
			},
			want: []string{"subject " + other, "another identity", "subject release@example.com"},
		},
		{
			name: "certificate from another CA",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				foreign := registrytest.NewSigstore(e.t)
				e.reg.PushBundle(e.t, img, foreign.Keyless(subject, issuer).SignImage(e.t, img))
				return signaturesRule(keylessAuthority("ci", subject))
			},
			want: []string{`not signed by authority "ci"`, "does not verify against the trusted root"},
		},
		{
			name: "key signature without transparency log, log required",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.key.WithoutLog().SignImage(e.t, img))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
			want: []string{"has no verified transparency-log entry", "transparencyLog: ignore"},
		},
		{
			name: "key signature without transparency log, log ignored",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.key.WithoutLog().SignImage(e.t, img))
				r := signaturesRule(e.keyAuthority("release", e.key))
				r.Signatures.TransparencyLog = policy.TlogIgnore
				return r
			},
		},
		{
			name: "keyless signature with a timestamp instead of the log, log ignored",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).WithoutLog().SignImage(e.t, img))
				r := signaturesRule(keylessAuthority("ci", subject))
				r.Signatures.TransparencyLog = policy.TlogIgnore
				return r
			},
		},
		{
			name: "keyless signature without the log, log required",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).WithoutLog().SignImage(e.t, img))
				return signaturesRule(keylessAuthority("ci", subject))
			},
			want: []string{"has no verified transparency-log entry"},
		},
		{
			name: "legacy .sig tag, keyed",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushLegacy(e.t, img, "sig", e.key.LegacySignature(e.t, img))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
		},
		{
			name: "legacy .sig tag, keyless",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushLegacy(e.t, img, "sig", e.ss.Keyless(subject, issuer).LegacySignature(e.t, img))
				return signaturesRule(keylessAuthority("ci", subject))
			},
		},
		{
			name: "legacy .sig tag for another digest",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				otherImg := e.reg.PushImage(e.t, "payments-api", "other")
				e.reg.PushLegacy(e.t, img, "sig", e.key.LegacySignature(e.t, otherImg))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
			want: []string{"is for another digest, " + "sha256:"},
		},
		{
			name: "cosign v3 sign statement in a DSSE bundle",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, "https://sigstore.dev/cosign/sign/v1", map[string]any{}, img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return signaturesRule(e.keyAuthority("release", e.key))
			},
		},
		{
			name: "count all: one of two authorities signed",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.key.SignImage(e.t, img))
				r := signaturesRule(e.keyAuthority("release", e.key), keylessAuthority("ci", subject))
				r.Signatures.Count = policy.CountAll
				return r
			},
			want: []string{`authority "ci"`, "1 of the rule's 2 authorities verified, 2 needed"},
		},
		{
			name: "count 2: both authorities signed",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.key.SignImage(e.t, img))
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).SignImage(e.t, img))
				r := signaturesRule(e.keyAuthority("release", e.key), keylessAuthority("ci", subject))
				r.Signatures.Count = "2"
				return r
			},
		},
		{
			name: "default count: either authority is enough",
			sign: func(e *env, img registrytest.Image) policy.Rule {
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).SignImage(e.t, img))
				return signaturesRule(e.keyAuthority("release", e.key), keylessAuthority("ci", subject))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			img := e.reg.PushImage(t, "payments-api", "1.4.2")
			rule := tt.sign(e, img)
			ref := img.DigestRef()
			if tt.byTag {
				ref = img.TagRef()
			}
			got := messages(e.signatures(rule, ref))
			if len(tt.want) == 0 {
				g.Expect(got).To(BeEmpty())
				return
			}
			g.Expect(got).To(ContainSubstring(img.Digest), "the violation names the image")
			for _, w := range tt.want {
				g.Expect(got).To(ContainSubstring(w))
			}
		})
	}
}

func TestSignaturesThroughReferrersTagSchema(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, registrytest.WithoutReferrersAPI())
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	e.reg.PushBundle(t, img, e.key.SignImage(t, img))
	g.Expect(e.signatures(signaturesRule(e.keyAuthority("release", e.key)), img.DigestRef())).To(BeEmpty())
	g.Expect(e.reg.RequestsTo("GET", "/manifests/"+strings.Replace(img.Digest, ":", "-", 1))).To(BeNumerically(">", 0),
		"the referrers index was read from the fallback tag")
}

func TestSignaturesErrors(t *testing.T) {
	t.Run("keyed authority, log required, no log root", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		img := e.reg.PushImage(t, "payments-api", "1.4.2")
		// A Set built by hand skips validation, which would have refused this rule.
		a := e.keyAuthority("release", e.key)
		a.TrustedRoot = nil
		_, err := e.v.Signatures(context.Background(), check(t, signaturesRule(a), img.DigestRef()))
		g.Expect(err).To(MatchError(ContainSubstring("transparencyLog: ignore")))
	})
	t.Run("trusted root missing", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		img := e.reg.PushImage(t, "payments-api", "1.4.2")
		a := keylessAuthority("ci", subject)
		a.TrustedRoot = &policy.Material{ConfigMapRef: &policy.ObjectKeyRef{Name: "absent", Key: "trusted_root.json"}}
		_, err := e.v.Signatures(context.Background(), check(t, signaturesRule(a), img.DigestRef()))
		g.Expect(err).To(MatchError(And(ContainSubstring(`authority "ci"`), ContainSubstring("configmap absent"))))
	})
}
