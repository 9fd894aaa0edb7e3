package supplychain_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

const (
	issuer  = "https://token.actions.example.com"
	builder = "https://github.com/example/payments-api/.github/workflows/release.yml@refs/tags/v1.4.2"
)

// env is one test's registry, Sigstore, trust directory and verifier.
type env struct {
	t     testing.TB
	reg   *registrytest.Registry
	ss    *registrytest.Sigstore
	dir   string
	key   *registrytest.Signer
	cache *supplychain.Cache
	v     *supplychain.Verifier
}

func newEnv(t testing.TB, opts ...registrytest.Option) *env {
	t.Helper()
	e := &env{t: t, reg: registrytest.New(t, opts...), ss: registrytest.NewSigstore(t), dir: t.TempDir()}
	e.key = e.ss.NewKey(t)
	// The keyless trusted root is where a projected ConfigMap puts it.
	if err := os.MkdirAll(filepath.Join(e.dir, "sigstore"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.ss.WriteTrustedRoot(t, filepath.Join(e.dir, "sigstore", "trusted_root.json"))
	e.cache = supplychain.NewCache(0)
	e.v = e.verifier(2 * time.Second)
	return e
}

func (e *env) verifier(timeout time.Duration) *supplychain.Verifier {
	e.t.Helper()
	return e.verifierWith(supplychain.Options{Cache: e.cache}, timeout)
}

// verifierWith fills in the registry client and the trust directory.
func (e *env) verifierWith(o supplychain.Options, timeout ...time.Duration) *supplychain.Verifier {
	e.t.Helper()
	ro := registry.Options{Timeout: 2 * time.Second, UserAgent: "promotion-gate-test"}
	if len(timeout) > 0 {
		ro.Timeout = timeout[0]
	}
	client, err := registry.New(ro)
	if err != nil {
		e.t.Fatal(err)
	}
	o.Registry, o.Trust = client, trust.Dir(e.dir)
	return supplychain.New(o)
}

// keyAuthority writes the signer's public key to <dir>/<name>.pub and names it by file.
func (e *env) keyAuthority(name string, s *registrytest.Signer) policy.Authority {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name+".pub"), s.PublicKeyPEM(e.t), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return policy.Authority{Name: name, Key: &policy.Material{File: name + ".pub"}, TrustedRoot: sigstoreRoot()}
}

// sigstoreRoot names the test Sigstore's trusted root where a projected ConfigMap puts it.
func sigstoreRoot() *policy.Material {
	return &policy.Material{ConfigMapRef: &policy.ObjectKeyRef{Name: "sigstore", Key: "trusted_root.json"}}
}

// keylessAuthority trusts the identity, with the trusted root from a ConfigMap reference.
func keylessAuthority(name, subject string) policy.Authority {
	return policy.Authority{Name: name, Keyless: &policy.Keyless{Issuer: issuer, Subject: subject}, TrustedRoot: sigstoreRoot()}
}

func signaturesRule(auths ...policy.Authority) policy.Rule {
	return policy.Rule{Name: "signed", Signatures: &policy.Signatures{Authorities: auths}}
}

func check(t testing.TB, rule policy.Rule, ref string) evaluate.ImageCheck {
	t.Helper()
	r, err := imageref.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return evaluate.ImageCheck{
		Rule: rule, Environment: policy.Classification{Environment: "prod", Protected: true},
		Ref: r, PolicyRevision: "sha256:rev1", Now: time.Now(),
	}
}

func (e *env) signatures(rule policy.Rule, ref string) []evaluate.Violation {
	e.t.Helper()
	vs, err := e.v.Signatures(context.Background(), check(e.t, rule, ref))
	if err != nil {
		e.t.Fatalf("signatures of %s: %v", ref, err)
	}
	return vs
}

func (e *env) attestations(rule policy.Rule, ref string) []evaluate.Violation {
	e.t.Helper()
	vs, err := e.v.Attestations(context.Background(), check(e.t, rule, ref))
	if err != nil {
		e.t.Fatalf("attestations of %s: %v", ref, err)
	}
	return vs
}

// statement is an in-toto v1 statement about the digests.
func statement(t testing.TB, predicateType string, predicate any, digests ...string) []byte {
	t.Helper()
	var subjects []map[string]any
	for _, d := range digests {
		subjects = append(subjects, map[string]any{
			"name": "image", "digest": map[string]string{"sha256": strings.TrimPrefix(d, "sha256:")},
		})
	}
	data, err := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v1", "subject": subjects,
		"predicateType": predicateType, "predicate": predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func provenance(builderID, repo, ref string) map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{"repository": repo, "ref": ref, "path": ".github/workflows/release.yml"}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": builderID}},
	}
}

// trivyScan is a cosign vuln/v1 predicate holding a Trivy report with the given
// vulnerabilities (ID to severity).
func trivyScan(finished time.Time, vulns map[string]string) map[string]any {
	var list []map[string]any
	for id, sev := range vulns {
		list = append(list, map[string]any{"VulnerabilityID": id, "Severity": sev, "PkgName": "openssl"})
	}
	return map[string]any{
		"invocation": map[string]any{"uri": "", "event_id": "", "builder.id": ""},
		"scanner": map[string]any{
			"uri": "pkg:github/aquasecurity/trivy@v0.58.0", "version": "0.58.0",
			"result": map[string]any{"SchemaVersion": 2, "Results": []map[string]any{{"Target": "image", "Vulnerabilities": list}}},
		},
		"metadata": map[string]any{"scanStartedOn": finished.Add(-time.Minute).Format(time.RFC3339), "scanFinishedOn": finished.Format(time.RFC3339)},
	}
}

// messages joins violation messages for assertions.
func messages(vs []evaluate.Violation) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Message+" | fix: "+v.Fix)
	}
	return strings.Join(s, "\n")
}
