package check

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
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

// Promotion returns the findings of the rules of req.Environment that have
// commitSignatures or changeScope. Their enforcement is the rule's in a protected
// environment and Warn elsewhere, as for image findings. Key material that cannot be
// read fails closed: a finding that says why.
func Promotion(ctx context.Context, req PromotionRequest) []evaluate.Finding {
	if req.Policy == nil {
		return nil
	}
	resolver := req.Trust
	if resolver == nil {
		resolver = trust.Dir("")
	}
	var out []evaluate.Finding
	for _, r := range req.Policy.RulesFor(req.Environment.Environment) {
		enf := evaluate.Effective(r.Enforcement, req.Environment.Protected)
		if r.CommitSignatures != nil && len(req.Commits) > 0 {
			out = append(out, commitFindings(ctx, r, enf, req.Commits, resolver)...)
		}
		if r.ChangeScope == policy.ImagesOnly {
			for _, c := range req.Changes {
				out = append(out, evaluate.Finding{
					Rule: r.Name, Check: CheckChangeScope, Enforcement: enf,
					Source: extract.Source{File: c.File, Document: max(c.Document, 0), Kind: c.Kind,
						Namespace: c.Namespace, Name: c.Name, FieldPath: c.Field},
					Message: c.String(),
					Fix: fmt.Sprintf("a promotion to %s may change image fields only: make this change "+
						"in its own reviewed commit to the target branch, or drop it from the proposal", req.Environment.Environment),
				})
			}
		}
	}
	return out
}

// commitFindings verifies the promoted commit (every commit with allCommits) against
// the rule's keys.
func commitFindings(ctx context.Context, r policy.Rule, enf policy.Enforcement, commits []*object.Commit, res trust.Resolver) []evaluate.Finding {
	finding := func(msg, fix string) evaluate.Finding {
		return evaluate.Finding{Rule: r.Name, Check: CheckCommitSignatures, Enforcement: enf, Message: msg, Fix: fix}
	}
	ring, err := keyring(ctx, r.CommitSignatures.Keys, res)
	if err != nil {
		return []evaluate.Finding{finding(
			fmt.Sprintf("%s check failed: %v", CheckCommitSignatures, err),
			"fix the key material of rule "+r.Name+"; the commit passes only once its signature can be checked")}
	}
	if !r.CommitSignatures.AllCommits {
		commits = commits[:1]
	}
	var names []string
	for _, k := range r.CommitSignatures.Keys {
		names = append(names, k.Name)
	}
	var out []evaluate.Finding
	for _, c := range commits {
		if _, err := ring.Verify(c); err != nil {
			out = append(out, finding(
				fmt.Sprintf("%s (%q, by %s)", err, subject(c.Message), c.Author.Email),
				fmt.Sprintf("sign the commits of this promotion with a key of rule %s (%s): "+
					"set the automation's commit signing key, or add the signer's public key to the rule",
					r.Name, strings.Join(names, ", "))))
		}
	}
	return out
}

// keyring resolves and parses the rule's keys.
func keyring(ctx context.Context, keys []policy.CommitKey, res trust.Resolver) (*commitsig.Keyring, error) {
	var out []commitsig.Key
	for _, k := range keys {
		key := commitsig.Key{Name: k.Name}
		var err error
		if k.OpenPGP != nil {
			if key.OpenPGP, err = res.Material(ctx, *k.OpenPGP); err != nil {
				return nil, fmt.Errorf("read OpenPGP key %s: %w", k.Name, err)
			}
		}
		if k.SSH != nil {
			if key.SSH, err = res.Material(ctx, *k.SSH); err != nil {
				return nil, fmt.Errorf("read SSH key %s: %w", k.Name, err)
			}
		}
		out = append(out, key)
	}
	if len(out) == 0 {
		return nil, errors.New("commitSignatures lists no keys: add at least one openpgp or ssh key")
	}
	return commitsig.ParseKeys(out)
}

func subject(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	return s
}

// WithFindings adds findings to a result and derives its verdict again; it is
// evaluate.WithFindings, kept here for the callers of this package.
func WithFindings(res evaluate.Result, fs []evaluate.Finding) evaluate.Result {
	return evaluate.WithFindings(res, fs)
}
