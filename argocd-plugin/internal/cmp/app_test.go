package cmp

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestFromEnviron(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    App
		wantErr string
	}{
		{
			name: "argo cd build environment",
			environ: []string{
				"ARGOCD_APP_NAME=payments-api-prod",
				"ARGOCD_APP_NAMESPACE=payments-prod",
				"ARGOCD_APP_SOURCE_PATH=apps/payments-api/overlays/prod",
				"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/platform-config.git",
				"ARGOCD_APP_REVISION=0123456789abcdef0123456789abcdef01234567",
				"ARGOCD_APP_SOURCE_TARGET_REVISION=main",
				"KUBE_VERSION=1.31.0",
				"KUBE_API_VERSIONS=v1,apps/v1, batch/v1 ,",
			},
			want: App{
				Name: "payments-api-prod", Namespace: "payments-prod",
				SourcePath: "apps/payments-api/overlays/prod",
				RepoURL:    "https://git.example.com/platform-config.git",
				Revision:   "0123456789abcdef0123456789abcdef01234567", TargetRevision: "main",
				KubeVersion: "1.31.0", APIVersions: []string{"v1", "apps/v1", "batch/v1"},
			},
		},
		{
			name:    "app in another namespace carries a namespace prefix",
			environ: []string{"ARGOCD_APP_NAME=team-a_payments-api-prod"},
			want:    App{Name: "payments-api-prod", SourcePath: "."},
		},
		{
			name:    "source path is cleaned",
			environ: []string{"ARGOCD_APP_SOURCE_PATH=/apps/payments-api/overlays/prod/"},
			want:    App{SourcePath: "apps/payments-api/overlays/prod"},
		},
		{
			name:    "source path climbing out of the repository",
			environ: []string{"ARGOCD_APP_SOURCE_PATH=apps/../../etc"},
			wantErr: "points outside the repository",
		},
		{
			name: "ARGOCD_ENV variables are ignored, whatever they are called",
			environ: []string{
				"ARGOCD_ENV_PROMOTION_GATE_POLICY_DIR=/tmp/empty",
				"ARGOCD_ENV_ARGOCD_APP_SOURCE_PATH=apps/payments-api/overlays/dev",
				"ARGOCD_ENV_PARAM_ENVIRONMENT=dev",
				"ARGOCD_APP_SOURCE_PATH=apps/payments-api/overlays/prod",
			},
			want: App{SourcePath: "apps/payments-api/overlays/prod"},
		},
		{
			name:    "later entries win",
			environ: []string{"ARGOCD_APP_NAME=a", "ARGOCD_APP_NAME=b", "malformed"},
			want:    App{Name: "b", SourcePath: "."},
		},
		{
			name:    "oversized value",
			environ: []string{"ARGOCD_APP_PARAMETERS=" + strings.Repeat("x", maxEnvironValueSize+1)},
			wantErr: "over the",
		},
		{
			name: "parameters",
			environ: []string{
				`ARGOCD_APP_PARAMETERS=[{"name":"values-files","array":["values-prod.yaml","/shared/values.yaml"]},{"name":"environment","string":"prod"},{"name":"release-name","string":"payments"}]`,
				"PARAM_VALUES_FILES_0=ignored-when-the-json-is-there.yaml",
			},
			want: App{SourcePath: ".", Params: Params{
				ValuesFiles: []string{"values-prod.yaml", "/shared/values.yaml"},
				Environment: "prod", ReleaseName: "payments",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := FromEnviron(tt.environ)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestAppBranchAndReleaseName(t *testing.T) {
	tests := []struct {
		app         App
		branch      string
		releaseName string
	}{
		{App{Name: "payments-api-prod", TargetRevision: "production"}, "production", "payments-api-prod"},
		{App{Name: "x", TargetRevision: "refs/heads/main"}, "main", "x"},
		{App{TargetRevision: "HEAD"}, "", ""},
		{App{TargetRevision: "0123456789abcdef0123456789abcdef01234567"}, "", ""},
		{App{Name: "x", Params: Params{ReleaseName: "rel"}}, "", "rel"},
	}
	for _, tt := range tests {
		g := NewWithT(t)
		g.Expect(tt.app.Branch()).To(Equal(tt.branch), "branch of %+v", tt.app)
		g.Expect(tt.app.ReleaseName()).To(Equal(tt.releaseName), "release name of %+v", tt.app)
	}
}

// FuzzFromEnviron feeds arbitrary Argo CD variables and parameters to the parser: it may
// refuse them, but must not panic, and what it accepts is within its limits.
func FuzzFromEnviron(f *testing.F) {
	f.Add("apps/payments-api/overlays/prod", `[{"name":"values-files","array":["values-prod.yaml"]}]`, "v1,apps/v1", "PARAM_ENVIRONMENT=prod")
	f.Add("..", `[{"name":"environment","map":{"a":"b"}}]`, "", "PARAM_VALUES_FILES_3=x")
	f.Add("", "", "", "PARAM_NOPE=1")
	f.Fuzz(func(t *testing.T, sourcePath, params, apiVersions, extra string) {
		app, err := FromEnviron([]string{
			EnvAppSourcePath + "=" + sourcePath,
			EnvAppParameters + "=" + params,
			EnvKubeAPIVersions + "=" + apiVersions,
			extra,
		})
		if err != nil {
			return
		}
		if app.SourcePath == ".." || strings.HasPrefix(app.SourcePath, "../") {
			t.Fatalf("accepted a source path outside the repository: %q", app.SourcePath)
		}
		if len(app.Params.ValuesFiles) > maxValuesFiles {
			t.Fatalf("accepted %d values files", len(app.Params.ValuesFiles))
		}
	})
}
