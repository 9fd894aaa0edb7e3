package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// judgement is one RunPromotion under way.
type judgement struct {
	req     PromotionCheck
	changed []string

	tree    *tree  // the head revision's files and render roots; nil when nothing is protected
	dir     string // work directory, removed by cleanup; made only to render roots
	headDir string // what the selected roots may read of the head revision
	baseDir string // the same of the base revision, for roots with changeScope rules

	groups map[string]*group
	order  []string
	files  []string
	limits render.Limits
	total  int64
	roots  []root
	// kustomizations caches the kustomization files read at the head, by directory.
	kustomizations map[string]*types.Kustomization
	commits        []*object.Commit
	ext            Verifiers
}

// group is what one environment of the promotion holds: the changed files classified
// into it, their documents and setter-marked images at the head, and, when a rule of
// the environment limits the change scope, what they change besides images.
type group struct {
	cls     policy.Classification
	docs    []render.Document
	setters []extract.Image
	changes []changescope.Change
	failed  error
}

// prepare reads what every later step needs: the promoted commits (for commit
// signatures) and, when the policy protects an environment, the head revision's files
// and the render roots in them.
func (j *judgement) prepare(ctx context.Context) error {
	var err error
	if j.commits, err = j.promotedCommits(); err != nil {
		return err
	}
	if !protects(j.req.Policy) {
		return nil
	}
	if j.tree, err = listTree(j.req.Revisions, j.req.Head, j.req.Bounds.Export); err != nil {
		return fmt.Errorf("list the files of %s to find the roots it changes: %w", short(j.req.Head), err)
	}
	return nil
}

func (j *judgement) cleanup() {
	if j.dir != "" {
		_ = os.RemoveAll(j.dir)
	}
}

// protects reports whether the policy protects an environment: only then can a
// render root need judging.
func protects(set *policy.Set) bool {
	for _, e := range set.Environments {
		if e.Protected {
			return true
		}
	}
	return false
}

// readFiles classifies every changed file and reads the YAML and JSON ones at the head.
// A file that cannot be read or parsed fails its group (which denies when the group
// is protected); a classification error fails the check (the policy is the cause).
func (j *judgement) readFiles() error {
	j.groups = map[string]*group{}
	j.limits = j.req.Render.Limits
	if j.limits == (render.Limits{}) {
		j.limits = render.DefaultLimits()
	}
	for _, f := range j.changed {
		var head fileDocs
		var headErr error
		if isManifest(f) && !j.tree.template(f) {
			head, headErr = j.docs(j.req.Head, f)
		}
		g, err := j.group(f, head.docs)
		if err != nil {
			return err
		}
		switch {
		case j.tree.template(f):
			// A chart template is not YAML until it is rendered: the roots judge it.
			if scoped(j.req.Policy, g.cls) {
				g.changes = append(g.changes, changescope.FileChanged(f))
			}
		case isManifest(f):
			j.files = append(j.files, f)
			err := headErr
			if err == nil {
				err = j.readManifest(g, f, head)
			}
			if err != nil {
				g.failed = errors.Join(g.failed, err)
			}
		case scoped(j.req.Policy, g.cls):
			g.changes = append(g.changes, changescope.FileChanged(f))
		}
	}
	return nil
}

// isManifest reports whether a file may hold Kubernetes documents: YAML or JSON.
func isManifest(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// group returns the group of the environment a file is classified into: by its path,
// and by the namespaces its documents land in, as a render is (ByEffect).
func (j *judgement) group(file string, docs []render.Document) (*group, error) {
	q := policy.Query{Path: file, Branch: j.req.Branch, Requested: j.req.Environment}
	cls, err := Classify(j.req.Policy, q, nil)
	if err != nil {
		return nil, errPolicy{fmt.Errorf("classify %s: %w", file, err)}
	}
	cls, _ = ByEffect(j.req.Policy, cls, &render.Result{Documents: docs})
	key := fmt.Sprintf("%s/%t", cls.Environment, cls.Protected)
	g := j.groups[key]
	if g == nil {
		g = &group{cls: cls}
		j.groups[key] = g
		j.order = append(j.order, key)
	}
	return g, nil
}

// readManifest adds one changed file, read at the head, to its group (and reads it at
// the base, for the change scope).
func (j *judgement) readManifest(g *group, f string, head fileDocs) error {
	if scoped(j.req.Policy, g.cls) {
		base, err := j.docs(j.req.Base, f)
		if err != nil {
			return err
		}
		g.changes = append(g.changes, changescope.Diff(base.docs, head.docs, j.req.Policy.ImageFields)...)
	}
	if head.missing {
		return nil // deleted by the promotion: nothing left to run
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

// docs reads and parses a file at a revision, within the renderer's size limits.
func (j *judgement) docs(rev, f string) (fileDocs, error) {
	data, err := j.req.Revisions.ReadFile(rev, f, j.limits.MaxFileBytes)
	if errors.Is(err, ErrFileNotFound) {
		return fileDocs{missing: true}, nil
	}
	if err != nil {
		return fileDocs{}, fmt.Errorf("read %s at %s: %w", f, short(rev), err)
	}
	j.total += int64(len(data))
	if j.total > j.limits.MaxTotalBytes {
		return fileDocs{}, fmt.Errorf("the changed files exceed %d bytes in total: %w", j.limits.MaxTotalBytes, render.ErrLimit)
	}
	docs, err := render.ParseDocuments(f, data, j.limits)
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
// first: none when no rule checks commit signatures, the head commit alone, or every
// commit of base..head when a rule asks for all of them.
func (j *judgement) promotedCommits() ([]*object.Commit, error) {
	need, all := false, false
	for _, r := range j.req.Policy.Rules {
		if r.CommitSignatures != nil {
			need = true
			all = all || r.CommitSignatures.AllCommits
		}
	}
	if !need {
		return nil, nil
	}
	commits, err := j.req.Revisions.Commits(j.req.Base, j.req.Head, j.req.Bounds.MaxCommits)
	if err != nil {
		return nil, fmt.Errorf("list the commits of the promotion for their signatures (at most %d): %w", j.req.Bounds.MaxCommits, err)
	}
	if len(commits) == 0 {
		return nil, fmt.Errorf("no commits in %s..%s to check the signatures of", short(j.req.Base), short(j.req.Head))
	}
	if !all {
		commits = commits[:1]
	}
	return commits, nil
}
