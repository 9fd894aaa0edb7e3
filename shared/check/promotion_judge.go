package check

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// setUpVerifiers adds the request's registry credentials for the images the changed
// files name, when a rule of an environment of the promotion checks the registry.
func (j *judgement) setUpVerifiers(ctx context.Context) error {
	j.ext = j.req.Verifiers
	if j.req.Credentials == nil || !j.needsRegistry() {
		return nil
	}
	var images []extract.Image
	for _, key := range j.order {
		images = append(images, j.groups[key].setters...)
	}
	kc, err := j.req.Credentials(ctx, images)
	if err != nil {
		return err
	}
	j.ext, err = j.req.Verifiers.WithCredentials(kc)
	return err
}

// needsRegistry reports whether a rule of the promotion's environments checks
// signatures or attestations, so that a promotion without such rules reads no
// credentials.
func (j *judgement) needsRegistry() bool {
	var envs []string
	for _, key := range j.order {
		envs = append(envs, j.groups[key].cls.Environment)
	}
	for _, r := range j.roots {
		envs = append(envs, r.cls.Environment, j.req.Environment)
	}
	for _, env := range envs {
		for _, r := range j.req.Policy.RulesFor(env) {
			if r.Signatures != nil || len(r.Attestations) > 0 {
				return true
			}
		}
	}
	return false
}

// evaluate judges every group of changed files and every selected root, adds the
// promotion clauses, and folds the results into one outcome.
func (j *judgement) evaluate(ctx context.Context) PromotionOutcome {
	set := j.req.Policy
	out := PromotionOutcome{Files: j.files}
	var results []evaluate.Result
	failed := false
	// documents evaluates a group's documents and setter-marked images with the
	// promotion's clauses in the same evaluation (Documents, with the promotion).
	documents := func(cls policy.Classification, g *group) evaluate.Result {
		var docs []render.Document
		var setters []extract.Image
		var changes []changescope.Change
		if g != nil {
			docs, setters, changes = g.docs, g.setters, g.changes
		}
		return evaluate.Evaluate(ctx, evaluate.Request{
			Policy: set, Environment: cls, Now: j.req.Now,
			// The same field can be both a workload image and a setter-marked one: count it once.
			Images:   extract.Merge(extract.Images(docs, set.ImageFields), setters),
			Verifier: j.ext.Images, Plugins: j.ext.Plugins,
			Promotion: &evaluate.Promotion{Commits: j.commits, Changes: changes, Trust: j.req.Trust},
		})
	}
	for _, key := range j.order {
		g := j.groups[key]
		if g.failed != nil {
			res := evaluate.Failure(g.cls, set.Revision, g.failed)
			failed = failed || res.Verdict == evaluate.Denied
			results = append(results, res)
			continue
		}
		results = append(results, documents(g.cls, g))
	}

	roots, rootFailed, err := j.renderRoots(ctx)
	if err != nil {
		closed := policy.Classification{Environment: j.req.Environment, Protected: true}
		return denied(ReasonEvaluationFailed, evaluate.Failure(closed, set.Revision, err))
	}
	failed = failed || rootFailed
	for _, r := range roots {
		out.Roots = append(out.Roots, r)
		// The root's own result is the CLI's; the promotion's commits are checked
		// for its environment as well.
		cls := policy.Classification{Environment: r.Result.Environment, Protected: r.Result.Protected}
		results = append(results, WithFindings(r.Result, Promotion(ctx, PromotionRequest{Policy: set, Environment: cls,
			Commits: j.commits, Trust: j.req.Trust})))
	}

	if len(results) == 0 {
		// Nothing to read: classify what the change is about, so that the result
		// still says which environment the (empty) change was checked for.
		q := policy.Query{Path: j.req.Scope, Branch: j.req.Branch, Requested: j.req.Environment}
		cls, err := Classify(set, q, nil)
		if err != nil {
			closed := policy.Classification{Environment: j.req.Environment, Protected: true}
			return denied(ReasonPolicyInvalid, evaluate.Failure(closed, set.Revision, err))
		}
		results = append(results, documents(cls, nil))
	}
	out.Result = evaluate.Combine(results...)
	if out.Result.Verdict == evaluate.Denied {
		out.Reason = ReasonPolicyViolation
		if failed {
			out.Reason = ReasonEvaluationFailed
		}
	}
	return out
}

// renderRoots renders each selected root at the head through Run, the request path of
// the CLI and the plugin, within Bounds.Timeout for all of them. rootFailed says
// whether a root could not be judged (a render error), which denies.
func (j *judgement) renderRoots(ctx context.Context) (out []RootOutcome, rootFailed bool, err error) {
	if len(j.roots) == 0 {
		return nil, false, nil
	}
	// Write what the selected roots may read, and nothing else.
	var err2 error
	if j.dir, err2 = workDir(j.req.WorkDir); err2 != nil {
		return nil, false, err2
	}
	j.headDir = filepath.Join(j.dir, "head")
	if err := j.req.Revisions.Export(j.req.Head, j.headDir, j.req.Bounds.Export, j.reached); err != nil {
		return nil, false, fmt.Errorf("write the roots %s reaches to render them: %w (bound: %d files, %d bytes)",
			short(j.req.Head), err, j.req.Bounds.Export.MaxFiles, j.req.Bounds.Export.MaxTotalBytes)
	}
	if j.needsBase() {
		j.baseDir = filepath.Join(j.dir, "base")
		if err := j.req.Revisions.Export(j.req.Base, j.baseDir, j.req.Bounds.Export, j.reached); err != nil {
			return nil, false, fmt.Errorf("write %s to compare the roots' change scope with: %w", short(j.req.Base), err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, j.req.Bounds.Timeout)
	defer cancel()
	for _, r := range j.roots {
		opts := j.req.Render
		opts.ValuesFiles = r.valuesFiles
		o := Run(ctx, Request{
			Path:      filepath.Join(j.headDir, filepath.FromSlash(r.path)),
			RepoRoot:  j.headDir,
			Policy:    j.req.Policy,
			Query:     policy.Query{Path: r.path, Branch: j.req.Branch, Requested: j.req.Environment},
			Render:    opts,
			Now:       j.req.Now,
			BaseRoot:  j.baseDir,
			Verifiers: j.ext,
		})
		if o.Err == nil && !j.readsChanged(o) {
			continue // its render read no changed file: not an effect of this promotion
		}
		if r.byEffect && !o.Result.Protected {
			continue // unprotected by its path and by what it read and produced
		}
		res := o.Result
		if o.Err != nil {
			if ctx.Err() != nil {
				o.Err = fmt.Errorf("%w (bound: %s for the renders of one promotion)", o.Err, j.req.Bounds.Timeout)
			}
			res = evaluate.Failure(policy.Classification{Environment: res.Environment, Protected: res.Protected},
				j.req.Policy.Revision, fmt.Errorf("root %s at %s: %w", r, short(j.req.Head), o.Err))
			rootFailed = rootFailed || res.Verdict == evaluate.Denied
		}
		out = append(out, RootOutcome{Path: r.path, ValuesFiles: r.valuesFiles, Result: res})
	}
	return out, rootFailed, nil
}

// needsBase reports whether a selected root's environment limits the change scope:
// its render is then compared with the base revision's, as the CLI's --base does.
func (j *judgement) needsBase() bool {
	for _, r := range j.roots {
		if hasChangeScope(j.req.Policy, r.cls.Environment) || (j.req.Environment != "" && hasChangeScope(j.req.Policy, j.req.Environment)) {
			return true
		}
	}
	return false
}

// readsChanged reports whether the render of a selected root depended on a changed
// file: read it, loaded it with a chart, looked for it, reached it through a link, or
// listed the directory a file was added to or removed from. Selection (reachSet) is the
// bound on what is written to render; this is the render's own word on what it read.
func (j *judgement) readsChanged(o Outcome) bool {
	if o.Rendered == nil {
		return true
	}
	changed := make(map[string]bool, 2*len(j.changed))
	for _, f := range j.changed {
		changed[f] = true
	}
	for _, in := range o.Rendered.Inputs {
		if changed[in.Path] {
			return true
		}
		if in.Kind == render.InputDir {
			for _, f := range j.changed {
				if path.Dir(f) == in.Path || (in.Path == "." && !strings.Contains(f, "/")) {
					return true
				}
			}
		}
	}
	return false
}
