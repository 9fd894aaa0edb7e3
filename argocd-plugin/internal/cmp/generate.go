package cmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// Exit codes of generate. Argo CD only tells zero from non-zero; the codes are for
// people reading the sidecar's logs and for tests.
const (
	ExitRendered = 0
	// ExitRefused: the policy denies, or the check failed in a protected environment.
	ExitRefused = 1
	// ExitInvalid: the request or the sidecar settings are invalid, or the render failed
	// outside a protected environment.
	ExitInvalid = 2
)

// Request is one generate call: the sidecar settings, the working directory Argo CD
// runs the plugin in (the application path inside the streamed repository) and the
// plugin's environment.
type Request struct {
	Settings Settings
	Dir      string
	Environ  []string
	// Now is the evaluation time; zero means time.Now().
	Now time.Time

	// policyLog receives the policy's warnings when it is loaded; nil drops them.
	policyLog io.Writer
}

// Decide runs the check Argo CD asked for, within the sidecar's time limit. The error
// is set, and the outcome empty, when the request itself is invalid (bad parameters or
// settings); every other failure is in the outcome, failing closed.
func Decide(ctx context.Context, req Request) (App, check.Outcome, error) {
	app, err := FromEnviron(req.Environ)
	if err != nil {
		return App{SourcePath: sourcePathOr(req.Environ, req.Dir)}, check.Outcome{}, err
	}
	if err := req.Settings.Validate(); err != nil {
		return app, check.Outcome{}, fmt.Errorf("sidecar settings: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, req.Settings.Timeout)
	defer cancel()
	creq := checkRequest(req, app)
	v, closeVerifiers, err := verifiers(req.Settings)
	if err != nil {
		// Nothing that reaches a registry or a plugin can run: assume the strictest case.
		return app, check.Outcome{Result: evaluate.Failure(policy.Classification{Protected: true}, "", err), Err: err}, nil
	}
	creq.Verifiers = v
	out, err := runBounded(ctx, creq, req.Settings.Timeout)
	// After a timeout the abandoned check may still be running a plugin: stopping the
	// plugin processes is what ends it.
	closeVerifiers()
	// The sidecar's temporary checkout means nothing to the reader: name files by their
	// repository path.
	out.Result.Error = strings.ReplaceAll(out.Result.Error, creq.RepoRoot+string(filepath.Separator), "")
	if err != nil {
		// Out of time: nothing was checked, so even an unprotected environment has
		// nothing to render, and a protected one cannot be assumed safe.
		return app, check.Outcome{Result: evaluate.Failure(policy.Classification{Protected: true}, "", err), Err: err}, nil
	}
	if out.Rendered != nil && int64(len(out.Rendered.YAML)) > req.Settings.MaxOutputBytes {
		err := fmt.Errorf("the rendered manifests are %d bytes, over the sidecar's output limit of %d bytes (%s): split the application or raise the limit",
			len(out.Rendered.YAML), req.Settings.MaxOutputBytes, EnvMaxOutputBytes)
		cls := policy.Classification{Environment: out.Result.Environment, Protected: true}
		return app, check.Outcome{Result: evaluate.Failure(cls, out.Result.PolicyRevision, err), Err: err}, nil
	}
	return app, out, nil
}

// Generate renders and checks one application for Argo CD. It writes the manifests to
// stdout and returns ExitRendered, or writes the reason to stderr and returns non-zero;
// on refusal nothing but the refusal reaches stderr.
func Generate(ctx context.Context, req Request, stdout, stderr io.Writer) int {
	var policyLog strings.Builder
	req.policyLog = &policyLog
	app, out, err := Decide(ctx, req)
	if err != nil {
		fmt.Fprint(stderr, Invalid(app.SourcePath, err))
		return ExitInvalid
	}
	res := out.Result
	switch {
	case res.Verdict == evaluate.Denied:
		fmt.Fprint(stderr, Refusal(app.SourcePath, res))
		return ExitRefused
	case out.Rendered == nil:
		fmt.Fprint(stderr, Failure(app.SourcePath, res))
		return ExitInvalid
	}
	if _, err := stdout.Write(out.Rendered.YAML); err != nil {
		fmt.Fprintf(stderr, "promotion-gate could not write the manifests of %s: %v\n", app.SourcePath, err)
		return ExitInvalid
	}
	if res.Error != "" {
		fmt.Fprintf(stderr, "promotion-gate: warning: %s: %s\n", app.SourcePath, oneLine(res.Error))
	}
	fmt.Fprint(stderr, Warnings(app.SourcePath, res))
	fmt.Fprint(stderr, policyLog.String())
	return ExitRendered
}

// checkRequest turns the Argo CD request into the shared check request. The policy comes
// only from the sidecar's policy directory.
func checkRequest(req Request, app App) check.Request {
	set, err := policy.Load(req.Settings.PolicyDir)
	if err != nil {
		err = policyError(req.Settings.PolicyDir, err)
	}
	logPolicyWarnings(req.policyLog, req.Settings.PolicyDir, set, req.Now)
	return check.Request{
		Path:      req.Dir,
		RepoRoot:  repoRoot(req.Dir, app.SourcePath),
		Policy:    set,
		PolicyErr: err,
		Query: policy.Query{
			Path:        app.SourcePath,
			Branch:      app.Branch(),
			Application: app.Name,
			Namespace:   app.Namespace,
			Project:     app.Project,
			Requested:   app.Params.Environment,
		},
		Render: render.Options{
			ValuesFiles: app.Params.ValuesFiles,
			ReleaseName: app.ReleaseName(),
			Namespace:   app.Namespace,
			KubeVersion: app.KubeVersion,
			APIVersions: app.APIVersions,
		},
		Now: req.Now,
	}
}

// policyError adds the fix to a policy that could not be loaded: mount it when there is
// nothing to load, correct it when what is mounted is invalid.
func policyError(dir string, err error) error {
	if !hasPolicyFiles(dir) {
		return fmt.Errorf("%w; mount the policy ConfigMaps (label %s: \"true\") at %s in the promotion-gate sidecar, or point %s on the sidecar at the policy files",
			err, policy.ConfigMapLabel, dir, EnvPolicyDir)
	}
	return fmt.Errorf("%w; the policy mounted at %s is invalid: correct the policy ConfigMaps (promotion-gate policy validate checks them)", err, dir)
}

// hasPolicyFiles reports whether dir is a policy file or a directory holding *.yaml or
// *.yml files.
func hasPolicyFiles(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil {
		return false
	}
	if !fi.IsDir() {
		return true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext == ".yaml" || ext == ".yml" {
			return true
		}
	}
	return false
}

// errTimeout is wrapped when a check runs out of the sidecar's time.
var errTimeout = errors.New("out of time")

// runBounded runs the check and gives up when ctx ends, even if a renderer does not
// watch ctx: the process exits right after, which stops the abandoned work.
func runBounded(ctx context.Context, req check.Request, limit time.Duration) (check.Outcome, error) {
	done := make(chan check.Outcome, 1)
	go func() { done <- check.Run(ctx, req) }()
	select {
	case out := <-done:
		return out, nil
	case <-ctx.Done():
		return check.Outcome{}, fmt.Errorf("%w: the render and check (registry and plugin calls included) did not finish within %s (%s on the sidecar): make the application smaller, check that the registries answer quickly, or raise the limit while keeping it under the repo-server's 60s deadline",
			errTimeout, limit, EnvTimeout)
	}
}

// repoRoot is the root of the streamed repository: the working directory with the
// application's source path taken off. When Argo CD streamed only part of the
// repository (manifest-generate-paths), the longest trailing part of the source path
// that the working directory ends with is taken off, so the root is what was streamed.
func repoRoot(dir, sourcePath string) string {
	dir = filepath.Clean(dir)
	rel := filepath.FromSlash(sourcePath)
	for rel != "" && rel != "." {
		if suffix := string(filepath.Separator) + rel; strings.HasSuffix(dir, suffix) {
			return strings.TrimSuffix(dir, suffix)
		}
		_, rest, ok := strings.Cut(rel, string(filepath.Separator))
		if !ok {
			break
		}
		rel = rest
	}
	return dir
}

// sourcePathOr names the application in a message about a request that could not be
// parsed.
func sourcePathOr(environ []string, dir string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], EnvAppSourcePath+"="); ok && v != "" {
			return v
		}
	}
	return dir
}
