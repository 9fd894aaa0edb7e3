// Command cmp-client stands in for Argo CD's repo-server in the end-to-end tests: it finds
// a config management plugin's socket the way the repo-server does, streams a repository
// to it with argo-cd's own util/cmp.SendRepoStream, and calls CheckPluginConfiguration,
// GetParametersAnnouncement or GenerateManifest.
//
// Manifests (or the JSON response) go to stdout; on failure the error text, exactly as
// the repo-server receives it from the plugin, goes to stderr and the exit code is 1.
// Usage errors exit 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	log "github.com/sirupsen/logrus"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// options are the parts of an Application and of the repo-server's request that reach a
// plugin.
type options struct {
	op             string
	pluginDir      string
	plugin         string
	repoRoot       string
	appPath        string
	appName        string
	namespace      string
	revision       string
	repoURL        string
	targetRevision string
	kubeVersion    string
	apiVersions    string
	env            stringList
	params         stringList
	parametersJSON string
	output         string
	timeout        time.Duration
	verbose        bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("cmp-client", flag.ContinueOnError)
	fs.StringVar(&o.op, "op", "generate", "call: generate | parameters | check")
	fs.StringVar(&o.pluginDir, "plugin-dir", os.Getenv("ARGOCD_PLUGINSOCKFILEPATH"), "directory of plugin sockets (the repo-server's ARGOCD_PLUGINSOCKFILEPATH)")
	fs.StringVar(&o.plugin, "plugin", "promotion-gate-v1", "plugin name as an Application names it (<name>-<version>)")
	fs.StringVar(&o.repoRoot, "repo", "", "repository root to stream")
	fs.StringVar(&o.appPath, "path", ".", "application path relative to -repo (spec.source.path)")
	fs.StringVar(&o.appName, "app", "", "Application name (ARGOCD_APP_NAME)")
	fs.StringVar(&o.namespace, "namespace", "", "destination namespace (ARGOCD_APP_NAMESPACE)")
	fs.StringVar(&o.revision, "revision", "0000000000000000000000000000000000000000", "resolved revision (ARGOCD_APP_REVISION)")
	fs.StringVar(&o.repoURL, "repo-url", "https://git.example.com/platform-config.git", "spec.source.repoURL")
	fs.StringVar(&o.targetRevision, "target-revision", "HEAD", "spec.source.targetRevision")
	fs.StringVar(&o.kubeVersion, "kube-version", "1.31.0", "destination cluster version (KUBE_VERSION)")
	fs.StringVar(&o.apiVersions, "api-versions", "", "comma-separated API versions (KUBE_API_VERSIONS)")
	fs.Var(&o.env, "env", "NAME=VALUE of spec.source.plugin.env (sent as ARGOCD_ENV_NAME); repeatable")
	fs.Var(&o.params, "param", "NAME=VALUE string parameter of spec.source.plugin.parameters; repeatable")
	fs.StringVar(&o.parametersJSON, "parameters", "", "spec.source.plugin.parameters as JSON (appended after -param)")
	fs.StringVar(&o.output, "o", "yaml", "generate output: yaml (documents separated by ---) | json")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "gRPC deadline, like the repo-server's")
	fs.BoolVar(&o.verbose, "v", false, "log argo-cd client messages to stderr")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.repoRoot == "" || o.pluginDir == "" {
		fmt.Fprintln(os.Stderr, "cmp-client: -repo and -plugin-dir (or ARGOCD_PLUGINSOCKFILEPATH) are required")
		os.Exit(2)
	}
	// The argo-cd packages log through logrus; keep stderr for the error text alone.
	log.SetOutput(io.Discard)
	if o.verbose {
		log.SetOutput(os.Stderr)
		log.SetLevel(log.DebugLevel)
	}

	env, err := pluginEnv(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmp-client:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := run(ctx, o, env, os.Stdout); err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintln(os.Stderr, "cmp-client:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}

// usageError marks errors in the command line rather than in the plugin's answer.
type usageError struct{ error }

// absPaths resolves the repository root and the application directory the way the
// repo-server has them: absolute, the app inside the root.
func absPaths(o options) (root, app string, err error) {
	root, err = filepath.Abs(o.repoRoot)
	if err != nil {
		return "", "", usageError{fmt.Errorf("repository root %s: %w", o.repoRoot, err)}
	}
	app = filepath.Join(root, filepath.FromSlash(o.appPath))
	if rel, err := filepath.Rel(root, app); err != nil || strings.HasPrefix(rel, "..") {
		return "", "", usageError{fmt.Errorf("application path %s is outside the repository %s", o.appPath, root)}
	}
	return root, app, nil
}
