package check

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// changeScope compares the render of the application at the base revision with the one
// just checked, for the rules of the environment that limit a promotion's scope. A base
// that cannot be rendered fails closed: the scope cannot be shown to be images only.
func changeScope(ctx context.Context, req Request, cls policy.Classification, head *render.Result, res evaluate.Result) evaluate.Result {
	if !hasChangeScope(req.Policy, cls.Environment) {
		return res
	}
	if req.BaseRoot == "" {
		res.Notices = append(res.Notices, "changeScope is not checked: no base revision to compare with (promotion-gate check --base REV)")
		return res
	}
	rel, err := relPath(req.RepoRoot, req.Path)
	if err != nil {
		return failedScope(req, cls, res, fmt.Errorf("locate %s in the repository %s: %w", req.Path, req.RepoRoot, err))
	}
	opts := req.Render
	opts.RepoRoot = req.BaseRoot
	opts.Path = filepath.Join(req.BaseRoot, rel)
	base, err := render.Render(ctx, opts)
	if err != nil {
		return failedScope(req, cls, res, fmt.Errorf("render %s at the base revision: %w", filepath.ToSlash(rel), err))
	}
	changes := changescope.Diff(base.Documents, head.Documents, req.Policy.ImageFields)
	return WithFindings(res, Promotion(ctx, PromotionRequest{Policy: req.Policy, Environment: cls, Changes: changes}))
}

func hasChangeScope(set *policy.Set, env string) bool {
	for _, r := range set.RulesFor(env) {
		if r.ChangeScope != "" {
			return true
		}
	}
	return false
}

// failedScope records a base that could not be compared as a changeScope finding of
// every rule that asks for it, so that the rule's enforcement decides as for any finding.
func failedScope(req Request, cls policy.Classification, res evaluate.Result, err error) evaluate.Result {
	var fs []evaluate.Finding
	for _, r := range req.Policy.RulesFor(cls.Environment) {
		if r.ChangeScope == "" {
			continue
		}
		fs = append(fs, evaluate.Finding{
			Rule: r.Name, Check: CheckChangeScope, Enforcement: evaluate.Effective(r.Enforcement, cls.Protected),
			Message: "changeScope check failed: " + err.Error(),
			Fix:     "make the base revision renderable, or compare with another base (--base)",
		})
	}
	return WithFindings(res, fs)
}

// relPath returns p relative to root, both made absolute first.
func relPath(root, p string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	absPath, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.Rel(absRoot, absPath)
}
