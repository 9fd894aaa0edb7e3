package controller

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/object"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// maxPromotionCommits bounds the commits checked for a rule with allCommits: a
// proposal is a few automation commits, and a longer one is refused rather than walked.
const maxPromotionCommits = 500

// group is what one environment of the proposal holds: the files classified into it,
// their documents and setter-marked images at the proposal, and, when a rule of the
// environment limits the change scope, what they change besides images.
type group struct {
	cls     policy.Classification
	docs    []render.Document
	setters []extract.Image
	changes []changescope.Change
	failed  error
}

// proposalRead reads the changed files of a proposal into groups by environment.
type proposalRead struct {
	sess             *git.Session
	set              *policy.Set
	gate             *gatev1.PromotionGate
	auto             *automation
	target, proposal string

	groups map[string]*group
	order  []string
	limits render.Limits
	total  int64
}

// read classifies and reads the changed YAML files and classifies the other changed
// files (which only matter to the change scope). A file that cannot be read or parsed
// fails its group; a classification error fails the evaluation.
func (p *proposalRead) read(yamlFiles, otherFiles []string) error {
	p.groups = map[string]*group{}
	p.limits = render.DefaultLimits()
	for _, f := range yamlFiles {
		g, err := p.group(f)
		if err != nil {
			return err
		}
		if err := p.readYAML(g, f); err != nil {
			g.failed = errors.Join(g.failed, err)
		}
	}
	for _, f := range otherFiles {
		g, err := p.group(f)
		if err != nil {
			return err
		}
		if scoped(p.set, g.cls) {
			g.changes = append(g.changes, changescope.FileChanged(f))
		}
	}
	return nil
}

// group returns the group of the environment file is classified into.
func (p *proposalRead) group(file string) (*group, error) {
	q := policy.Query{Path: file, Branch: p.auto.target, Requested: p.gate.Spec.Environment}
	cls, err := check.Classify(p.set, q, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: classify %s: %w", errPolicyInvalid, file, err)
	}
	key := fmt.Sprintf("%s/%t", cls.Environment, cls.Protected)
	g := p.groups[key]
	if g == nil {
		g = &group{cls: cls}
		p.groups[key] = g
		p.order = append(p.order, key)
	}
	return g, nil
}

// readYAML reads one changed YAML file at the proposal (and at the target, for the
// change scope) into its group.
func (p *proposalRead) readYAML(g *group, f string) error {
	head, err := p.docs(p.proposal, f)
	if err != nil {
		return err
	}
	if scoped(p.set, g.cls) {
		base, err := p.docs(p.target, f)
		if err != nil {
			return err
		}
		g.changes = append(g.changes, changescope.Diff(base.docs, head.docs, p.set.ImageFields)...)
	}
	if head.missing {
		return nil // deleted by the proposal: nothing left to run
	}
	setters, err := extract.Setters(f, head.data)
	if err != nil {
		return err
	}
	g.docs = append(g.docs, head.docs...)
	g.setters = append(g.setters, setters...)
	return nil
}

type fileDocs struct {
	data    []byte
	docs    []render.Document
	missing bool
}

// docs reads and parses a file at a commit, within the renderer's size limits.
func (p *proposalRead) docs(commit, f string) (fileDocs, error) {
	data, err := p.sess.ReadFile(commit, f, p.limits.MaxFileBytes)
	if errors.Is(err, git.ErrFileNotFound) {
		return fileDocs{missing: true}, nil
	}
	if err != nil {
		return fileDocs{}, err
	}
	p.total += int64(len(data))
	if p.total > p.limits.MaxTotalBytes {
		return fileDocs{}, fmt.Errorf("the changed files exceed %d bytes in total", p.limits.MaxTotalBytes)
	}
	docs, err := render.ParseDocuments(f, data, p.limits)
	if err != nil {
		return fileDocs{}, err
	}
	return fileDocs{data: data, docs: docs}, nil
}

// scoped reports whether a rule of the environment limits what a promotion changes.
func scoped(set *policy.Set, cls policy.Classification) bool {
	for _, r := range set.RulesFor(cls.Environment) {
		if r.ChangeScope == policy.ImagesOnly {
			return true
		}
	}
	return false
}

// promotedCommits returns the commits whose signatures the policy checks, newest
// first: none when no rule checks commit signatures, the proposal commit alone, or
// every commit of target..proposal when a rule asks for all of them.
func promotedCommits(sess *git.Session, set *policy.Set, target, proposal string) ([]*object.Commit, error) {
	need, all := false, false
	for _, r := range set.Rules {
		if r.CommitSignatures != nil {
			need = true
			all = all || r.CommitSignatures.AllCommits
		}
	}
	if !need {
		return nil, nil
	}
	hashes := []string{proposal}
	if all {
		ahead, err := sess.CommitsAhead(target, proposal, maxPromotionCommits)
		if err != nil {
			return nil, fmt.Errorf("list the commits of the promotion for their signatures: %w", err)
		}
		hashes = hashes[:0]
		for _, c := range ahead {
			hashes = append(hashes, c.Hash)
		}
	}
	out := make([]*object.Commit, 0, len(hashes))
	for _, h := range hashes {
		c, err := sess.Commit(h)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
