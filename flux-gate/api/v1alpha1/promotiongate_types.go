package v1alpha1

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PromotionGateKind is the kind of PromotionGate objects.
const PromotionGateKind = "PromotionGate"

// PromotionGateSpec says which automation's pushes (or which source branch) to hold
// and where to promote them.
//
// +kubebuilder:validation:XValidation:rule="(has(self.automationRef) && size(self.automationRef.name) > 0) != (has(self.sourceRef) && size(self.sourceRef.name) > 0)",message="set exactly one of automationRef (promote an ImageUpdateAutomation's proposals) and sourceRef with source.branch (promote one branch into another)"
// +kubebuilder:validation:XValidation:rule="!has(self.sourceRef) || size(self.sourceRef.name) == 0 || (has(self.source) && size(self.source.branch) > 0 && has(self.targetBranch) && size(self.targetBranch) > 0 && self.source.branch != self.targetBranch)",message="a branch promotion needs source.branch and targetBranch, and they must differ"
type PromotionGateSpec struct {
	// AutomationRef names the ImageUpdateAutomation, in the same namespace, whose
	// pushes this gate holds. The automation must push to a proposal branch
	// (spec.git.push.branch) that differs from the target branch. Exactly one of
	// automationRef and sourceRef is set.
	// +optional
	AutomationRef meta.LocalObjectReference `json:"automationRef,omitzero"`

	// --- records, rollbacks and branch promotion ---

	// SourceRef names a GitRepository, in the same namespace, whose source.branch
	// this gate promotes into targetBranch by fast-forward (a branch-per-environment
	// promotion: staging into production). The GitRepository's URL and credentials
	// are used; its own reference is not. Exactly one of automationRef and sourceRef
	// is set.
	// +optional
	SourceRef *meta.LocalObjectReference `json:"sourceRef,omitempty"`

	// Source is the branch promoted from, with sourceRef.
	// +optional
	Source *BranchSource `json:"source,omitempty"`

	// Record says how promotion records are written: every promotion (and every
	// rollback the gate sees) is an annotated tag on the commit, whose message is the
	// record.
	// +optional
	Record *RecordSpec `json:"record,omitempty"`

	// TargetBranch is the branch the evaluated proposal commit is promoted to.
	// Defaults to the automation's checkout branch.
	// +kubebuilder:validation:MaxLength=250
	// +optional
	TargetBranch string `json:"targetBranch,omitempty"`

	// Environment names the policy environment to check against. It can only make the
	// classification stricter: a path the policy classifies as a protected environment
	// stays protected whatever is named here.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern="^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$"
	// +optional
	Environment string `json:"environment,omitempty"`

	// Interval is how often the gate looks at the proposal branch when nothing
	// triggers it; a new push of the automation, a policy change or a change of this
	// object trigger it at once.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:default="5m"
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`

	// Suspend stops the gate from evaluating and promoting; held commits stay held.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// --- pull-request mode (forge_types.go) ---

	// Promote says how an allowed proposal reaches the target branch: push (the gate
	// fast-forwards the target itself) or pullRequest (the gate never writes the
	// target: it posts a commit status on the proposal commit and keeps one pull
	// request open from the proposal branch; a person merges it, and the target's
	// branch protection requires the status).
	// +kubebuilder:validation:Enum=push;pullRequest
	// +kubebuilder:default=push
	// +optional
	Promote PromoteMode `json:"promote,omitempty"`

	// Provider is the forge that pullRequest mode posts to; required in that mode.
	// +optional
	Provider *ForgeProvider `json:"provider,omitempty"`
}

// BranchSource is a branch promoted from.
type BranchSource struct {
	// Branch is the source branch, e.g. staging.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=250
	// +required
	Branch string `json:"branch"`
}

// RecordSpec configures promotion records.
type RecordSpec struct {
	// TagTemplate names record tags. Placeholders: {env} (the environment), {date}
	// (YYYY-MM-DD, UTC), {seq} (required once: 001, 002, ... per name, found from
	// the repository's tags), {branch}, {gate} and {kind} (promotion or rollback).
	// +kubebuilder:default="{env}-{date}-{seq}"
	// +kubebuilder:validation:MaxLength=200
	// +optional
	TagTemplate string `json:"tagTemplate,omitempty"`

	// SigningKeyRef names a Secret in the policy namespace (where the trust material
	// lives) holding the key that signs record tags: git.asc (an armored OpenPGP
	// private key) or identity (an SSH private key), with passphrase when the key is
	// encrypted. Without it, record tags are unsigned.
	// +optional
	SigningKeyRef *meta.LocalObjectReference `json:"signingKeyRef,omitempty"`
}

// RecordRef is a record tag.
type RecordRef struct {
	// Tag is the tag name.
	Tag string `json:"tag"`
	// Kind is promotion or rollback.
	Kind string `json:"kind"`
	// Commit is the commit the tag points at.
	Commit string `json:"commit"`
	// Signed says whether the tag was signed.
	// +optional
	Signed bool `json:"signed,omitempty"`
}

// PendingRecord is a record that must still be written: the branch moved (or is
// about to), the tag is not pushed yet. The gate finishes it on its next run, also
// after a restart.
type PendingRecord struct {
	// Commit is the commit the tag will point at.
	Commit string `json:"commit"`
	// PreviousCommit is the branch head before the push: if the branch never reached
	// Commit, the push did not happen and nothing is recorded.
	PreviousCommit string `json:"previousCommit"`
	// Message is the record (the tag message without its name).
	Message string `json:"message"`
	// Error is why the last attempt to write it failed.
	// +optional
	Error string `json:"error,omitempty"`
}

// RolledBackDigest is a digest the gate promoted that a person took off the target
// branch: later proposals bringing it back are held until it is released.
type RolledBackDigest struct {
	// Digest is the image digest.
	Digest string `json:"digest"`
	// Image is the reference that carried it.
	// +optional
	Image string `json:"image,omitempty"`
	// RevertCommit is the commit that removed it from the target branch.
	RevertCommit string `json:"revertCommit"`
	// Author is who wrote that commit.
	// +optional
	Author string `json:"author,omitempty"`
	// Tag is the rollback record.
	// +optional
	Tag string `json:"tag,omitempty"`
}

// PromotionGateStatus is what the gate observed and did.
type PromotionGateStatus struct {
	// ObservedGeneration is the last generation of the spec the gate acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling and Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Proposal is the proposal branch and its head as last fetched.
	// +optional
	Proposal *Proposal `json:"proposal,omitempty"`

	// LastEvaluation is the policy verdict on the last proposal commit evaluated.
	// +optional
	LastEvaluation *Evaluation `json:"lastEvaluation,omitempty"`

	// LastPromotion is the last commit pushed to the target branch by this gate, with
	// the target head it replaced: the commit to roll back to.
	// +optional
	LastPromotion *Promotion `json:"lastPromotion,omitempty"`

	// PullRequest is, in pullRequest mode, the pull request of the proposal and the
	// commit status last posted on its head.
	// +optional
	PullRequest *PullRequestStatus `json:"pullRequest,omitempty"`
	// --- records, rollbacks and branch promotion ---

	// LastRecord is the last record tag the gate wrote.
	// +optional
	LastRecord *RecordRef `json:"lastRecord,omitempty"`

	// PendingRecord is a promotion record not written yet; the gate retries it.
	// +optional
	PendingRecord *PendingRecord `json:"pendingRecord,omitempty"`

	// RolledBack are the digests held because they were rolled back on the target
	// branch and not released.
	// +optional
	RolledBack []RolledBackDigest `json:"rolledBack,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// Proposal is a proposal branch head.
type Proposal struct {
	// Branch is the automation's push branch.
	Branch string `json:"branch"`
	// Commit is the branch head, empty when the branch does not exist.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// Evaluation is the verdict of the policy on one proposal commit.
type Evaluation struct {
	// Commit is the proposal commit evaluated.
	Commit string `json:"commit"`
	// TargetCommit is the target head the proposal was compared with.
	TargetCommit string `json:"targetCommit"`
	// Verdict is Allowed, Warned or Denied.
	Verdict string `json:"verdict"`
	// Environment is the classified policy environment; empty when unclassified.
	// +optional
	Environment string `json:"environment,omitempty"`
	// Protected says whether the environment fails closed.
	// +optional
	Protected bool `json:"protected,omitempty"`
	// PolicyRevision is the digest of the merged policy used.
	// +optional
	PolicyRevision string `json:"policyRevision,omitempty"`
	// Files are the repository-relative files evaluated one by one: the YAML and JSON
	// files that changed between target and proposal, wherever they are.
	// +optional
	Files []string `json:"files,omitempty"`
	// Images are the image references found in those files.
	// +optional
	Images []string `json:"images,omitempty"`
	// Findings are the violations found, deny and warn.
	// +optional
	Findings []Finding `json:"findings,omitempty"`
	// Error is set when the evaluation itself failed (fail closed).
	// +optional
	Error string `json:"error,omitempty"`
	// Time is when the evaluation ran.
	Time metav1.Time `json:"time"`
}

// Finding is one policy violation on a proposal commit.
type Finding struct {
	// Rule is the policy rule broken.
	Rule string `json:"rule"`
	// Check is the clause of the rule broken, e.g. requireDigest, signatures,
	// commitSignatures or changeScope.
	// +optional
	Check string `json:"check,omitempty"`
	// Enforcement is deny or warn.
	Enforcement string `json:"enforcement"`
	// Image is the reference as written; empty for findings about the promotion's
	// commits or non-image changes.
	Image string `json:"image"`
	// File is the repository-relative file holding the image or the change; empty for
	// findings about commits.
	File string `json:"file"`
	// Field is the field path of the image (or the setter-marked field), or of the
	// field a changeScope finding names.
	// +optional
	Field string `json:"field,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Fix says what to do about it.
	// +optional
	Fix string `json:"fix,omitempty"`
}

// Promotion is one push of an evaluated proposal commit to the target branch.
type Promotion struct {
	// Branch is the target branch.
	Branch string `json:"branch"`
	// Commit is the commit promoted: exactly the proposal commit evaluated.
	Commit string `json:"commit"`
	// PreviousCommit is the target head before the promotion: the rollback point.
	PreviousCommit string `json:"previousCommit"`
	// Images are the image references promoted.
	// +optional
	Images []string `json:"images,omitempty"`
	// PolicyRevision is the digest of the policy that allowed the promotion.
	// +optional
	PolicyRevision string `json:"policyRevision,omitempty"`
	// Time is when the push happened.
	Time metav1.Time `json:"time"`

	// --- pull-request mode: who promoted it ---

	// PullRequest is the address of the merged pull request that promoted the commit.
	// +optional
	PullRequest string `json:"pullRequest,omitempty"`
	// MergedBy is the forge login of the person who merged it.
	// +optional
	MergedBy string `json:"mergedBy,omitempty"`
	// ApprovedBy are the forge logins whose approvals stood when it was merged.
	// +optional
	ApprovedBy []string `json:"approvedBy,omitempty"`
}

// PromotionGate holds an ImageUpdateAutomation's pushes on a proposal branch and
// promotes a commit to the target branch only when the promotion policy passes for it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pgate;pgates,categories=flux;promotion-gate
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].status",description=""
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.conditions[?(@.type==\"Ready\")].message",description=""
// +kubebuilder:printcolumn:name="Proposal",type="string",JSONPath=".status.proposal.commit",description=""
// +kubebuilder:printcolumn:name="Promoted",type="string",JSONPath=".status.lastPromotion.commit",description=""
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp",description=""
type PromotionGate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec PromotionGateSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status PromotionGateStatus `json:"status,omitempty"`
}

// DefaultInterval is used when spec.interval is zero (an object created without the
// CRD's defaulting, e.g. in unit tests).
const DefaultInterval = 5 * time.Minute

// GetRequeueAfter returns how long to wait before looking at the proposal again.
func (in *PromotionGate) GetRequeueAfter() time.Duration {
	if in.Spec.Interval.Duration <= 0 {
		return DefaultInterval
	}
	return in.Spec.Interval.Duration
}

// GetConditions returns the status conditions; it lets the Flux runtime helpers
// (conditions, patch, metrics) work on a PromotionGate.
func (in *PromotionGate) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions sets the status conditions.
func (in *PromotionGate) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// PromotionGateList is a list of PromotionGates.
//
// +kubebuilder:object:root=true
type PromotionGateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PromotionGate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PromotionGate{}, &PromotionGateList{})
}
