package check_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

const examples = "../../examples"

func examplePolicy(t *testing.T) *policy.Set {
	t.Helper()
	set, err := policy.Load(filepath.Join(examples, "policy"))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestClassify(t *testing.T) {
	set := examplePolicy(t)
	cases := []struct {
		name   string
		q      policy.Query
		values []string
		want   string
	}{
		{name: "repository-relative prod path", q: policy.Query{Path: "apps/payments-api/overlays/prod"}, want: "prod"},
		{name: "the same repository as a subtree", q: policy.Query{Path: "config/platform/apps/payments-api/overlays/prod"}, want: "prod"},
		{name: "dev path", q: policy.Query{Path: "apps/payments-api/overlays/dev"}, want: "dev"},
		{name: "unclassified path", q: policy.Query{Path: "docs"}, want: ""},
		{name: "prod values file on a shared chart", q: policy.Query{Path: "charts/payments-api"}, values: []string{"values-prod.yaml"}, want: "prod"},
		{name: "dev values then prod values: the strictest wins", q: policy.Query{Path: "charts/payments-api"}, values: []string{"values-dev.yaml", "values-prod.yaml"}, want: "prod"},
		{name: "prod values then dev values: the strictest wins", q: policy.Query{Path: "charts/payments-api"}, values: []string{"values-prod.yaml", "values-dev.yaml"}, want: "prod"},
		{name: "a requested environment makes it stricter", q: policy.Query{Path: "apps/payments-api/overlays/dev", Requested: "prod"}, want: "prod"},
		{name: "a requested environment never makes it weaker", q: policy.Query{Path: "apps/payments-api/overlays/prod", Requested: "dev"}, want: "prod"},
		{name: "an application name", q: policy.Query{Path: "anything", Application: "payments-api-prod"}, want: "prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cls, err := check.Classify(set, tc.q, tc.values)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cls.Environment).To(Equal(tc.want))
		})
	}
}

func TestRunFailsClosed(t *testing.T) {
	g := NewWithT(t)
	repo := filepath.Join(examples, "platform-config")
	prod := filepath.Join(repo, "apps/payments-api/overlays/prod")

	out := check.Run(context.Background(), check.Request{Path: prod, RepoRoot: repo, PolicyErr: errors.New("policy dir unreadable")})
	g.Expect(out.Err).To(MatchError(ContainSubstring("policy dir unreadable")))
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Denied))

	out = check.Run(context.Background(), check.Request{Path: prod, RepoRoot: repo})
	g.Expect(out.Err).To(MatchError(check.ErrNoPolicy))
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Denied))

	out = check.Run(context.Background(), check.Request{Path: filepath.Join(repo, "apps/missing"), RepoRoot: repo, Policy: examplePolicy(t), Query: policy.Query{Requested: "prod"}})
	g.Expect(out.Err).To(HaveOccurred())
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Denied))

	out = check.Run(context.Background(), check.Request{Path: prod, RepoRoot: filepath.Join(repo, "charts"), Policy: examplePolicy(t)})
	g.Expect(out.Err).To(MatchError(ContainSubstring("outside the repository root")))
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Denied))
}

func TestRunRendersAndEvaluates(t *testing.T) {
	g := NewWithT(t)
	repo := filepath.Join(examples, "platform-config")
	out := check.Run(context.Background(), check.Request{Path: filepath.Join(repo, "apps/payments-api/overlays/prod"), RepoRoot: repo, Policy: examplePolicy(t)})
	g.Expect(out.Err).NotTo(HaveOccurred())
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Allowed))
	g.Expect(out.Result.Environment).To(Equal("prod"))
	g.Expect(out.Result.Images).To(HaveLen(1))
	g.Expect(out.Rendered.Renderer).To(Equal("kustomize"))
	g.Expect(string(out.Rendered.YAML)).To(ContainSubstring("@sha256:8d3f8f5a"))
}

func TestRepoRoot(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	app := filepath.Join(dir, "apps", "x")
	g.Expect(os.MkdirAll(app, 0o755)).To(Succeed())
	g.Expect(os.Mkdir(filepath.Join(dir, ".git"), 0o755)).To(Succeed())
	g.Expect(check.RepoRoot(check.Request{Path: app})).To(Equal(dir))
	g.Expect(check.RepoRoot(check.Request{Path: app, RepoRoot: "/elsewhere"})).To(Equal("/elsewhere"))
	q, err := check.Query(check.Request{Path: app})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(q.Path).To(Equal("apps/x"))
}

// A container image that also carries a Flux setter marker is one image, not two: flux-gate
// passes both the parsed documents and the setter images of a changed file.
func TestDocumentsCountsAMarkedImageOnce(t *testing.T) {
	g := NewWithT(t)
	const file = "apps/payments-api/overlays/prod/deployment.yaml"
	data := []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: payments-api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/example/payments-api:latest # {"$imagepolicy": "flux-system:payments-api-prod"}
`)
	docs, err := render.ParseDocuments(file, data, render.Limits{})
	g.Expect(err).NotTo(HaveOccurred())
	setters, err := extract.Setters(file, data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(setters).To(HaveLen(1))

	set := examplePolicy(t)
	cls, err := check.Classify(set, policy.Query{Path: file}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	res := check.Documents(context.Background(), set, cls, docs, setters, time.Time{}, check.Verifiers{})
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Images).To(HaveLen(1))
	g.Expect(res.Images[0].Source.ImagePolicy).To(Equal("flux-system:payments-api-prod"))
}

func TestPolicyDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, policy, want string }{
		{"a directory", dir, dir},
		{"a single file", file, dir},
		{"missing", filepath.Join(dir, "nope"), dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(check.PolicyDir(tt.policy)).To(Equal(tt.want))
		})
	}
}
