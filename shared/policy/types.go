// Package policy holds the PromotionPolicy v1alpha1 document types, loads policy
// documents from files, directories and Kubernetes ConfigMaps through one strict parser,
// merges them into a Set, validates them and classifies paths, branches, applications
// and namespaces into environments.
package policy

// APIVersion and Kind identify a policy document.
const (
	APIVersion = "promotion-gate.io/v1alpha1"
	Kind       = "PromotionPolicy"

	// ConfigMapLabel marks the ConfigMaps whose *.yaml keys are policy documents.
	ConfigMapLabel = "promotion-gate.io/policy"
)

// Document is one PromotionPolicy document as a platform team writes it.
type Document struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

// Metadata names a policy document.
type Metadata struct {
	Name        string            `json:"name" yaml:"name"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Spec is the body of a policy document. Several documents merge into one Set.
type Spec struct {
	Environments []Environment `json:"environments,omitempty" yaml:"environments,omitempty"`
	Rules        []Rule        `json:"rules,omitempty" yaml:"rules,omitempty"`
	ImageFields  []ImageField  `json:"imageFields,omitempty" yaml:"imageFields,omitempty"`
	Exemptions   []Exemption   `json:"exemptions,omitempty" yaml:"exemptions,omitempty"`
}

// Environment classifies paths, branches, applications and namespaces.
type Environment struct {
	Name string `json:"name" yaml:"name"`
	// Protected environments fail closed: any violation or error denies.
	Protected bool  `json:"protected,omitempty" yaml:"protected,omitempty"`
	Match     Match `json:"match" yaml:"match"`
}

// Match lists the globs that put an input into an environment. Any one match is enough.
type Match struct {
	// Paths are doublestar globs relative to the repository root.
	Paths []string `json:"paths,omitempty" yaml:"paths,omitempty"`
	// Branches are globs over Git branch names.
	Branches []string `json:"branches,omitempty" yaml:"branches,omitempty"`
	// Applications are globs over Argo CD application names.
	Applications []string `json:"applications,omitempty" yaml:"applications,omitempty"`
	// Namespaces are globs over destination namespaces.
	Namespaces []string `json:"namespaces,omitempty" yaml:"namespaces,omitempty"`
	// Projects are globs over Argo CD project names (the AppProject of the application,
	// ARGOCD_APP_PROJECT_NAME, which Argo CD 3 sends to plugins).
	Projects []string `json:"projects,omitempty" yaml:"projects,omitempty"`
}

// Enforcement says what a rule's violation does.
type Enforcement string

const (
	// Deny makes a violation deny the promotion.
	Deny Enforcement = "deny"
	// Warn reports a violation and lets the promotion through.
	Warn Enforcement = "warn"
)

// Rule is one check over every image of an environment. A rule checks only what it
// says: each field left empty checks nothing.
type Rule struct {
	Name string `json:"name" yaml:"name"`
	// Environments the rule applies to; empty means every environment.
	Environments []string `json:"environments,omitempty" yaml:"environments,omitempty"`
	// Enforcement defaults to deny.
	Enforcement       Enforcement `json:"enforcement,omitempty" yaml:"enforcement,omitempty"`
	RequireDigest     bool        `json:"requireDigest,omitempty" yaml:"requireDigest,omitempty"`
	DenyTags          []string    `json:"denyTags,omitempty" yaml:"denyTags,omitempty"`
	AllowedRegistries []string    `json:"allowedRegistries,omitempty" yaml:"allowedRegistries,omitempty"`
	TagPattern        string      `json:"tagPattern,omitempty" yaml:"tagPattern,omitempty"`

	// Signatures requires each image to be signed by the listed authorities.
	Signatures *Signatures `json:"signatures,omitempty" yaml:"signatures,omitempty"`
	// Attestations requires each image to carry signed in-toto statements about it.
	Attestations []Attestation `json:"attestations,omitempty" yaml:"attestations,omitempty"`
	// Plugins are external checks run for each image.
	Plugins []Plugin `json:"plugins,omitempty" yaml:"plugins,omitempty"`
	// CommitSignatures requires the promoted commit to be signed (flux-gate).
	CommitSignatures *CommitSignatures `json:"commitSignatures,omitempty" yaml:"commitSignatures,omitempty"`
	// ChangeScope limits what a promotion may change (flux-gate, and the CLI's --base).
	ChangeScope ChangeScope `json:"changeScope,omitempty" yaml:"changeScope,omitempty"`
}

// ImageField names an extra place where images live in a custom resource.
type ImageField struct {
	// APIVersion optionally narrows Kind to one group/version.
	APIVersion string `json:"apiVersion,omitempty" yaml:"apiVersion,omitempty"`
	Kind       string `json:"kind" yaml:"kind"`
	// Path is a dot-separated field path; "[]" after a segment walks every list item,
	// e.g. "spec.template.spec.containers[].image". The value is an image string or a
	// mapping with repository (or registry + repository), tag and digest.
	Path string `json:"path" yaml:"path"`
}

// Exemption lets listed images through one rule until it expires.
type Exemption struct {
	Rule string `json:"rule" yaml:"rule"`
	// Images are globs over the normalised image reference (see imageref.Ref.String).
	Images  []string `json:"images" yaml:"images"`
	Reason  string   `json:"reason" yaml:"reason"`
	Owner   string   `json:"owner" yaml:"owner"`
	Expires string   `json:"expires,omitempty" yaml:"expires,omitempty"` // YYYY-MM-DD, end of that day UTC
}
