package forge_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/forge"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The pull request bodies a person reads, for a held and for a passing proposal: the
// status line, the images, the policy revision and the markdown report, with the
// extra section last.
func TestBodyGolden(t *testing.T) {
	const (
		commit   = "7f6c0be5a354c9b4a576a25e3e8287636882a86b"
		revision = "sha256:9f1c0d5e8a7b6c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
		digest   = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		file     = "apps/payments-api/overlays/prod/kustomization.yaml"
	)
	held := evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: revision,
		Findings: []evaluate.Finding{{Rule: "prod-immutable-images", Check: "denyTags", Enforcement: policy.Deny,
			Image: "ghcr.io/example/payments-api:latest", Source: extract.Source{File: file, Line: 8, FieldPath: "images[0].newTag"},
			Message: `tag "latest" is denied (denyTags "latest")`,
			Fix:     `use a release tag instead of "latest": ghcr.io/example/payments-api:<version>`}}}
	passed := evaluate.Result{Verdict: evaluate.Allowed, Environment: "prod", Protected: true, PolicyRevision: revision}
	for _, tc := range []struct {
		name   string
		res    evaluate.Result
		images []string
		extra  string
		held   string
	}{
		{"held", held, []string{"ghcr.io/example/payments-api:latest"}, "", ""},
		{"passed", passed, []string{"ghcr.io/example/payments-api:1.9.1@" + digest}, "### Promotion record\n\nThe record of this promotion goes here.", ""},
		{"held-rolled-back", passed, []string{"ghcr.io/example/payments-api:1.9.0@" + digest},
			"### Held: it brings back a rolled-back digest\n\nHow to release it goes here.", "is allowed by the policy but brings back a digest rolled back on main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var md bytes.Buffer
			if err := report.Write(&md, report.Markdown, []report.Target{{Path: "automation/payments-api-prod@" + commit[:12], Result: tc.res}}); err != nil {
				t.Fatal(err)
			}
			state, _ := forge.Verdict(tc.res)
			if tc.held != "" {
				state = forge.Failure
			}
			got := forge.Body(forge.BodyParts{Commit: commit, Base: "main", State: state, Context: "promotion-gate/prod",
				Report: md.String(), Images: tc.images, PolicyRevision: tc.res.PolicyRevision, Extra: tc.extra, Held: tc.held})
			golden := filepath.Join("testdata", "body-"+tc.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read %s: %v (go test ./forge/ -run TestBodyGolden -update writes it)", golden, err)
			}
			if got != string(want) {
				t.Errorf("body differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
