package v1alpha1

// Condition reasons of a PromotionGate. The condition types are Flux's (and kstatus'):
// Ready (positive polarity), Reconciling and Stalled (negative polarity, present only
// while true), from github.com/fluxcd/pkg/apis/meta.
const (
	// PromotedReason: the evaluated proposal commit was pushed to the target branch.
	PromotedReason = "Promoted"

	// UpToDateReason: there is nothing to promote; the target already contains the
	// proposal, or there is no proposal branch.
	UpToDateReason = "UpToDate"

	// PolicyViolationReason: the policy denies the proposal commit; it stays held.
	PolicyViolationReason = "PolicyViolation"

	// PolicyInvalidReason: the policy ConfigMaps cannot be read or do not validate;
	// the gate fails closed and holds.
	PolicyInvalidReason = "PolicyInvalid"

	// ProposalDivergedReason: the target moved and the proposal branch carries commits
	// not written by the automation, so the gate will not delete it.
	ProposalDivergedReason = "ProposalDiverged"

	// ProposalStaleReason: the target moved and the proposal branch held only automation
	// commits; the gate deleted it and asked the automation for a new run.
	ProposalStaleReason = "ProposalStale"

	// TargetMovedReason: the target branch moved between evaluation and push; the push
	// was rejected and the gate evaluates again.
	TargetMovedReason = "TargetMoved"

	// AutomationMisconfiguredReason: the ImageUpdateAutomation cannot be gated as it is,
	// e.g. it pushes straight to the target branch.
	AutomationMisconfiguredReason = "AutomationMisconfigured"

	// AutomationNotFoundReason: the referenced ImageUpdateAutomation or its
	// GitRepository does not exist (yet).
	AutomationNotFoundReason = "AutomationNotFound"

	// AuthenticationFailedReason: the GitRepository's credentials Secret is missing or
	// unusable.
	AuthenticationFailedReason = "AuthenticationFailed"

	// GitOperationFailedReason: fetching, reading or pushing Git failed.
	GitOperationFailedReason = "GitOperationFailed"

	// EvaluationFailedReason: the changed files of the proposal could not be read or
	// parsed; the gate fails closed and holds.
	EvaluationFailedReason = "EvaluationFailed"

	// --- pull-request mode ---

	// AwaitingMergeReason: the proposal passed, its commit status is success and its
	// pull request waits for a person to merge it.
	AwaitingMergeReason = "AwaitingMerge"

	// ProviderMisconfiguredReason: pullRequest mode cannot work as configured (no
	// provider, an unknown forge, a Secret without credentials).
	ProviderMisconfiguredReason = "ProviderMisconfigured"

	// StatusNotPostedReason: the commit status could not be posted; the gate retries,
	// and an unposted status never counts as success.
	StatusNotPostedReason = "StatusNotPosted"

	// PullRequestFailedReason: the pull request could not be opened, updated or read.
	PullRequestFailedReason = "PullRequestFailed"

	// MergedPastGateReason: the target contains a merged proposal commit the gate did
	// not pass; the branch protection does not require the gate's status.
	MergedPastGateReason = "MergedPastGate"
	// --- records, rollbacks and branch promotion ---

	// RolledBackReason: the proposal brings back a digest that was rolled back on the
	// target branch; it is held until released (annotation or policy exemption).
	RolledBackReason = "RolledBack"

	// RecordPendingReason: the target branch moved but the promotion record tag is
	// not written yet; the gate retries.
	RecordPendingReason = "RecordPending"

	// TargetAheadReason: a branch promotion cannot fast-forward, because the target
	// branch has commits the source branch lacks.
	TargetAheadReason = "TargetAhead"

	// SourceNotFoundReason: the GitRepository of a branch promotion does not exist.
	SourceNotFoundReason = "SourceNotFound"
)

// ReleaseRollbackAnnotation on a PromotionGate names digests (comma-separated) that
// were rolled back and may be promoted again.
const ReleaseRollbackAnnotation = "promotion-gate.io/release-rollback"
