package controller

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/changescope"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// errPolicyInvalid marks evaluation failures caused by the policy itself (e.g. the
// gate names an environment the policy does not define).
var errPolicyInvalid = errors.New("policy invalid")

// loadPolicy merges the labelled ConfigMaps of the policy namespace. Any error is
// returned for the caller to fail closed on.
func (r *PromotionGateReconciler) loadPolicy(ctx context.Context) (*policy.Set, error) {
	var cms corev1.ConfigMapList
	if err := r.List(ctx, &cms, client.InNamespace(r.PolicyNamespace),
		client.MatchingLabels{policy.ConfigMapLabel: "true"}); err != nil {
		return nil, fmt.Errorf("list policy ConfigMaps in %s: %w", r.PolicyNamespace, err)
	}
	set, err := policy.FromConfigMaps(cms.Items)
	if err != nil {
		return nil, fmt.Errorf("policy in namespace %s: %w", r.PolicyNamespace, err)
	}
	r.policyWarnings.log(ctx, r.PolicyNamespace, set, r.now())
	return set, nil
}

// evaluateProposal evaluates the proposal commit: every YAML file under the
// automation's update path that changed between target and proposal, read at the
// proposal commit, with images found both as Kubernetes workloads and through Flux
// setter markers, checked at the registry when the policy asks for signatures or
// attestations; and the promotion itself: its commits' signatures and whether it
// changes anything but image fields. Files are classified one by one (path, target
// branch, and the gate's environment, which can only make it stricter) and evaluated
// per environment; the verdicts combine to the strictest. Any error fails closed.
func (r *PromotionGateReconciler) evaluateProposal(ctx context.Context, sess *git.Session, gate *gatev1.PromotionGate,
	auto *automation, set *policy.Set, policyErr error, target, proposal string) (evaluate.Result, []string) {
	start := r.now()
	defer func() {
		r.Metrics.EvaluationDuration.WithLabelValues(gate.Namespace, gate.Name).Observe(r.now().Sub(start).Seconds())
	}()
	closed := policy.Classification{Environment: gate.Spec.Environment, Protected: true}
	if policyErr != nil {
		return evaluate.Failure(closed, "", fmt.Errorf("%w: %w", errPolicyInvalid, policyErr)), nil
	}
	changed, err := sess.ChangedFiles(target, proposal)
	if err != nil {
		return evaluate.Failure(closed, set.Revision, err), nil
	}
	var files, others []string
	for _, f := range changed {
		switch {
		case !underPath(f, auto.updatePath):
		case isYAML(f):
			files = append(files, f)
		default:
			others = append(others, f)
		}
	}
	p := proposalRead{sess: sess, set: set, gate: gate, auto: auto, target: target, proposal: proposal}
	if err := p.read(files, others); err != nil {
		return evaluate.Failure(closed, set.Revision, err), files
	}
	commits, err := promotedCommits(sess, set, target, proposal)
	if err != nil {
		return evaluate.Failure(closed, set.Revision, err), files
	}
	var setters []extract.Image
	var envs []policy.Classification
	for _, key := range p.order {
		setters = append(setters, p.groups[key].setters...)
		envs = append(envs, p.groups[key].cls)
	}
	v, err := r.verifier(ctx, gate.Namespace, set, envs, setters)
	if err != nil {
		return evaluate.Failure(closed, set.Revision, fmt.Errorf("set up the registry checks: %w", err)), files
	}
	ext := check.Verifiers{Images: v, Plugins: r.Plugins}
	promotion := func(cls policy.Classification, changes []changescope.Change) []evaluate.Finding {
		return check.Promotion(ctx, check.PromotionRequest{Policy: set, Environment: cls, Commits: commits,
			Changes: changes, Trust: r.trust()})
	}

	if len(p.order) == 0 {
		// Nothing to read: classify what the gate guards, so the status still says
		// which environment the (empty) change was checked for.
		q := policy.Query{Path: auto.updatePath, Branch: auto.target, Requested: gate.Spec.Environment}
		cls, err := check.Classify(set, q, nil)
		if err != nil {
			return evaluate.Failure(closed, set.Revision, fmt.Errorf("%w: %w", errPolicyInvalid, err)), files
		}
		res := check.Documents(ctx, set, cls, nil, nil, r.now(), ext)
		return check.WithFindings(res, promotion(cls, nil)), files
	}
	var results []evaluate.Result
	for _, key := range p.order {
		g := p.groups[key]
		if g.failed != nil {
			results = append(results, evaluate.Failure(g.cls, set.Revision, g.failed))
			continue
		}
		// check.Documents counts a setter-marked container image once.
		res := check.Documents(ctx, set, g.cls, g.docs, g.setters, r.now(), ext)
		results = append(results, check.WithFindings(res, promotion(g.cls, g.changes)))
	}
	return combine(results), files
}

func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// combine folds the results of several environments into one: the strictest
// verdict and environment, every finding, image and notice, every error.
func combine(results []evaluate.Result) evaluate.Result {
	if len(results) == 1 {
		return results[0]
	}
	out := evaluate.Result{Verdict: evaluate.Allowed}
	rank := map[evaluate.Verdict]int{evaluate.Allowed: 0, evaluate.Warned: 1, evaluate.Denied: 2}
	var errs []string
	for _, r := range results {
		if rank[r.Verdict] > rank[out.Verdict] {
			out.Verdict = r.Verdict
		}
		if out.Environment == "" || (r.Protected && !out.Protected) {
			out.Environment, out.Protected = r.Environment, r.Protected
		}
		if out.PolicyRevision == "" {
			out.PolicyRevision = r.PolicyRevision
		}
		for _, f := range r.Findings {
			// A commit is checked once per environment of the proposal: report it once.
			if f.Check == check.CheckCommitSignatures && slices.ContainsFunc(out.Findings, func(o evaluate.Finding) bool {
				return o.Rule == f.Rule && o.Check == f.Check && o.Message == f.Message
			}) {
				continue
			}
			out.Findings = append(out.Findings, f)
		}
		out.Exempted = append(out.Exempted, r.Exempted...)
		out.Notices = append(out.Notices, r.Notices...)
		out.Images = append(out.Images, r.Images...)
		if r.Error != "" {
			errs = append(errs, r.Error)
		}
	}
	out.Error = strings.Join(errs, "; ")
	return out
}

// evaluationError returns the failure recorded in a result, matching
// errPolicyInvalid when the policy was the cause.
func evaluationError(res evaluate.Result) error {
	if res.Error == "" {
		return nil
	}
	if strings.HasPrefix(res.Error, errPolicyInvalid.Error()) {
		return fmt.Errorf("%w: %s", errPolicyInvalid, strings.TrimPrefix(res.Error, errPolicyInvalid.Error()+": "))
	}
	return errors.New(res.Error)
}

// imageList returns the distinct references evaluated, in order.
func imageList(res evaluate.Result) []string {
	var out []string
	for _, img := range res.Images {
		if !slices.Contains(out, img.Raw) {
			out = append(out, img.Raw)
		}
	}
	return out
}
