// Package evaluate applies a policy's rules to the images of one environment and turns
// the findings into a verdict. It never invents an Allowed verdict: any error in a
// protected environment denies.
package evaluate

import (
	"time"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// Verdict is the outcome of an evaluation.
type Verdict string

const (
	// Allowed means no rule found anything to report.
	Allowed Verdict = "Allowed"
	// Warned means there are findings, none of which denies; the promotion goes ahead.
	Warned Verdict = "Warned"
	// Denied means at least one finding denies, or the evaluation failed in a protected
	// environment; the promotion must not go ahead.
	Denied Verdict = "Denied"
)

// RuleValidImageReference is the name of the built-in rule that every image must pass:
// a reference the runtime cannot parse is a finding of this rule. It denies in protected
// environments and warns elsewhere, whatever the policy says.
const RuleValidImageReference = "valid-image-reference"

// Request is one evaluation: the images of one target in one classified environment.
type Request struct {
	// Policy is the merged policy. Nil fails closed (see Failure).
	Policy *policy.Set
	// Environment is the classification of the target; its Protected flag decides
	// whether findings deny or only warn.
	Environment policy.Classification
	// Images are the references found in the target, with their provenance.
	Images []extract.Image
	// Now is the time exemptions expire against; zero means time.Now().
	Now time.Time
	// Verifier checks signatures and attestations at the registry. Nil makes every rule
	// that has them fail closed with a finding that says so.
	Verifier ImageVerifier
	// Plugins runs the rules' external plugin checks. Nil fails such rules closed.
	Plugins PluginRunner
	// Promotion, when set, is checked by the promotion clauses (commitSignatures,
	// changeScope) of the environment's rules; nil leaves them unchecked.
	Promotion *Promotion
}

// Finding is one violation: one clause of one rule broken by one image.
type Finding struct {
	// Rule is the policy rule name, or RuleValidImageReference.
	Rule string `json:"rule"`
	// Check names the rule clause that was broken: "requireDigest", "denyTags",
	// "allowedRegistries", "tagPattern" or "validImageReference". A rule with several
	// clauses can yield several findings for one image.
	Check string `json:"check"`
	// Enforcement is the effective enforcement of this finding: the rule's own in a
	// protected environment, always Warn in an unprotected one.
	Enforcement policy.Enforcement `json:"enforcement"`
	// Image is the reference as written.
	Image  string         `json:"image"`
	Source extract.Source `json:"source"`
	// Message says in one line what is wrong.
	Message string `json:"message"`
	// Fix says in one line what to do about it.
	Fix string `json:"fix"`
	// Exemption is set on findings let through by a live exemption.
	Exemption *ExemptionUse `json:"exemption,omitempty"`
}

// ExemptionUse records which exemption let a finding through, so that reports can say
// why and until when.
type ExemptionUse struct {
	Reason string `json:"reason"`
	Owner  string `json:"owner"`
	// Expires is the exemption's last day (YYYY-MM-DD, UTC); empty means it never expires.
	Expires string `json:"expires,omitempty"`
	// Images is the exemption glob that matched the image.
	Images string `json:"images"`
}

// Result is the outcome of one evaluation, or of a failure to evaluate.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Environment is the classified environment; empty when unclassified.
	Environment string `json:"environment"`
	Protected   bool   `json:"protected"`
	// Because says why the environment is stricter than the request's own (its path,
	// branch, application, namespace): a file the render read, or a namespace its
	// objects land in. Empty when the request alone decided it.
	Because        []string `json:"because,omitempty"`
	PolicyRevision string   `json:"policyRevision"`
	// Findings are the counted violations (deny and warn), sorted by file, document,
	// field path and rule.
	Findings []Finding `json:"findings"`
	// Exempted are violations let through by a live exemption, in the same order.
	Exempted []Finding `json:"exempted"`
	// Notices are things a person should know that are not violations, e.g. an expired
	// exemption that was ignored. Notices do not change the verdict.
	Notices []string `json:"notices"`
	// Images are all images evaluated, as given.
	Images []extract.Image `json:"images"`
	// Error is set when the result comes from an error (see Failure).
	Error string `json:"error,omitempty"`
}
