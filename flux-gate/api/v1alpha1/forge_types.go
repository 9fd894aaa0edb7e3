package v1alpha1

import "github.com/fluxcd/pkg/apis/meta"

// PromoteMode is how an allowed proposal reaches the target branch.
type PromoteMode string

const (
	// PromotePush: the gate fast-forwards the target branch to the proposal commit.
	PromotePush PromoteMode = "push"
	// PromotePullRequest: the gate posts a commit status and keeps a pull request
	// open; a person merges it.
	PromotePullRequest PromoteMode = "pullRequest"
)

// ForgeProvider is the forge API a gate in pullRequest mode talks to.
type ForgeProvider struct {
	// Type is github, gitlab, gitea or forgejo. Empty: told by the GitRepository URL,
	// which works for github.com, gitlab.com, codeberg.org and gitea.com only.
	// +kubebuilder:validation:Enum=github;gitlab;gitea;forgejo
	// +optional
	Type string `json:"type,omitempty"`

	// Address is the API's base address when the GitRepository URL does not imply it:
	// GitHub Enterprise Server elsewhere than https://HOST/api/v3, a forge under a
	// path prefix. Empty: from the URL (https://api.github.com for github.com).
	// +kubebuilder:validation:Pattern="^https?://"
	// +optional
	Address string `json:"address,omitempty"`

	// SecretRef names a Secret in the gate's namespace with the forge credentials:
	// `token` (a personal, project or fine-grained access token), or, for GitHub,
	// `githubAppID`, `githubAppInstallationID` and `githubAppPrivateKey`; and
	// optionally `ca.crt`, the PEM bundle of a self-hosted forge's CA.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`

	// StatusContext names the commit status, which the target's branch protection
	// requires. Defaults to promotion-gate/<spec.environment>, or
	// promotion-gate/<target branch> without an environment.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	StatusContext string `json:"statusContext,omitempty"`

	// TargetURL is where the commit status links to (a dashboard of the gate).
	// +kubebuilder:validation:Pattern="^https?://"
	// +optional
	TargetURL string `json:"targetURL,omitempty"`
}

// PullRequestStatus is the proposal's pull request and the status posted on it.
type PullRequestStatus struct {
	// Number is the pull request number (GitLab: the merge request IID).
	// +optional
	Number int64 `json:"number,omitempty"`
	// URL is its web page.
	// +optional
	URL string `json:"url,omitempty"`
	// Commit is the proposal commit the status was last posted on.
	Commit string `json:"commit"`
	// Context is the status' name.
	Context string `json:"context"`
	// State is pending, success, failure or error.
	State string `json:"state"`
	// Description is the status' description as posted.
	// +optional
	Description string `json:"description,omitempty"`
}
