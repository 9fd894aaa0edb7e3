package check_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

const promotionPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: promotion}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
    - name: dev
      match: {paths: ["dev/**"]}
  rules:
    - name: signed-promotions
      environments: [prod, dev]
      enforcement: deny
      changeScope: imagesOnly
      commitSignatures:
        allCommits: true
        keys:
          - name: release-ssh
            ssh: {data: "%SSH%"}
          - name: release-pgp
            openpgp: {secretRef: {name: release-keys, key: %PGPKEY%}}
`

// signedCommits makes a history of commits signed as each signer says (nil: unsigned),
// and returns them newest first, as a promotion lists them.
func signedCommits(t *testing.T, signers ...func(*gogit.CommitOptions)) []*object.Commit {
	t.Helper()
	repo, err := gogit.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	var out []*object.Commit
	for i, sign := range signers {
		opts := gogit.CommitOptions{AllowEmptyCommits: true,
			Author: &object.Signature{Name: "Flux", Email: "flux@example.com", When: time.Unix(int64(1_700_000_000+i), 0)}}
		if sign != nil {
			sign(&opts)
		}
		h, err := wt.Commit("promote payments-api", &opts)
		if err != nil {
			t.Fatal(err)
		}
		c, err := repo.CommitObject(h)
		if err != nil {
			t.Fatal(err)
		}
		out = append([]*object.Commit{c}, out...)
	}
	return out
}

func TestPromotion(t *testing.T) {
	sshKey := commitsigtest.NewSSHKey(t)
	pgp := commitsigtest.NewOpenPGPKey(t, "Release", "release@example.com")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "release-keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "release-keys", "pgp.asc"), pgp.Public, 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(pgpKey string) *policy.Set {
		doc := strings.NewReplacer("%SSH%", strings.TrimSpace(string(sshKey.AuthorizedKey)), "%PGPKEY%", pgpKey).Replace(promotionPolicy)
		set, err := policy.Parse(policy.Source{Name: "promotion.yaml", Data: []byte(doc)})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	good := parse("pgp.asc")
	viaSSH := func(o *gogit.CommitOptions) { o.Signer = sshKey }
	viaPGP := func(o *gogit.CommitOptions) { o.SignKey = pgp.Entity }
	prod := policy.Classification{Environment: "prod", Protected: true}
	dev := policy.Classification{Environment: "dev"}
	replicas := changescope.Change{File: "prod/deploy.yaml", Kind: "Deployment", Namespace: "payments", Name: "payments-api",
		Field: "spec.replicas", Op: changescope.Changed, Old: "2", New: "5"}

	tests := []struct {
		name    string
		set     *policy.Set
		env     policy.Classification
		commits []*object.Commit
		changes []changescope.Change
		want    []string // "<check> <enforcement> <message substring>"
	}{
		{name: "signed by ssh and openpgp", set: good, env: prod, commits: signedCommits(t, viaPGP, viaSSH)},
		{name: "unsigned head", set: good, env: prod, commits: signedCommits(t, viaSSH, nil),
			want: []string{"commitSignatures deny unsigned"}},
		{name: "unsigned older commit with allCommits", set: good, env: prod, commits: signedCommits(t, nil, viaSSH),
			want: []string{"commitSignatures deny unsigned"}},
		{name: "replicas changed", set: good, env: prod, commits: signedCommits(t, viaSSH), changes: []changescope.Change{replicas},
			want: []string{"changeScope deny Deployment payments/payments-api spec.replicas changed 2 → 5"}},
		{name: "dev only warns", set: good, env: dev, commits: signedCommits(t, nil), changes: []changescope.Change{replicas},
			want: []string{"commitSignatures warn unsigned", "changeScope warn spec.replicas changed"}},
		{name: "unreadable key fails closed", set: parse("missing.asc"), env: prod, commits: signedCommits(t, viaSSH),
			want: []string{"commitSignatures deny commitSignatures check failed: read OpenPGP key release-pgp"}},
		{name: "no commits given: not checked", set: good, env: prod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			fs := check.Promotion(context.Background(), check.PromotionRequest{
				Policy: tt.set, Environment: tt.env, Commits: tt.commits, Changes: tt.changes, Trust: trust.Dir(dir),
			})
			g.Expect(fs).To(HaveLen(len(tt.want)), "%+v", fs)
			for i, w := range tt.want {
				parts := strings.SplitN(w, " ", 3)
				g.Expect(fs[i].Rule).To(Equal("signed-promotions"))
				g.Expect(fs[i].Check).To(Equal(parts[0]))
				g.Expect(string(fs[i].Enforcement)).To(Equal(parts[1]))
				g.Expect(fs[i].Message).To(ContainSubstring(parts[2]))
				g.Expect(fs[i].Fix).NotTo(BeEmpty())
			}
		})
	}
}

func TestWithFindings(t *testing.T) {
	deny := evaluate.Finding{Rule: "r", Check: check.CheckChangeScope, Enforcement: policy.Deny, Message: "b"}
	warn := evaluate.Finding{Rule: "r", Check: check.CheckChangeScope, Enforcement: policy.Warn, Message: "a"}
	tests := []struct {
		name string
		in   evaluate.Verdict
		add  []evaluate.Finding
		want evaluate.Verdict
	}{
		{name: "nothing added", in: evaluate.Allowed, want: evaluate.Allowed},
		{name: "a warning", in: evaluate.Allowed, add: []evaluate.Finding{warn}, want: evaluate.Warned},
		{name: "a denial", in: evaluate.Warned, add: []evaluate.Finding{warn, deny}, want: evaluate.Denied},
		{name: "a failure stays denied", in: evaluate.Denied, add: []evaluate.Finding{warn}, want: evaluate.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res := check.WithFindings(evaluate.Result{Verdict: tt.in, Findings: []evaluate.Finding{}}, tt.add)
			g.Expect(res.Verdict).To(Equal(tt.want))
			g.Expect(res.Findings).To(HaveLen(len(tt.add)))
			if len(tt.add) == 2 {
				g.Expect(res.Findings[0].Message).To(Equal("a"), "sorted by message")
			}
		})
	}
}
