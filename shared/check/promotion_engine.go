package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// Revisions is how the engine reads a promotion: the change between a base revision
// (the target head T) and a head revision (the proposal P). flux-gate implements it
// over its clone cache; anything that holds a Git history can.
type Revisions interface {
	// ChangedFiles lists the repository-relative, slash-separated files that differ
	// between the trees of base and head (a rename counts as both names).
	ChangedFiles(base, head string) ([]string, error)
	// ReadFile reads a file at a revision, refusing more than limit bytes. A file the
	// revision does not have wraps ErrFileNotFound.
	ReadFile(rev, path string, limit int64) ([]byte, error)
	// Commits returns the commits of base..head, newest first; more than max is an error.
	Commits(base, head string, max int) ([]*object.Commit, error)
	// Export writes the regular files of a revision that keep accepts (every file when
	// keep is nil) under dir, within lim (gitrev.ErrLimit wrapped beyond), so that they
	// render exactly as a work tree does. keep sees the name of every regular file of
	// the revision, and nothing is read or written for a file it refuses: the engine
	// lists a revision with a keep that refuses everything, then writes only what the
	// roots a change reaches may read.
	Export(rev, dir string, lim gitrev.Limits, keep func(path string) bool) error
}

// ErrFileNotFound is wrapped by Revisions.ReadFile for a file a revision does not have.
var ErrFileNotFound = gitrev.ErrFileNotFound

// Reason says why a promotion is not allowed to go ahead. It travels as a value from
// where it is known to the door that shows it (flux-gate's Ready condition reason).
type Reason string

const (
	// ReasonPolicyViolation: the policy denies the promotion; the findings say why.
	ReasonPolicyViolation Reason = "PolicyViolation"
	// ReasonPolicyInvalid: no policy, a broken one, or an environment it does not define.
	ReasonPolicyInvalid Reason = "PolicyInvalid"
	// ReasonEvaluationFailed: something the promotion changes could not be judged (a
	// file that cannot be read or parsed, a render that fails, a bound that is hit).
	ReasonEvaluationFailed Reason = "EvaluationFailed"
)

// CredentialsFunc returns the registry credentials of one request for the images it
// found (flux-gate: the pull secrets of the ImageRepositories the setter markers name).
// They are tried before the verifiers' own keychain.
type CredentialsFunc func(ctx context.Context, images []extract.Image) (authn.Keychain, error)

// PromotionCheck asks the engine to judge a promotion: everything that changes between
// Base and Head, read through Revisions.
type PromotionCheck struct {
	// Policy is the merged policy; nil when it could not be loaded, and then PolicyErr
	// says why. Either fails closed with ReasonPolicyInvalid.
	Policy    *policy.Set
	PolicyErr error
	Revisions Revisions
	// Base is the revision promoted onto (the target head T); Head is the one promoted (P).
	Base, Head string
	// Branch is the target branch, for classification by branch.
	Branch string
	// Environment is the environment the caller names (a PromotionGate's
	// spec.environment); it can only make a classification stricter.
	Environment string
	// Scope is the path the change is about when it changes no file the engine reads
	// (flux-gate: the automation's update path), so the result still names an environment.
	Scope string
	// Render carries renderer options (Kubernetes version, limits) for the roots rendered
	// at Head; Path, RepoRoot and ValuesFiles are filled in per root.
	Render render.Options
	// Bounds bound the work; zero fields take DefaultBounds.
	Bounds Bounds
	// Now is the evaluation time; zero means time.Now().
	Now time.Time
	// Verifiers check signatures, attestations and plugins (NewVerifiers).
	Verifiers Verifiers
	// Credentials, when set, adds per-request registry credentials to Verifiers.
	Credentials CredentialsFunc
	// Trust resolves the key material of commitSignatures; nil reads inline data and
	// files only.
	Trust trust.Resolver
	// WorkDir is where Head (and Base, for changeScope) are written to be rendered; ""
	// means the system's temporary directory. Each check removes what it wrote.
	WorkDir string
}

// Bounds bound the work of one promotion check. A bound that is hit holds the
// promotion (ReasonEvaluationFailed): what was not judged cannot pass.
type Bounds struct {
	// MaxRoots caps the protected render roots rendered for one promotion.
	MaxRoots int
	// MaxCommits caps the commits whose signatures are checked (rules with allCommits).
	MaxCommits int
	// Export bounds the files of a revision written to be rendered.
	Export gitrev.Limits
	// Timeout bounds the renders of the roots together.
	Timeout time.Duration
}

// DefaultBounds: 25 roots, 500 commits, 20,000 files and 64 MiB per exported revision
// (5 MiB per file, the renderer's own limit), two minutes of rendering.
func DefaultBounds() Bounds {
	return Bounds{
		MaxRoots:   25,
		MaxCommits: 500,
		Export:     gitrev.Limits{MaxFileBytes: 5 << 20, MaxTotalBytes: 64 << 20, MaxFiles: 20_000},
		Timeout:    2 * time.Minute,
	}
}

func (b Bounds) withDefaults() Bounds {
	d := DefaultBounds()
	if b.MaxRoots <= 0 {
		b.MaxRoots = d.MaxRoots
	}
	if b.MaxCommits <= 0 {
		b.MaxCommits = d.MaxCommits
	}
	if b.Export.MaxFileBytes <= 0 {
		b.Export.MaxFileBytes = d.Export.MaxFileBytes
	}
	if b.Export.MaxTotalBytes <= 0 {
		b.Export.MaxTotalBytes = d.Export.MaxTotalBytes
	}
	if b.Export.MaxFiles <= 0 {
		b.Export.MaxFiles = d.Export.MaxFiles
	}
	if b.Timeout <= 0 {
		b.Timeout = d.Timeout
	}
	return b
}

// PromotionOutcome is the one answer to a PromotionCheck.
type PromotionOutcome struct {
	// Result is the folded result of every file and root judged; always set.
	Result evaluate.Result
	// Reason is set when Result.Verdict is Denied: why the promotion must not go ahead.
	Reason Reason
	// Files are the changed files judged one by one, in order.
	Files []string
	// Roots are the protected render roots rendered at Head, with their own results:
	// each is what the CLI and the plugin say for that root at Head.
	Roots []RootOutcome
}

// RootOutcome is one render root judged at the head revision.
type RootOutcome struct {
	// Path is the repository-relative root (a kustomization or chart directory).
	Path string
	// ValuesFiles are the Helm values files the root is rendered with.
	ValuesFiles []string
	Result      evaluate.Result
}

// RunPromotion judges a promotion: every file changed in Base..Head wherever it is (YAML
// and JSON documents and Flux setter markers, classified by path, branch and the
// requested environment), every protected render root whose render reads a changed
// file (rendered at Head by render.Render, as the CLI and the plugin render it, and
// judged as its environment), and the promotion's commits and scope. Every clause of
// every rule of each environment is evaluated and the results fold to one verdict.
// Anything it cannot judge in a protected environment denies, with the reason typed.
func RunPromotion(ctx context.Context, req PromotionCheck) PromotionOutcome {
	req.Bounds = req.Bounds.withDefaults()
	closed := policy.Classification{Environment: req.Environment, Protected: true}
	if req.Policy == nil {
		err := req.PolicyErr
		if err == nil {
			err = ErrNoPolicy
		}
		return denied(ReasonPolicyInvalid, evaluate.Failure(closed, "", err))
	}
	fail := func(reason Reason, err error) PromotionOutcome {
		return denied(reason, evaluate.Failure(closed, req.Policy.Revision, err))
	}
	changed, err := req.Revisions.ChangedFiles(req.Base, req.Head)
	if err != nil {
		return fail(ReasonEvaluationFailed, fmt.Errorf("list the files changed in %s..%s: %w", short(req.Base), short(req.Head), err))
	}
	j := &judgement{req: req, changed: changed}
	defer j.cleanup()
	if err := j.prepare(ctx); err != nil {
		return fail(reasonOf(err), err)
	}
	if err := j.readFiles(); err != nil {
		return fail(reasonOf(err), err)
	}
	if err := j.selectRoots(); err != nil {
		return fail(reasonOf(err), err)
	}
	if err := j.setUpVerifiers(ctx); err != nil {
		return fail(ReasonEvaluationFailed, fmt.Errorf("set up the registry checks: %w", err))
	}
	return j.evaluate(ctx)
}

// errPolicy marks errors caused by the policy itself, e.g. a requested environment it
// does not define.
type errPolicy struct{ err error }

func (e errPolicy) Error() string { return e.err.Error() }
func (e errPolicy) Unwrap() error { return e.err }

func reasonOf(err error) Reason {
	var pe errPolicy
	if errors.As(err, &pe) {
		return ReasonPolicyInvalid
	}
	return ReasonEvaluationFailed
}

func denied(reason Reason, res evaluate.Result) PromotionOutcome {
	return PromotionOutcome{Result: res, Reason: reason}
}

// workDir makes the directory a check writes revisions into.
func workDir(parent string) (string, error) {
	dir, err := os.MkdirTemp(parent, "promotion-")
	if err != nil {
		return "", fmt.Errorf("make a directory to render the promotion in: %w", err)
	}
	return dir, nil
}

// short abbreviates a commit hash for messages.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// WarmUp renders a one-resource kustomization in a temporary directory when a
// long-running door starts: it proves that the program can start its render worker
// (a door whose main lacks render.ServeWorker fails here, not at its first promotion)
// and brings the executable's pages into memory for the workers that follow.
func WarmUp(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "promotion-gate-warm-up-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"kustomization.yaml": "resources: [configmap.yaml]\nnamePrefix: warm-\n",
		"configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: up}\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	_, err = render.Render(ctx, render.Options{Path: dir, RepoRoot: dir})
	return err
}
