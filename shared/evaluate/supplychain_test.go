package evaluate_test

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// recorder answers the supply-chain clauses from a table and records what it was asked.
// The real verifiers (shared/supplychain, shared/plugin) are tested against a real
// registry and real plugin processes; this one tests how the evaluator files answers.
type recorder struct {
	violations map[string][]evaluate.Violation // by clause
	err        error
	calls      []evaluate.ImageCheck
}

func (r *recorder) answer(clause string, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	r.calls = append(r.calls, c)
	return r.violations[clause], r.err
}

func (r *recorder) Signatures(_ context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	return r.answer("signatures", c)
}

func (r *recorder) Attestations(_ context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	return r.answer("attestations", c)
}

func (r *recorder) RunPlugins(_ context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	return r.answer("plugins", c)
}

const signedRule = `  rules:
    - name: signed
      signatures:
        transparencyLog: ignore
        authorities: [{name: release, key: {data: "-----BEGIN PUBLIC KEY-----"}}]
      attestations:
        - {name: provenance, slsaProvenance: {builderID: "https://ci.example.com/*"}}
      plugins:
        - {name: scan, path: /p, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}
  exemptions:
    - {rule: signed, images: ["ghcr.io/example/legacy*"], reason: vendor image, owner: team-a}
`

func TestSupplyChainClauses(t *testing.T) {
	set := mustPolicy(t, signedRule)
	unsigned := map[string][]evaluate.Violation{
		"signatures":   {{Message: "not signed by release", Fix: "sign it"}},
		"attestations": {{Message: "no provenance", Fix: "attest it"}},
		"plugins":      {{Message: "plugin scan: 1 critical", Fix: "patch it"}},
	}
	tests := []struct {
		name    string
		cls     string
		answers map[string][]evaluate.Violation
		err     error
		nilVer  bool
		image   string
		verdict evaluate.Verdict
		checks  []string
		exempt  int
	}{
		{"compliant image passes", "prod", nil, nil, false, "ghcr.io/example/app@" + digest, evaluate.Allowed, nil, 0},
		{"violations deny in prod", "prod", unsigned, nil, false, "ghcr.io/example/app@" + digest, evaluate.Denied,
			[]string{"signatures", "attestations", "plugins"}, 0},
		{"violations warn in dev", "dev", unsigned, nil, false, "ghcr.io/example/app@" + digest, evaluate.Warned,
			[]string{"signatures", "attestations", "plugins"}, 0},
		{"a check that cannot decide denies in prod", "prod", nil, errors.New("registry unreachable"), false,
			"ghcr.io/example/app@" + digest, evaluate.Denied, []string{"signatures", "attestations", "plugins"}, 0},
		{"a check that cannot decide warns in dev", "dev", nil, errors.New("registry unreachable"), false,
			"ghcr.io/example/app@" + digest, evaluate.Warned, []string{"signatures", "attestations", "plugins"}, 0},
		{"no verifier configured fails closed", "prod", nil, nil, true, "ghcr.io/example/app@" + digest, evaluate.Denied,
			[]string{"signatures", "attestations", "plugins"}, 0},
		{"an exemption covers supply-chain findings", "prod", unsigned, nil, false, "ghcr.io/example/legacy-batch:1",
			evaluate.Allowed, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			cls := prod
			if tt.cls == "dev" {
				cls = dev
			}
			rec := &recorder{violations: tt.answers, err: tt.err}
			req := evaluate.Request{Policy: set, Environment: cls, Images: images(tt.image), Now: day, Verifier: rec, Plugins: rec}
			if tt.nilVer {
				req.Verifier, req.Plugins = nil, nil
			}
			res := evaluate.Evaluate(context.Background(), req)
			g.Expect(res.Verdict).To(Equal(tt.verdict))
			var checks []string
			for _, f := range res.Findings {
				checks = append(checks, f.Check)
				g.Expect(f.Rule).To(Equal("signed"))
				g.Expect(f.Fix).NotTo(BeEmpty())
				if tt.err != nil {
					g.Expect(f.Message).To(ContainSubstring("check failed: registry unreachable"))
				}
			}
			g.Expect(checks).To(ConsistOf(tt.checks))
			g.Expect(res.Exempted).To(HaveLen(tt.exempt))
			if !tt.nilVer {
				g.Expect(rec.calls).To(HaveLen(3))
				for _, c := range rec.calls {
					g.Expect(c.Rule.Name).To(Equal("signed"))
					g.Expect(c.PolicyRevision).To(Equal(set.Revision))
					g.Expect(c.Environment.Environment).To(Equal(tt.cls))
					g.Expect(c.Now).To(Equal(day))
				}
			}
		})
	}
}
