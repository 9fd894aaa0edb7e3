package evaluate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// Promotion is what a promotion brings besides its images: the commits it promotes
// and the fields it changes. Evaluate runs the promotion clauses over it.
type Promotion struct {
	// Commits are the promoted commits, newest first: Commits[0] is the commit that
	// would become the target's head; the others are checked for rules with
	// allCommits. Empty means commit signatures are not checked by this caller.
	Commits []*object.Commit
	// Changes are the promotion's changes other than image fields (changescope.Diff).
	Changes []changescope.Change
	// Trust resolves the rules' key material; nil reads inline data and files only.
	Trust trust.Resolver
}

// promotionChecker is one kind of rule clause about a promotion rather than its
// images. Like checker, every such clause of every rule runs through one list, and its
// findings meet the image findings in the same order and the same verdict.
type promotionChecker interface {
	name() string
	description() string
	// check returns the findings of r's clause for p; nil when r does not use it.
	// Key material that cannot be read fails closed: a finding that says why.
	check(ctx context.Context, r *rule, p *Promotion, env string) []Finding
}

// promotionCheckers are the promotion clauses, in this order.
var promotionCheckers = []promotionChecker{commitSignatures{}, changeScope{}}

// promotion runs every promotion clause of every rule over p.
func (e *evaluation) promotion(ctx context.Context, p *Promotion, rules []*rule) {
	if p == nil {
		return
	}
	for _, r := range rules {
		for _, c := range promotionCheckers {
			e.findings = append(e.findings, c.check(ctx, r, p, e.cls.Environment)...)
		}
	}
}

// commitSignatures: the promoted commit (every commit with allCommits) is signed by a
// key of the rule.
type commitSignatures struct{}

func (commitSignatures) name() string { return CheckCommitSignatures }

func (commitSignatures) description() string {
	return "The promoted commit (with allCommits, every commit of the promotion) must be " +
		"signed by one of the rule's OpenPGP or SSH keys."
}

func (commitSignatures) check(ctx context.Context, r *rule, p *Promotion, _ string) []Finding {
	if r.CommitSignatures == nil || len(p.Commits) == 0 {
		return nil
	}
	finding := func(msg, fix string) Finding {
		return Finding{Rule: r.Name, Check: CheckCommitSignatures, Enforcement: r.enforcement, Message: msg, Fix: fix}
	}
	res := p.Trust
	if res == nil {
		res = trust.Dir("")
	}
	ring, err := keyring(ctx, r.CommitSignatures.Keys, res)
	if err != nil {
		return []Finding{finding(
			fmt.Sprintf("%s check failed: %v", CheckCommitSignatures, err),
			"fix the key material of rule "+r.Name+"; the commit passes only once its signature can be checked")}
	}
	commits := p.Commits
	if !r.CommitSignatures.AllCommits {
		commits = commits[:1]
	}
	var names []string
	for _, k := range r.CommitSignatures.Keys {
		names = append(names, k.Name)
	}
	var out []Finding
	for _, c := range commits {
		if _, err := ring.Verify(c); err != nil {
			out = append(out, finding(
				fmt.Sprintf("%s (%q, by %s)", err, commitSubject(c.Message), c.Author.Email),
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

func commitSubject(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	return s
}

// changeScope: with imagesOnly, a promotion changes image fields only.
type changeScope struct{}

func (changeScope) name() string { return CheckChangeScope }

func (changeScope) description() string {
	return "A promotion may change image fields only: any other changed field (replicas, " +
		"env, resources) is a finding that names it."
}

func (changeScope) check(_ context.Context, r *rule, p *Promotion, env string) []Finding {
	if r.ChangeScope != policy.ImagesOnly {
		return nil
	}
	var out []Finding
	for _, c := range p.Changes {
		out = append(out, Finding{
			Rule: r.Name, Check: CheckChangeScope, Enforcement: r.enforcement,
			Source: extract.Source{File: c.File, Document: max(c.Document, 0), Kind: c.Kind,
				Namespace: c.Namespace, Name: c.Name, FieldPath: c.Field},
			Message: c.String(),
			Fix: fmt.Sprintf("a promotion to %s may change image fields only: make this change "+
				"in its own reviewed commit to the target branch, or drop it from the proposal", env),
		})
	}
	return out
}
