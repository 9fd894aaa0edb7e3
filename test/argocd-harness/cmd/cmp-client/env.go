package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
)

// pluginEnv builds the variables the repo-server sends with a manifest request, in the
// repo-server's order: the build environment, KUBE_VERSION and KUBE_API_VERSIONS, the
// Application's plugin env with the ARGOCD_ENV_ prefix (after $VAR substitution from the
// build environment), then ARGOCD_APP_PARAMETERS and PARAM_* from the plugin parameters.
// It uses argo-cd's own types for the parts that have rules (Envsubst, parameter
// escaping), so the plugin sees what it would see in a cluster.
func pluginEnv(o options) ([]string, error) {
	build := v1alpha1.Env{
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_NAME", Value: o.appName},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_NAMESPACE", Value: o.namespace},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_REVISION", Value: o.revision},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_REVISION_SHORT", Value: shorten(o.revision, 7)},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_REVISION_SHORT_8", Value: shorten(o.revision, 8)},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_SOURCE_REPO_URL", Value: o.repoURL},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_SOURCE_PATH", Value: o.appPath},
		&v1alpha1.EnvEntry{Name: "ARGOCD_APP_SOURCE_TARGET_REVISION", Value: o.targetRevision},
	}
	env := build.Environ()
	env = append(env, "KUBE_VERSION="+strings.ReplaceAll(o.kubeVersion, "+", ""))
	env = append(env, "KUBE_API_VERSIONS="+o.apiVersions)

	plugin := v1alpha1.ApplicationSourcePlugin{}
	for _, kv := range o.env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-env %q: want NAME=VALUE", kv)
		}
		plugin.Env = append(plugin.Env, &v1alpha1.EnvEntry{Name: name, Value: value})
	}
	for _, kv := range o.params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-param %q: want NAME=VALUE", kv)
		}
		v := value
		plugin.Parameters = append(plugin.Parameters, v1alpha1.ApplicationSourcePluginParameter{Name: name, String_: &v})
	}
	if o.parametersJSON != "" {
		var more v1alpha1.ApplicationSourcePluginParameters
		if err := json.Unmarshal([]byte(o.parametersJSON), &more); err != nil {
			return nil, fmt.Errorf("-parameters: want the JSON of spec.source.plugin.parameters: %w", err)
		}
		plugin.Parameters = append(plugin.Parameters, more...)
	}

	for _, entry := range plugin.Env {
		env = append(env, fmt.Sprintf("ARGOCD_ENV_%s=%s", entry.Name, build.Envsubst(entry.Value)))
	}
	if len(plugin.Parameters) > 0 {
		paramEnv, err := plugin.Parameters.Environ()
		if err != nil {
			return nil, fmt.Errorf("plugin parameters: %w", err)
		}
		env = append(env, paramEnv...)
	}
	return env, nil
}

func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
