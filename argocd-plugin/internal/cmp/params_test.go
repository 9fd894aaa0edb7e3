package cmp

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Params
		wantErr string
	}{
		{name: "none", env: map[string]string{}},
		{name: "json null", env: map[string]string{EnvAppParameters: "null"}},
		{
			name: "values files as one string",
			env:  map[string]string{EnvAppParameters: `[{"name":"values-files","string":"values.yaml, values-prod.yaml"}]`},
			want: Params{ValuesFiles: []string{"values.yaml", "values-prod.yaml"}},
		},
		{
			name:    "unknown parameter",
			env:     map[string]string{EnvAppParameters: `[{"name":"disable-gate","string":"true"}]`},
			wantErr: `unknown plugin parameter "disable-gate"`,
		},
		{
			name:    "environment as a map",
			env:     map[string]string{EnvAppParameters: `[{"name":"environment","map":{"a":"b"}}]`},
			wantErr: "takes a string",
		},
		{
			name:    "values files as a map",
			env:     map[string]string{EnvAppParameters: `[{"name":"values-files","map":{"a":"b"}}]`},
			wantErr: "not map",
		},
		{
			name:    "unknown field",
			env:     map[string]string{EnvAppParameters: `[{"name":"environment","strng":"dev"}]`},
			wantErr: "ARGOCD_APP_PARAMETERS",
		},
		{
			name:    "not json",
			env:     map[string]string{EnvAppParameters: `{`},
			wantErr: "ARGOCD_APP_PARAMETERS",
		},
		{
			name:    "empty file name",
			env:     map[string]string{EnvAppParameters: `[{"name":"values-files","array":["a.yaml",""]}]`},
			wantErr: "empty file name",
		},
		{
			name: "PARAM variables, array in index order",
			env: map[string]string{
				"PARAM_VALUES_FILES_1": "values-prod.yaml",
				"PARAM_VALUES_FILES_0": "values.yaml",
				"PARAM_ENVIRONMENT":    " prod ",
				"PARAM_RELEASE_NAME":   "payments",
			},
			want: Params{ValuesFiles: []string{"values.yaml", "values-prod.yaml"}, Environment: "prod", ReleaseName: "payments"},
		},
		{
			name: "PARAM variable as a string",
			env:  map[string]string{"PARAM_VALUES_FILES": "a.yaml,b.yaml"},
			want: Params{ValuesFiles: []string{"a.yaml", "b.yaml"}},
		},
		{
			name:    "unknown PARAM variable",
			env:     map[string]string{"PARAM_POLICY_DIR": "/tmp"},
			wantErr: `unknown plugin parameter "PARAM_POLICY_DIR"`,
		},
		{
			name:    "PARAM index out of range",
			env:     map[string]string{"PARAM_VALUES_FILES_999": "x"},
			wantErr: "unknown plugin parameter",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := parseParams(tt.env)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestSettingsFromEnv(t *testing.T) {
	defaults := DefaultSettings()
	withMemory := func(n int64) Settings { s := DefaultSettings(); s.MaxMemory = n; return s }
	tests := []struct {
		name    string
		env     map[string]string
		want    Settings
		wantErr string
	}{
		{
			name: "defaults",
			want: defaults,
		},
		{
			name: "sidecar overrides",
			env: map[string]string{EnvPolicyDir: "/policy", EnvTimeout: "20s", EnvMaxOutputBytes: "1024",
				EnvTrustDir: "/trust", EnvRegistryTimeout: "3s", EnvDockerConfig: "/docker", EnvVerifyCacheDir: "/cache"},
			want: Settings{PolicyDir: "/policy", Timeout: 20 * time.Second, MaxOutputBytes: 1024,
				TrustDir: "/trust", RegistryTimeout: 3 * time.Second, DockerConfig: "/docker", VerifyCacheDir: "/cache",
				MaxMemory: render.DefaultMaxMemory},
		},
		{name: "memory budget as a quantity", env: map[string]string{EnvMaxMemory: "300Mi"}, want: withMemory(300 << 20)},
		{name: "memory budget as a share of the container's limit", env: map[string]string{EnvMaxMemory: "25%", EnvMemoryLimit: "2147483648"}, want: withMemory(512 << 20)},
		{name: "default memory budget: half the container's limit", env: map[string]string{EnvMemoryLimit: "1073741824"}, want: withMemory(512 << 20)},
		{name: "a share without a container limit", env: map[string]string{EnvMaxMemory: "50%"}, wantErr: EnvMemoryLimit},
		{name: "bad memory budget", env: map[string]string{EnvMaxMemory: "lots"}, wantErr: EnvMaxMemory},
		{name: "memory budget too small", env: map[string]string{EnvMaxMemory: "1Mi"}, wantErr: "under the minimum"},
		{name: "application cannot set the budget", env: map[string]string{"ARGOCD_ENV_" + EnvMaxMemory: "64Gi", "PARAM_MAX_MEMORY": "64Gi"}, want: defaults},
		{
			name: "application-controlled names change nothing",
			env: map[string]string{"ARGOCD_ENV_" + EnvPolicyDir: "/tmp/empty", "PARAM_TIMEOUT": "1h",
				"ARGOCD_ENV_" + EnvTrustDir: "/tmp/keys", "ARGOCD_ENV_" + EnvDockerConfig: "/tmp/docker",
				"ARGOCD_ENV_" + EnvVerifyCacheDir: "/tmp/forged"},
			want: defaults,
		},
		{name: "bad timeout", env: map[string]string{EnvTimeout: "soon"}, wantErr: EnvTimeout},
		{name: "zero timeout", env: map[string]string{EnvTimeout: "0s"}, wantErr: "must be positive"},
		{name: "bad registry timeout", env: map[string]string{EnvRegistryTimeout: "1 minute"}, wantErr: EnvRegistryTimeout},
		{name: "zero registry timeout", env: map[string]string{EnvRegistryTimeout: "0s"}, wantErr: "must be positive"},
		{name: "bad size", env: map[string]string{EnvMaxOutputBytes: "64Mi"}, wantErr: EnvMaxOutputBytes},
		{name: "negative size", env: map[string]string{EnvMaxOutputBytes: "-1"}, wantErr: "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := SettingsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}
