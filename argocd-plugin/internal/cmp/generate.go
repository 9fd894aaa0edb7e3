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
	root, err := repoRoot(req.Dir, app.SourcePath, cmpWorkDir(req.Environ))
	if err != nil {
		return app, check.Outcome{}, err
	}
	creq := checkRequest(req, app, root)
	v, closeVerifiers, err := verifiers(req.Settings)
	if err != nil {
		// Nothing that reaches a registry or a plugin can run: assume the strictest case.
		return app, check.Outcome{Result: evaluate.Failure(policy.Classification{Protected: true}, "", err), Err: err}, nil
	}
	creq.Verifiers = v
	var cacheNotices []string
	creq.Render.Cache = renderCache(req.Settings, &cacheNotices)
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
	out.Result.Notices = append(out.Result.Notices, cacheNotices...)
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
func checkRequest(req Request, app App, root string) check.Request {
	set, err := policy.Load(req.Settings.PolicyDir)
	if err != nil {
		err = policyError(req.Settings.PolicyDir, err)
	}
	logPolicyWarnings(req.policyLog, req.Settings.PolicyDir, set, req.Now)
	return check.Request{
		Path:      req.Dir,
		RepoRoot:  root,
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
		Render: check.RenderOptions{
			ValuesFiles: app.Params.ValuesFiles,
			ReleaseName: app.ReleaseName(),
			Namespace:   app.Namespace,
			KubeVersion: app.KubeVersion,
			APIVersions: app.APIVersions,
			MaxMemory:   req.Settings.MaxMemory,
		},
		Now: req.Now,
	}
}

// renderCache opens the sidecar's render cache, if it has one. A cache that cannot be
// used is a notice, never a failure: the render goes on without it.
func renderCache(s Settings, notices *[]string) *check.RenderCache {
	if s.RenderCacheDir == "" {
		return nil
	}
	cache, err := check.NewRenderCache(s.RenderCacheDir, s.RenderCacheBytes, func(err error) {
		*notices = append(*notices, err.Error())
	})
	if err != nil {
		*notices = append(*notices, fmt.Sprintf("rendering without the render cache (%s): %v", EnvRenderCacheDir, err))
		return nil
	}
	return cache
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

// repoRoot is the root of the repository copy that holds the application directory
// dir (spec.source.path is sourcePath), and refuses a directory that resolves outside
// it: a symlinked application directory would otherwise make the plugin render files
// the repository does not hold.
//
// Inside Argo CD's CMP server, the copy is the server's per-request directory under
// its work directory (cmpWorkDir), whatever part of the repository Argo CD streamed
// (with manifest-generate-paths, a common root of the application's paths); the real
// dir must be inside it. Elsewhere, dir must end with the whole source path, and the
// root is what comes before it.
func repoRoot(dir, sourcePath, cmpWorkDir string) (string, error) {
	dir = filepath.Clean(dir)
	realDir := realPath(dir)
	if cmpWorkDir != "" {
		work := realPath(cmpWorkDir)
		if rel, err := filepath.Rel(work, realDir); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			copyDir, _, _ := strings.Cut(rel, string(filepath.Separator))
			return filepath.Join(work, copyDir), nil
		}
	}
	root := dir
	if rel := filepath.FromSlash(sourcePath); rel != "." && rel != "" {
		suffix := string(filepath.Separator) + rel
		if !strings.HasSuffix(dir, suffix) {
			return "", fmt.Errorf("the application directory %s does not end with its source path %s, so the plugin cannot tell which repository it belongs to: "+
				"the path is a symlink, or the plugin runs outside Argo CD's CMP server; make %s a directory of the repository, not a link", dir, sourcePath, sourcePath)
		}
		root = strings.TrimSuffix(dir, suffix)
	}
	if realRoot := realPath(root); !within(realRoot, realDir) {
		return "", fmt.Errorf("the application directory %s resolves to %s, outside the repository %s: make %s a directory of the repository, not a link out of it",
			sourcePath, realDir, root, sourcePath)
	}
	return root, nil
}

// realPath resolves p's symlinks; a path that does not resolve is left as it is (the
// render then says what is missing).
func realPath(p string) string {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	return filepath.Clean(p)
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// cmpWorkDir is where Argo CD's CMP server unpacks repositories, from the sidecar's
// environment as the server reads it (common.GetCMPWorkDir): <ARGOCD_CMP_WORKDIR or
// TMPDIR>/_cmp_server.
func cmpWorkDir(environ []string) string {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	base := env["ARGOCD_CMP_WORKDIR"]
	if base == "" {
		if base = env["TMPDIR"]; base == "" {
			base = "/tmp"
		}
	}
	return filepath.Join(base, "_cmp_server")
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
