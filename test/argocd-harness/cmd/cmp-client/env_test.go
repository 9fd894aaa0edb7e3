package main

import (
	"slices"
	"testing"
)

// The plugin must see what the repo-server would send: Argo CD's build environment,
// ARGOCD_ENV_-prefixed plugin env (with $VAR substitution), ARGOCD_APP_PARAMETERS and
// PARAM_* for parameters.
func TestPluginEnv(t *testing.T) {
	env, err := pluginEnv(options{
		appName: "payments-api-prod", namespace: "payments-prod", appPath: "apps/payments-api/overlays/prod",
		revision: "0123456789abcdef0123456789abcdef01234567", repoURL: "https://git.example.com/r.git",
		targetRevision: "main", kubeVersion: "1.31.0+k3s1", apiVersions: "v1,apps/v1",
		env:            stringList{"POLICY=$ARGOCD_APP_NAME"},
		params:         stringList{"environment=dev"},
		parametersJSON: `[{"name":"values-files","array":["values-prod.yaml"]}]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ARGOCD_APP_NAME=payments-api-prod",
		"ARGOCD_APP_NAMESPACE=payments-prod",
		"ARGOCD_APP_SOURCE_PATH=apps/payments-api/overlays/prod",
		"ARGOCD_APP_REVISION_SHORT=0123456",
		"ARGOCD_APP_SOURCE_TARGET_REVISION=main",
		"KUBE_VERSION=1.31.0k3s1",
		"KUBE_API_VERSIONS=v1,apps/v1",
		"ARGOCD_ENV_POLICY=payments-api-prod",
		`ARGOCD_APP_PARAMETERS=[{"name":"environment","string":"dev"},{"array":["values-prod.yaml"],"name":"values-files"}]`,
		"PARAM_ENVIRONMENT=dev",
		"PARAM_VALUES_FILES_0=values-prod.yaml",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("missing %s in\n%q", want, env)
		}
	}

	if _, err := pluginEnv(options{env: stringList{"NOVALUE"}}); err == nil {
		t.Error("an -env without = was accepted")
	}
	if _, err := pluginEnv(options{parametersJSON: "{"}); err == nil {
		t.Error("invalid -parameters JSON was accepted")
	}
}
