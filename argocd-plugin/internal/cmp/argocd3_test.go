package cmp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// The environments Argo CD hands the plugin, as each tested release builds them for the
// same Application (payments-api-prod in the AppProject payments-prod, with an empty
// plugin env entry and an empty environment parameter). Argo CD 2.14 drops empty
// ARGOCD_ENV_* values and sends no project; 3.x sends ARGOCD_APP_PROJECT_NAME, the short
// revisions, and the empty values too.
var (
	argocd214Environ = []string{
		"ARGOCD_APP_NAME=payments-api-prod",
		"ARGOCD_APP_NAMESPACE=payments-prod",
		"ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
		"ARGOCD_APP_REVISION_SHORT=0123456",
		"ARGOCD_APP_SOURCE_PATH=apps/payments-api/overlays/dev",
		"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/platform-config.git",
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main",
		"KUBE_VERSION=1.31.0",
		"KUBE_API_VERSIONS=v1,apps/v1",
		"ARGOCD_ENV_TEAM=payments",
		`ARGOCD_APP_PARAMETERS=[{"name":"environment","string":""}]`,
		"PARAM_ENVIRONMENT=",
	}
	argocd3Environ = append([]string{
		"ARGOCD_APP_PROJECT_NAME=payments-prod",
		"ARGOCD_APP_REVISION_SHORT_8=01234567",
		"ARGOCD_ENV_EMPTY=",
		"ARGOCD_ENV_PROMOTION_GATE_POLICY_DIR=",
	}, argocd214Environ...)
)

func TestFromEnvironArgoCDReleases(t *testing.T) {
	want := App{
		Name: "payments-api-prod", Namespace: "payments-prod",
		SourcePath: "apps/payments-api/overlays/dev",
		RepoURL:    "https://git.example.com/platform-config.git",
		Revision:   "0123456789abcdef0123456789abcdef01234567", TargetRevision: "main",
		KubeVersion: "1.31.0", APIVersions: []string{"v1", "apps/v1"},
	}
	want3 := want
	want3.Project = "payments-prod"
	tests := []struct {
		name    string
		environ []string
		want    App
	}{
		{"Argo CD 2.14: no project", argocd214Environ, want},
		{"Argo CD 3.x: the project, and empty ARGOCD_ENV_* values that change nothing", argocd3Environ, want3},
		{"Argo CD 3.x with an empty project name", append(append([]string{}, argocd3Environ...), "ARGOCD_APP_PROJECT_NAME="), want},
		{"project name with blanks around it", append(append([]string{}, argocd214Environ...), "ARGOCD_APP_PROJECT_NAME= payments-prod "), want3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := FromEnviron(tt.environ)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

// An environment can match Argo CD projects. The project can only make the check
// stricter: the dev overlay (a mutable tag) deployed by an application of the prod
// project is judged as prod under Argo CD 3.x; Argo CD 2.14 sends no project, so there it
// is classified by path, application and namespace only.
func TestGenerateByProject(t *testing.T) {
	const policy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: projects}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["apps/*/overlays/prod/**"], projects: ["payments-prod"]}
    - name: dev
      match: {paths: ["apps/*/overlays/dev/**"], projects: ["*-dev"]}
  rules:
    - {name: prod-digests, environments: [prod], requireDigest: true}
`
	examples, err := filepath.Abs(examplesRepo)
	if err != nil {
		t.Fatal(err)
	}
	s := settings(t)
	s.PolicyDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(s.PolicyDir, "projects.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	dev, prod := "apps/payments-api/overlays/dev", "apps/payments-api/overlays/prod"
	tests := []struct {
		name       string
		path       string
		environ    []string
		wantEnv    string
		wantCode   int
		wantStderr string
	}{
		{"Argo CD 2.14: classified by path, renders", dev, argocd214Environ, "dev", ExitRendered, ""},
		{"Argo CD 3.x: the prod project makes it prod, refused", dev, argocd3Environ, "prod", ExitRefused,
			`promotion-gate refused to render apps/payments-api/overlays/dev for environment "prod" (protected): 1 finding`},
		{"Argo CD 3.x: a dev project cannot make a prod path dev", prod, []string{"ARGOCD_APP_PROJECT_NAME=payments-dev"}, "prod", ExitRendered, ""},
		{"Argo CD 3.x: a dev project on a dev path", dev, []string{"ARGOCD_APP_PROJECT_NAME=payments-dev"}, "dev", ExitRendered, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			environ := append([]string{"ARGOCD_APP_SOURCE_PATH=" + tt.path, "KUBE_VERSION=1.31.0"}, tt.environ...)
			_, out, err := Decide(context.Background(), Request{Settings: s, Dir: filepath.Join(examples, filepath.FromSlash(tt.path)), Environ: environ})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out.Result.Environment).To(Equal(tt.wantEnv))

			code, _, stderr := generate(t, examples, tt.path, s, tt.environ...)
			g.Expect(code).To(Equal(tt.wantCode), stderr)
			g.Expect(stderr).To(ContainSubstring(tt.wantStderr))
		})
	}
}
