package check

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// The Finding.Check names of the promotion clauses.
const (
	CheckCommitSignatures = evaluate.CheckCommitSignatures
	CheckChangeScope      = evaluate.CheckChangeScope
)

// PromotionRequest is what a promotion changes, beyond its images: the commits it
// brings and the fields it edits.
type PromotionRequest struct {
	Policy      *policy.Set
	Environment policy.Classification
	// Commits are the promoted commits, newest first: Commits[0] is the commit that
	// would become the target's head; the others are checked for rules with
	// allCommits. Empty means commit signatures are not checked by this caller.
	Commits []*object.Commit
	// Changes are the promotion's changes other than image fields (changescope.Diff).
	Changes []changescope.Change
	// Trust resolves the rules' key material; nil reads inline data and files only.
	Trust trust.Resolver
}

// Promotion returns the findings of the promotion clauses (commitSignatures,
// changeScope) of the rules of req.Environment: the evaluate checkers of those
// clauses, run without images. Their enforcement is the rule's in a protected
// environment and Warn elsewhere, as for image findings. Key material that cannot be
// read fails closed: a finding that says why.
func Promotion(ctx context.Context, req PromotionRequest) []evaluate.Finding {
	if req.Policy == nil {
		return nil
	}
	res := evaluate.Evaluate(ctx, evaluate.Request{Policy: req.Policy, Environment: req.Environment,
		Promotion: &evaluate.Promotion{Commits: req.Commits, Changes: req.Changes, Trust: req.Trust}})
	return res.Findings
}

// WithFindings adds findings to a result and derives its verdict again; it is
// evaluate.WithFindings, kept here for the callers of this package.
func WithFindings(res evaluate.Result, fs []evaluate.Finding) evaluate.Result {
	return evaluate.WithFindings(res, fs)
}
