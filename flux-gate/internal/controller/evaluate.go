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
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
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
	return set, nil
}

// evaluateProposal evaluates the proposal commit: every YAML file under the
// automation's update path that changed between target and proposal, read at the
// proposal commit, with images found both as Kubernetes workloads and through Flux
// setter markers. Files are classified one by one (path, target branch, and the
// gate's environment, which can only make it stricter) and evaluated per
// environment; the verdicts combine to the strictest. Any error fails closed.
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
	var files []string
	for _, f := range changed {
		if underPath(f, auto.updatePath) && isYAML(f) {
			files = append(files, f)
		}
	}

	type group struct {
		cls     policy.Classification
		docs    []render.Document
		setters []extract.Image
		failed  error
	}
	groups := map[string]*group{}
	var order []string
	limits := render.DefaultLimits()
	var total int64
	for _, f := range files {
		q := policy.Query{Path: f, Branch: auto.target, Requested: gate.Spec.Environment}
		cls, err := check.Classify(set, q, nil)
		if err != nil {
			return evaluate.Failure(closed, set.Revision, fmt.Errorf("%w: classify %s: %w", errPolicyInvalid, f, err)), files
		}
		key := fmt.Sprintf("%s/%t", cls.Environment, cls.Protected)
		g := groups[key]
		if g == nil {
			g = &group{cls: cls}
			groups[key] = g
			order = append(order, key)
		}
		data, err := sess.ReadFile(proposal, f, limits.MaxFileBytes)
		if errors.Is(err, git.ErrFileNotFound) {
			continue // deleted by the proposal: nothing left to run
		}
		if err == nil {
			total += int64(len(data))
			if total > limits.MaxTotalBytes {
				err = fmt.Errorf("the changed files exceed %d bytes in total", limits.MaxTotalBytes)
			}
		}
		var docs []render.Document
		var setters []extract.Image
		if err == nil {
			docs, err = render.ParseDocuments(f, data, limits)
		}
		if err == nil {
			setters, err = extract.Setters(f, data)
		}
		if err != nil {
			g.failed = errors.Join(g.failed, err)
			continue
		}
		g.docs = append(g.docs, docs...)
		g.setters = append(g.setters, setters...)
	}

	if len(order) == 0 {
		// Nothing to read: classify what the gate guards, so the status still says
		// which environment the (empty) change was checked for.
		q := policy.Query{Path: auto.updatePath, Branch: auto.target, Requested: gate.Spec.Environment}
		cls, err := check.Classify(set, q, nil)
		if err != nil {
			return evaluate.Failure(closed, set.Revision, fmt.Errorf("%w: %w", errPolicyInvalid, err)), files
		}
		return check.Documents(ctx, set, cls, nil, nil, r.now(), check.Verifiers{}), files
	}
	var results []evaluate.Result
	for _, key := range order {
		g := groups[key]
		if g.failed != nil {
			results = append(results, evaluate.Failure(g.cls, set.Revision, g.failed))
			continue
		}
		// check.Documents counts a setter-marked container image once.
		results = append(results, check.Documents(ctx, set, g.cls, g.docs, g.setters, r.now(), check.Verifiers{}))
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
		out.Findings = append(out.Findings, r.Findings...)
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
