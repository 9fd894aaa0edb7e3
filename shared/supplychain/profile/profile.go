// Package profile checks the predicates of verified in-toto attestations against a
// rule's attestation profiles: SLSA provenance (builder, source repository and ref) and
// vulnerability scans (per-severity thresholds, age, ignored vulnerabilities).
//
// The caller has already verified the statement's signature and subject; this package
// only reads the predicate. A predicate that says the wrong thing, or leaves out what a
// profile needs, is a violation (the image is not compliant). A predicate that cannot be
// read at all is an error where the signature allows one (the check cannot decide).
//
// Predicates are decoded with encoding/json into the few fields the profiles read,
// rather than with the protobuf types of github.com/in-toto/attestation: protojson
// rejects a whole document over a type quirk in a field the gate never looks at (a
// builder.version written as a string, a numeric CVSS score), and a signed, otherwise
// valid attestation should not be refused for that. The tests feed documents written
// by those protobuf types to make sure both read the same fields.
package profile

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// Predicate types the profiles read.
const (
	// SLSAProvenanceV1 is SLSA provenance v1 (buildDefinition, runDetails).
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// SLSAProvenanceV02 is SLSA provenance v0.2 (builder, invocation, materials).
	SLSAProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	// CosignVulnV1 is cosign's vulnerability scan record: scanner.result holds the
	// scanner's own JSON report (Trivy and Grype are read).
	CosignVulnV1 = "https://cosign.sigstore.dev/attestation/vuln/v1"
	// InTotoVulnsV02 is the in-toto vulnerabilities predicate v0.2.
	InTotoVulnsV02 = "https://in-toto.io/attestation/vulns/v0.2"
)

// SLSAPredicateTypes are the predicate types SLSA accepts, newest first.
var SLSAPredicateTypes = []string{SLSAProvenanceV1, SLSAProvenanceV02}

// VulnerabilityPredicateTypes are the predicate types Vulnerabilities accepts.
var VulnerabilityPredicateTypes = []string{CosignVulnV1, InTotoVulnsV02}

// violation builds a Violation; the format arguments go into the message only.
func violation(fix, format string, args ...any) evaluate.Violation {
	return evaluate.Violation{Message: fmt.Sprintf(format, args...), Fix: fix}
}

// mismatch says that a predicate value does not satisfy a policy glob; a glob without
// wildcards reads better as "is not".
func mismatch(value, glob string) string {
	if strings.ContainsAny(glob, "*?[{\\") {
		return fmt.Sprintf("%s does not match %q", quote(value), glob)
	}
	return fmt.Sprintf("%s is not %q", quote(value), glob)
}

// matchGlob matches a predicate value against a policy glob (doublestar, '/'-separated).
func matchGlob(glob, value string) bool {
	return policy.MatchImage(glob, value)
}

// quote quotes a value taken from a predicate for a message: escaped onto one line and
// cut to a readable length, since the predicate's author chose it.
func quote(s string) string {
	const limit = 200
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
