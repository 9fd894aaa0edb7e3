// Package cmp turns what Argo CD hands a config management plugin — the ARGOCD_APP_*
// build environment, KUBE_VERSION, KUBE_API_VERSIONS and the application's plugin
// parameters — into a shared check request, and the check's outcome into what Argo CD
// shows: manifests on stdout, or a refusal on stderr and a non-zero exit.
//
// Two sources of input are kept apart on purpose. The sidecar's own settings
// (PROMOTION_GATE_*, flags in plugin.yaml) come from the platform team and decide where
// the policy lives and how long a check may run. Everything an application sets reaches
// the plugin as ARGOCD_ENV_* or PARAM_* / ARGOCD_APP_PARAMETERS and can only name values
// files, a release name, or a stricter environment: it can never move the policy or
// switch the gate off.
package cmp

import (
	"fmt"
	"path"
	"strings"
)

// Names of the variables Argo CD's repo-server sends with every manifest request.
const (
	EnvAppName          = "ARGOCD_APP_NAME"
	EnvAppNamespace     = "ARGOCD_APP_NAMESPACE"
	EnvAppProject       = "ARGOCD_APP_PROJECT_NAME" // Argo CD 3 and later
	EnvAppRevision      = "ARGOCD_APP_REVISION"
	EnvAppSourcePath    = "ARGOCD_APP_SOURCE_PATH"
	EnvAppRepoURL       = "ARGOCD_APP_SOURCE_REPO_URL"
	EnvAppTargetRev     = "ARGOCD_APP_SOURCE_TARGET_REVISION"
	EnvAppParameters    = "ARGOCD_APP_PARAMETERS"
	EnvKubeVersion      = "KUBE_VERSION"
	EnvKubeAPIVersions  = "KUBE_API_VERSIONS"
	appEnvPrefix        = "ARGOCD_ENV_"
	paramEnvPrefix      = "PARAM_"
	maxAPIVersions      = 4096
	maxEnvironValueSize = 64 << 10
)

// App is one manifest request as Argo CD describes it.
type App struct {
	// Name is the Application's name, without the "<namespace>_" prefix Argo CD adds for
	// applications outside its control-plane namespace.
	Name string
	// Namespace is the destination namespace.
	Namespace string
	// Project is the application's Argo CD project (AppProject); "" from Argo CD
	// releases that do not send it (2.14).
	Project string
	// SourcePath is spec.source.path: repository-relative, slash-separated, "." for the root.
	SourcePath string
	RepoURL    string
	Revision   string
	// TargetRevision is spec.source.targetRevision as written (a branch, tag, or commit).
	TargetRevision string
	// KubeVersion and APIVersions describe the destination cluster, for Helm's Capabilities.
	KubeVersion string
	APIVersions []string
	Params      Params
}

// FromEnviron reads a manifest request from the plugin's environment ("NAME=value"
// entries, as os.Environ returns them). Only Argo CD's own variables and the
// application's parameters are read; ARGOCD_ENV_* variables are ignored, because an
// application author controls them and nothing of the gate is configurable from there.
func FromEnviron(environ []string) (App, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || strings.HasPrefix(name, appEnvPrefix) {
			continue
		}
		// Later entries win, as they do for exec.Cmd.
		env[name] = value
	}
	for _, name := range []string{EnvAppName, EnvAppNamespace, EnvAppProject, EnvAppSourcePath, EnvAppTargetRev, EnvKubeVersion, EnvKubeAPIVersions, EnvAppParameters} {
		if len(env[name]) > maxEnvironValueSize {
			return App{}, fmt.Errorf("%s is %d bytes, over the %d-byte limit: shorten the application's settings", name, len(env[name]), maxEnvironValueSize)
		}
	}

	app := App{
		Name:           appName(env[EnvAppName]),
		Namespace:      env[EnvAppNamespace],
		Project:        strings.TrimSpace(env[EnvAppProject]),
		RepoURL:        env[EnvAppRepoURL],
		Revision:       env[EnvAppRevision],
		TargetRevision: env[EnvAppTargetRev],
		KubeVersion:    env[EnvKubeVersion],
	}
	if v := strings.TrimSpace(env[EnvKubeAPIVersions]); v != "" {
		for _, gv := range strings.Split(v, ",") {
			if gv = strings.TrimSpace(gv); gv != "" {
				app.APIVersions = append(app.APIVersions, gv)
			}
		}
		if len(app.APIVersions) > maxAPIVersions {
			return App{}, fmt.Errorf("%s lists %d API versions, over the limit of %d", EnvKubeAPIVersions, len(app.APIVersions), maxAPIVersions)
		}
	}
	sourcePath, err := cleanSourcePath(env[EnvAppSourcePath])
	if err != nil {
		return App{}, err
	}
	app.SourcePath = sourcePath

	params, err := parseParams(env)
	if err != nil {
		return App{}, err
	}
	app.Params = params
	return app, nil
}

// Branch is the target revision when it can name a branch, for classification by
// branch; "" for HEAD, an empty revision or a commit SHA. A tag may also match a branch
// glob: matching only makes the classification stricter, never weaker.
func (a App) Branch() string {
	rev := strings.TrimPrefix(a.TargetRevision, "refs/heads/")
	if rev == "" || rev == "HEAD" || isCommitSHA(rev) {
		return ""
	}
	return rev
}

// ReleaseName is the Helm release name: the parameter, else the application name, as
// Argo CD's own Helm support does.
func (a App) ReleaseName() string {
	if a.Params.ReleaseName != "" {
		return a.Params.ReleaseName
	}
	return a.Name
}

// appName strips the "<namespace>_" prefix Argo CD puts in front of the names of
// applications that live outside its own namespace. Kubernetes names cannot hold '_', so
// the prefix is unambiguous.
func appName(s string) string {
	if i := strings.LastIndexByte(s, '_'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// cleanSourcePath makes spec.source.path repository-relative and slash-separated, and
// refuses a path that climbs out of the repository.
func cleanSourcePath(p string) (string, error) {
	clean := path.Clean(strings.TrimLeft(strings.TrimSpace(p), "/"))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%s %q points outside the repository: set spec.source.path to a directory inside it", EnvAppSourcePath, p)
	}
	return clean, nil
}

func isCommitSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
