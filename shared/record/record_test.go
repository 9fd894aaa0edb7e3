package record_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/record"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	commitP = "77ab0000000000000000000000000000000000a1"
	commitT = "51e0000000000000000000000000000000000b2c"
	digestB = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

func promotion() record.Record {
	return record.Record{
		Kind:           record.Promotion,
		Environment:    "prod",
		Protected:      true,
		Repository:     "https://git.example.com/platform-config.git",
		Branch:         "main",
		Commit:         commitP,
		RollbackCommit: commitT,
		Images:         []record.Image{record.ImageOf("ghcr.io/example/payments-api:1.9.0@" + digestB)},
		Files:          []string{"apps/payments-api/overlays/prod/kustomization.yaml"},
		Verdict: &record.Verdict{Result: "Allowed", Policy: []string{"flux-system/platform-policy/base.yaml"},
			PolicyRevision: "sha256:abc", RulesPassed: []string{"prod-immutable-images"}},
		Approval: &record.Approval{Gate: "flux-system/payments-api-prod", Identity: "flux-gate", Proposal: "automation/payments-api-prod"},
		Time:     time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC),
	}
}

// pullRequest is a promotion a person merged on the forge, fast-forward.
func pullRequest() record.Record {
	r := promotion()
	r.Approval.PullRequest = &record.PullRequest{Number: 7, URL: "https://git.example.com/platform/fleet/pulls/7",
		MergedBy: "erin", ApprovedBy: []string{"dana", "frank"}, RollbackFrom: record.RollbackFromLastJudged}
	return r
}

// mergeCommit is a promotion a person merged with a merge commit, without approval.
func mergeCommit() record.Record {
	r := promotion()
	r.Approval.PullRequest = &record.PullRequest{Number: 8, MergedBy: "erin",
		MergeCommit: "4242000000000000000000000000000000000042", RollbackFrom: record.RollbackFromMergeCommit}
	return r
}

// proposed is the record a pull request's body shows before the merge.
func proposed() record.Record {
	r := promotion()
	r.Approval.PullRequest = &record.PullRequest{Number: 7, URL: "https://git.example.com/platform/fleet/pulls/7",
		RollbackFrom: record.RollbackFromLastJudged}
	return r
}

func rollback() record.Record {
	return record.Record{
		Kind:           record.Rollback,
		Environment:    "prod",
		Branch:         "main",
		Commit:         "9999000000000000000000000000000000000003",
		RollbackCommit: commitP,
		Images:         []record.Image{record.ImageOf("ghcr.io/example/payments-api:1.9.0@" + digestB)},
		Rollback: &record.RollbackInfo{Gate: "flux-system/payments-api-prod", Author: "Dana Dev <dana@example.com>", Subject: `Revert "Update image"`,
			Digests: []string{digestB}, Promotion: "prod-2026-06-01-001", PromotedCommit: commitP},
		Time: time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC),
	}
}

// A record survives the round trip through its tag message, and the message is the
// golden one: subject, YAML block, prose.
func TestMarshalParseGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  record.Record
	}{{"promotion", promotion()}, {"rollback", rollback()},
		{"pullrequest", pullRequest()}, {"mergecommit", mergeCommit()}, {"proposed", proposed()}} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := record.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt", msg)
			got, err := record.Parse(msg)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.rec
			want.Format = record.Version
			if a, b := mustMarshal(t, got), mustMarshal(t, want); string(a) != string(b) {
				t.Errorf("round trip changed the record:\n%s\nwant\n%s", a, b)
			}
			// A signature appended by Git does not disturb the parse.
			signed := append(append([]byte{}, msg...), "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"...)
			if _, err := record.Parse(signed); err != nil {
				t.Errorf("signed message: %v", err)
			}
		})
	}
}

// The commit a promotion put on the branch's first-parent line: the merge commit when
// the forge made one, else the promoted commit itself.
func TestLanded(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  record.Record
		want string
	}{
		{"push", promotion(), commitP},
		{"fast-forward merge", pullRequest(), commitP},
		{"merge commit", mergeCommit(), "4242000000000000000000000000000000000042"},
		{"rollback", rollback(), "9999000000000000000000000000000000000003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rec.Landed(); got != tc.want {
				t.Errorf("Landed() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, msg, want string }{
		{"no block", "Release 1.2.3\n\nnotes\n", record.ErrNoRecord.Error()},
		{"other version", "x\n\n---\nformat: promotion-gate.io/record/v9\nkind: promotion\n...\n", "upgrade promotion-gate"},
		{"unknown field", "x\n\n---\nformat: " + record.Version + "\nkind: promotion\nsurprise: 1\n...\n", "surprise"},
		{"missing commit", "x\n\n---\nformat: " + record.Version + "\nkind: promotion\nbranch: main\ntime: 2026-06-01T00:00:00Z\nverdict: {result: Allowed, policyRevision: x}\n...\n", "commit"},
		{"bad merge commit", "x\n\n---\nformat: " + record.Version + "\nkind: promotion\nbranch: main\ncommit: " + commitP +
			"\ntime: 2026-06-01T00:00:00Z\nverdict: {result: Allowed, policyRevision: x}\napproval: {gate: a/b, identity: i, pullRequest: {number: 1, mergeCommit: HEAD}}\n...\n", "mergeCommit"},
		{"bad kind", "x\n\n---\nformat: " + record.Version + "\nkind: deploy\n...\n", "kind"},
		{"too large", strings.Repeat("a", record.MaxSize+1), "larger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := record.Parse([]byte(tc.msg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNextTag(t *testing.T) {
	day := time.Date(2026, 6, 1, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, tmpl string
		vars       record.TagVars
		existing   []string
		want       string
	}{
		{"first", "", record.TagVars{Env: "prod", Time: day}, nil, "prod-2026-06-01-001"},
		{"after others", "", record.TagVars{Env: "prod", Time: day},
			[]string{"prod-2026-06-01-001", "prod-2026-06-01-007", "staging-2026-06-01-009", "prod-2026-05-31-012", "v1.0.0"}, "prod-2026-06-01-008"},
		{"unclassified and unsafe", "{gate}/{env}-{seq}", record.TagVars{Gate: "a b", Time: day}, []string{"a-b/unclassified-041"}, "a-b/unclassified-042"},
		{"past 999", "", record.TagVars{Env: "prod", Time: day}, []string{"prod-2026-06-01-999"}, "prod-2026-06-01-1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := record.NextTag(tc.tmpl, tc.vars, tc.existing)
			if err != nil || got != tc.want {
				t.Fatalf("NextTag = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"{env}-{date}", "{env}-{seq}-{seq}", "{env}-{nope}-{seq}"} {
		if err := record.ValidateTagTemplate(bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

func mustMarshal(t *testing.T, r record.Record) []byte {
	t.Helper()
	b, err := record.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run with -update if intended):\n%s", name, got)
	}
}
