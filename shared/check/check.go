// Package check is the one pipeline behind every door of promotion-gate: the CLI, the
// Argo CD plugin and flux-gate all render, classify, extract and evaluate through it, so
// the same input gives the same verdict everywhere.
package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// Request is one application path to check against a policy.
type Request struct {
	// Path is the application directory to render.
	Path string
	// RepoRoot confines rendering and is the base of the repository-relative path used
	// for classification. Empty means the Git work tree that contains Path, else the
	// current directory when it contains Path, else Path itself.
	RepoRoot string
	// Policy is the merged policy; nil when it could not be loaded, and then PolicyErr
	// says why. A missing policy fails closed.
	Policy    *policy.Set
	PolicyErr error
	// Query carries the branch, application, namespace and the environment a user
	// asked for. Query.Path defaults to Path relative to RepoRoot.
	Query policy.Query
	// Render carries renderer options; Path and RepoRoot are filled in by Run.
	Render render.Options
	// Now is the evaluation time, for exemption expiry; zero means time.Now().
	Now time.Time
	// BaseRoot is a directory holding the base revision of RepoRoot (the target branch a
	// change is promoted onto). When set, the rules with changeScope compare the render
	// of Path there with the render here. Empty leaves changeScope unchecked, with a notice.
	BaseRoot string
	// Verifiers check signatures, attestations and plugins. Left zero, every rule that
	// has such clauses fails closed with a finding that says no verifier is set up.
	Verifiers Verifiers
}

// Verifiers are the checks that reach outside the process: the registry (signatures,
// attestations) and external plugins.
type Verifiers struct {
	Images  evaluate.ImageVerifier
	Plugins evaluate.PluginRunner
}

// Outcome is the result of one check.
type Outcome struct {
	// Result is always set. Any error gives a fail-closed result: Denied in a protected
	// (or unknown) environment, Warned otherwise.
	Result evaluate.Result
	// Rendered is the rendered application; nil when rendering failed.
	Rendered *render.Result
	// Err is a configuration or input error: an invalid policy, a failed render, an
	// unknown environment. Callers report it as such (the CLI exits 2).
	Err error
}

// ErrNoPolicy is returned, wrapped, when a check has no policy to apply.
var ErrNoPolicy = errors.New("no policy")

// Run renders req.Path, classifies it, extracts its images and evaluates them.
func Run(ctx context.Context, req Request) Outcome {
	// Find the repository root once: Query and the renderer both need it.
	root := RepoRoot(req)
	req.RepoRoot = root
	q, err := Query(req)
	if err != nil {
		return failed(policy.Classification{Environment: req.Query.Requested, Protected: true}, req.Policy, err)
	}

	if req.Policy == nil {
		err := req.PolicyErr
		if err == nil {
			err = ErrNoPolicy
		}
		// Without a policy nothing can be classified: assume the strictest case.
		return failed(policy.Classification{Environment: q.Requested, Protected: true}, nil, err)
	}

	cls, err := Classify(req.Policy, q, req.Render.ValuesFiles)
	if err != nil {
		return failed(policy.Classification{Environment: q.Requested, Protected: true}, req.Policy, err)
	}

	opts := req.Render
	opts.Path = req.Path
	opts.RepoRoot = root
	rendered, err := render.Render(ctx, opts)
	if err != nil {
		return failed(cls, req.Policy, fmt.Errorf("render %s: %w", req.Path, err))
	}
	cls, because := ByEffect(req.Policy, cls, rendered)
	var notices []string
	if len(rendered.Documents) == 0 {
		err := nothingRendered(q.Path, req.Path, rendered)
		if cls.Protected {
			out := failed(cls, req.Policy, err)
			out.Result.Because = because
			return out
		}
		notices = append(notices, err.Error())
	}
	out := Outcome{Rendered: rendered}
	out.Result = Documents(ctx, req.Policy, cls, rendered.Documents, nil, req.Now, req.Verifiers)
	out.Result = explainFindings(ctx, opts, rendered, out.Result)
	out.Result.Because = because
	out.Result.Notices = append(notices, out.Result.Notices...)
	out.Result = changeScope(ctx, req, cls, rendered, out.Result)
	return out
}

// explainFindings names, for each image finding of a kustomize render, the file to edit
// (the images: entry, base or component file, or patch that set the image). Asking
// kustomize for origins costs a large kustomization several times its build, so it is
// asked only when there is something to explain: the render is done again with
// origins, and kept only when its output is the same bytes. Anything that fails leaves
// the findings naming the application, as before.
func explainFindings(ctx context.Context, opts render.Options, rendered *render.Result, res evaluate.Result) evaluate.Result {
	if rendered.Renderer != render.RendererKustomize || opts.Origins || len(res.Findings)+len(res.Exempted) == 0 {
		return res
	}
	opts.Origins = true
	again, err := render.Render(ctx, opts)
	if err != nil || !bytes.Equal(again.YAML, rendered.YAML) {
		return res
	}
	relocate := func(fs []evaluate.Finding) []evaluate.Finding {
		out := slices.Clone(fs)
		for i := range out {
			if out[i].Image != "" {
				out[i].Source = extract.Relocate(out[i].Source, out[i].Image, again.Documents)
			}
		}
		evaluate.SortFindings(out)
		return out
	}
	res.Findings, res.Exempted = relocate(res.Findings), relocate(res.Exempted)
	for i := range res.Images {
		res.Images[i].Source = extract.Relocate(res.Images[i].Source, res.Images[i].Raw, again.Documents)
	}
	return res
}

// Documents evaluates documents that are already parsed, plus images found elsewhere
// (for example through Flux setter markers). It is what flux-gate calls for the files a
// proposal changed.
func Documents(ctx context.Context, set *policy.Set, cls policy.Classification, docs []render.Document, extra []extract.Image, now time.Time, v Verifiers) evaluate.Result {
	// The same field can be both a workload image and a setter-marked one: count it once.
	images := extract.Merge(extract.Images(docs, set.ImageFields), extra)
	return evaluate.Evaluate(ctx, evaluate.Request{
		Policy: set, Environment: cls, Images: images, Now: now,
		Verifier: v.Images, Plugins: v.Plugins,
	})
}

// Classify classifies an application path, every trailing part of it, and each Helm
// values file the render uses, and keeps the strictest result. Each extra candidate can
// only make the classification stricter (policy.Query.Requested never weakens), so a
// values-prod.yaml on a shared chart makes a prod render, and a policy written for a
// repository still applies when that repository is checked as a subtree of another
// (a monorepo, or a CI checkout with the config repo in a sub-directory).
func Classify(set *policy.Set, q policy.Query, valuesFiles []string) (policy.Classification, error) {
	candidates := trailingParts(q.Path)
	for _, vf := range valuesFiles {
		p := path.Join(q.Path, filepath.ToSlash(vf))
		if strings.HasPrefix(vf, "/") {
			p = strings.TrimPrefix(filepath.ToSlash(vf), "/")
		}
		candidates = append(candidates, trailingParts(p)...)
	}
	cls, err := set.Classify(q)
	if err != nil {
		return cls, err
	}
	for _, c := range candidates[1:] {
		cq := q
		cq.Path = c
		cq.Requested = cls.Environment
		next, err := set.Classify(cq)
		if err != nil {
			return cls, err
		}
		if next.Environment != cls.Environment {
			cls = next
		}
	}
	return cls, nil
}

// trailingParts returns p and every suffix of it that starts at a directory boundary:
// "a/b/c" gives "a/b/c", "b/c", "c".
func trailingParts(p string) []string {
	p = strings.Trim(path.Clean("/"+filepath.ToSlash(p)), "/")
	parts := []string{p}
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			parts = append(parts, p[i+1:])
		}
	}
	return parts
}

// Query returns req.Query with the repository-relative path used for classification.
func Query(req Request) (policy.Query, error) {
	q := req.Query
	if q.Path != "" {
		return q, nil
	}
	root := RepoRoot(req)
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return q, fmt.Errorf("resolve repository root %s: %w", root, err)
	}
	absPath, err := filepath.Abs(req.Path)
	if err != nil {
		return q, fmt.Errorf("resolve path %s: %w", req.Path, err)
	}
	rel, err := filepath.Rel(absRoot, absPath)
	if err != nil || !within(absRoot, absPath) {
		return q, fmt.Errorf("path %s is outside the repository root %s: pass --repo-root with a directory that contains it", req.Path, root)
	}
	q.Path = filepath.ToSlash(rel)
	return q, nil
}

func failed(cls policy.Classification, set *policy.Set, err error) Outcome {
	rev := ""
	if set != nil {
		rev = set.Revision
	}
	return Outcome{Result: evaluate.Failure(cls, rev, err), Err: err}
}

// RepoRoot returns req.RepoRoot, or finds one: the Git work tree that contains req.Path,
// else the current directory when it contains req.Path, else req.Path.
func RepoRoot(req Request) string {
	if req.RepoRoot != "" {
		return req.RepoRoot
	}
	abs, err := filepath.Abs(req.Path)
	if err != nil {
		return req.Path
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if wd, err := os.Getwd(); err == nil && within(wd, abs) {
		return wd
	}
	return req.Path
}

// within reports whether path is root or below it; both are absolute and clean.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
