package policy

// Signatures requires images to be signed. Signatures are found as Sigstore bundles
// attached to the image through the OCI referrers API, with the legacy
// "sha256-<digest>.sig" tag as a fallback.
type Signatures struct {
	// Authorities are the signers the rule trusts. Attestations of the same rule name
	// them in their own Authorities.
	Authorities []Authority `json:"authorities" yaml:"authorities"`
	// Count is how many of the authorities must have signed the image: a number, or
	// "all". Empty means 1.
	Count string `json:"count,omitempty" yaml:"count,omitempty"`
	// TransparencyLog is "required" (the default) or "ignore". Ignoring it accepts
	// signatures that were never logged: only for keys kept offline.
	TransparencyLog TransparencyLog `json:"transparencyLog,omitempty" yaml:"transparencyLog,omitempty"`
}

// TransparencyLog says whether a signature must be in a transparency log.
type TransparencyLog string

const (
	// TlogRequired requires a verified transparency-log entry for every signature.
	TlogRequired TransparencyLog = "required"
	// TlogIgnore verifies signatures without a transparency-log entry.
	TlogIgnore TransparencyLog = "ignore"
)

// CountAll is the Signatures.Count that requires every listed authority.
const CountAll = "all"

// Authority is one signer: a public key, or a keyless identity certified by a
// Fulcio-style CA. Exactly one of Key and Keyless is set.
type Authority struct {
	// Name identifies the authority in findings and in Attestation.Authorities.
	Name    string    `json:"name" yaml:"name"`
	Key     *Material `json:"key,omitempty" yaml:"key,omitempty"`
	Keyless *Keyless  `json:"keyless,omitempty" yaml:"keyless,omitempty"`
	// TrustedRoot is a Sigstore trusted_root.json: the transparency logs (and, for
	// keyless, the certificate authorities and timestamp authorities) that vouch for this
	// authority's signatures. It is given explicitly so verification works offline.
	// Required for keyless, and for a key unless transparencyLog is "ignore".
	TrustedRoot *Material `json:"trustedRoot,omitempty" yaml:"trustedRoot,omitempty"`
}

// Keyless trusts certificates issued for an OIDC identity. Issuer and Subject match
// exactly; the RegExp forms match a Go regular expression (anchor it yourself).
type Keyless struct {
	Issuer        string `json:"issuer,omitempty" yaml:"issuer,omitempty"`
	IssuerRegExp  string `json:"issuerRegExp,omitempty" yaml:"issuerRegExp,omitempty"`
	Subject       string `json:"subject,omitempty" yaml:"subject,omitempty"`
	SubjectRegExp string `json:"subjectRegExp,omitempty" yaml:"subjectRegExp,omitempty"`
}

// Material is key or trust material, given in exactly one way: inline Data, a File,
// or a key of a Secret or ConfigMap. flux-gate reads Secrets and ConfigMaps from the
// API server. Where Kubernetes objects are not read directly (the CLI, the Argo CD
// plugin) a reference resolves to the file <trust dir>/<name>/<key>, where a projected
// Secret or ConfigMap volume puts it, and a relative File is relative to the trust dir.
type Material struct {
	Data         string        `json:"data,omitempty" yaml:"data,omitempty"`
	File         string        `json:"file,omitempty" yaml:"file,omitempty"`
	SecretRef    *ObjectKeyRef `json:"secretRef,omitempty" yaml:"secretRef,omitempty"`
	ConfigMapRef *ObjectKeyRef `json:"configMapRef,omitempty" yaml:"configMapRef,omitempty"`
}

// ObjectKeyRef names one key of a Secret or ConfigMap. Namespace defaults to the
// namespace of the component reading it.
type ObjectKeyRef struct {
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string `json:"name" yaml:"name"`
	Key       string `json:"key" yaml:"key"`
}

// Attestation requires a signed in-toto statement about the image: its subject digest
// must be the image's, and its signer one of the rule's signature authorities.
type Attestation struct {
	Name string `json:"name" yaml:"name"`
	// Authorities names authorities of the rule's Signatures that may sign this
	// attestation; empty means any of them.
	Authorities []string `json:"authorities,omitempty" yaml:"authorities,omitempty"`
	// PredicateType is the in-toto predicate type to look for. The profiles set it
	// (slsaProvenance: https://slsa.dev/provenance/v1; vulnerabilityScan accepts
	// https://cosign.sigstore.dev/attestation/vuln/v1 and https://in-toto.io/attestation/vulns/v0.2).
	PredicateType     string             `json:"predicateType,omitempty" yaml:"predicateType,omitempty"`
	SLSAProvenance    *SLSAProvenance    `json:"slsaProvenance,omitempty" yaml:"slsaProvenance,omitempty"`
	VulnerabilityScan *VulnerabilityScan `json:"vulnerabilityScan,omitempty" yaml:"vulnerabilityScan,omitempty"`
}

// SLSAProvenance checks a SLSA v1 provenance predicate. Each field is a glob (doublestar,
// '/'-separated); an empty field checks nothing.
type SLSAProvenance struct {
	// BuilderID matches runDetails.builder.id.
	BuilderID string `json:"builderID,omitempty" yaml:"builderID,omitempty"`
	// SourceRepository matches the repository of the build's source (the resolved
	// dependency or external parameter that names it), e.g. "https://github.com/example/payments-api".
	SourceRepository string `json:"sourceRepository,omitempty" yaml:"sourceRepository,omitempty"`
	// SourceRef matches the Git ref built, e.g. "refs/tags/v*".
	SourceRef string `json:"sourceRef,omitempty" yaml:"sourceRef,omitempty"`
}

// VulnerabilityScan checks a vulnerability scan predicate: cosign's vuln/v1 or in-toto
// vulns v0.2.
type VulnerabilityScan struct {
	// MaxAge is how old the scan may be (its finish time), as a Go duration or a number
	// of days ("7d"). Empty means any age. It also bounds how long a passed check is cached.
	MaxAge string `json:"maxAge,omitempty" yaml:"maxAge,omitempty"`
	// Thresholds is the most vulnerabilities allowed per severity (critical, high,
	// medium, low, unknown); a severity not listed is not limited.
	Thresholds map[string]int `json:"thresholds,omitempty" yaml:"thresholds,omitempty"`
	// Ignore lists vulnerabilities not counted, until they expire.
	Ignore []IgnoredVulnerability `json:"ignore,omitempty" yaml:"ignore,omitempty"`
}

// IgnoredVulnerability is a vulnerability left out of the thresholds.
type IgnoredVulnerability struct {
	ID     string `json:"id" yaml:"id"`
	Reason string `json:"reason" yaml:"reason"`
	// Expires is the last day (YYYY-MM-DD, UTC) the vulnerability is ignored; a scan
	// that still reports it after that counts it again.
	Expires string `json:"expires" yaml:"expires"`
}

// Plugin is an external check run over hashicorp/go-plugin for each image.
type Plugin struct {
	Name string `json:"name" yaml:"name"`
	// Path is the plugin executable.
	Path string `json:"path" yaml:"path"`
	// SHA256 is the hex SHA-256 of the executable, verified before every launch.
	SHA256 string `json:"sha256" yaml:"sha256"`
	// Timeout bounds one check, as a Go duration; empty means 30s.
	Timeout string `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Args are passed to the executable.
	Args []string `json:"args,omitempty" yaml:"args,omitempty"`
	// Parameters are passed to the plugin's Check call.
	Parameters map[string]string `json:"parameters,omitempty" yaml:"parameters,omitempty"`
}

// CommitSignatures requires commits of a promotion to be signed by an allowed key.
type CommitSignatures struct {
	Keys []CommitKey `json:"keys" yaml:"keys"`
	// AllCommits checks every commit of the promotion, not only the promoted one.
	AllCommits bool `json:"allCommits,omitempty" yaml:"allCommits,omitempty"`
}

// CommitKey is one allowed commit signer. Exactly one of OpenPGP (an armored public
// key ring) and SSH (authorized_keys lines) is set.
type CommitKey struct {
	Name    string    `json:"name" yaml:"name"`
	OpenPGP *Material `json:"openpgp,omitempty" yaml:"openpgp,omitempty"`
	SSH     *Material `json:"ssh,omitempty" yaml:"ssh,omitempty"`
}

// ChangeScope limits what a promotion to the rule's environments may change.
type ChangeScope string

// ImagesOnly allows a promotion to change image fields only.
const ImagesOnly ChangeScope = "imagesOnly"
