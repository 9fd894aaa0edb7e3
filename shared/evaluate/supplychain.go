package evaluate

import (
	"context"
	"errors"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// Violation is what an external verifier reports for one image and one rule clause;
// the evaluator adds the rule, the image and where it was found.
type Violation struct {
	// Message says in one line what is wrong, e.g. which authority did not sign.
	Message string
	// Fix says in one line what to do about it.
	Fix string
}

// ImageCheck is one image to verify against one rule.
type ImageCheck struct {
	Rule policy.Rule
	// Environment is the classification of the target.
	Environment policy.Classification
	// Ref is the parsed image reference; a reference without a digest is resolved by
	// the verifier, at the registry, every time.
	Ref imageref.Ref
	// PolicyRevision keys caches: a changed policy never reuses an old success.
	PolicyRevision string
	// Now is the evaluation time (scan ages, ignore expiry).
	Now time.Time
}

// ImageVerifier checks the supply-chain clauses of a rule that need the registry:
// signatures and attestations. An error means the check could not decide (registry
// unreachable, unreadable trust material) and fails closed.
type ImageVerifier interface {
	Signatures(ctx context.Context, c ImageCheck) ([]Violation, error)
	Attestations(ctx context.Context, c ImageCheck) ([]Violation, error)
}

// PluginRunner runs the external plugin checks of a rule for one image. A plugin that
// cannot run, crashes or times out is an error, or a violation naming the plugin.
type PluginRunner interface {
	RunPlugins(ctx context.Context, c ImageCheck) ([]Violation, error)
}

// errNoVerifier is the cause given when a rule needs the registry and the caller set
// up no verifier: the check cannot decide, so it fails closed.
var errNoVerifier = errors.New("no registry verifier is configured for this evaluation; " +
	"run it where registry access and trust material are set up")

// signatures: the image must be signed by enough of the rule's authorities.
type signatures struct{}

func (signatures) name() string { return "signatures" }

func (signatures) description() string {
	return "The image (by digest) must be signed by the rule's authorities — a public key or a " +
		"keyless identity — found as a Sigstore bundle among its OCI referrers or as the legacy " +
		"sha256-<digest>.sig tag, logged in a transparency log unless the rule says otherwise."
}

func (signatures) check(ctx context.Context, r *rule, s subject) ([]violation, error) {
	e := s.eval
	if r.Signatures == nil {
		return nil, nil
	}
	if e.verifier == nil {
		return nil, errNoVerifier
	}
	return external(e.verifier.Signatures(ctx, e.imageCheck(r, s.ref)))
}

// attestations: the image must carry signed in-toto statements that satisfy each profile.
type attestations struct{}

func (attestations) name() string { return "attestations" }

func (attestations) description() string {
	return "The image must carry in-toto attestations whose subject is its digest, signed by one " +
		"of the rule's authorities, and whose predicates pass the rule's profiles (SLSA " +
		"provenance builder and source; vulnerability scan thresholds and age)."
}

func (attestations) check(ctx context.Context, r *rule, s subject) ([]violation, error) {
	e := s.eval
	if len(r.Attestations) == 0 {
		return nil, nil
	}
	if e.verifier == nil {
		return nil, errNoVerifier
	}
	return external(e.verifier.Attestations(ctx, e.imageCheck(r, s.ref)))
}

// plugins: every external plugin of the rule must pass the image.
type plugins struct{}

func (plugins) name() string { return "plugins" }

func (plugins) description() string {
	return "External checks run as hashicorp/go-plugin processes, verified by SHA-256 before " +
		"launch; a crash, timeout or handshake failure counts as a failed check."
}

func (plugins) check(ctx context.Context, r *rule, s subject) ([]violation, error) {
	e := s.eval
	if len(r.Plugins) == 0 {
		return nil, nil
	}
	if e.plugins == nil {
		return nil, errors.New("no plugin runner is configured for this evaluation")
	}
	return external(e.plugins.RunPlugins(ctx, e.imageCheck(r, s.ref)))
}

func (e *evaluation) imageCheck(r *rule, ref imageref.Ref) ImageCheck {
	return ImageCheck{Rule: r.Rule, Environment: e.cls, Ref: ref, PolicyRevision: e.revision, Now: e.now}
}

func external(vs []Violation, err error) ([]violation, error) {
	if err != nil {
		return nil, err
	}
	out := make([]violation, 0, len(vs))
	for _, v := range vs {
		out = append(out, violation{message: v.Message, fix: v.Fix})
	}
	return out, nil
}
