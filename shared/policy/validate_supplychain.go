package policy

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// severities are the vulnerability severities thresholds may name.
	severities = map[string]bool{"critical": true, "high": true, "medium": true, "low": true, "none": true, "unknown": true}
)

type failFunc func(path, format string, args ...any) error

// validateSupplyChain checks a rule's signature, attestation, plugin, commit-signature
// and change-scope clauses.
func validateSupplyChain(fail failFunc, p string, r Rule) error {
	authorities := map[string]bool{}
	if s := r.Signatures; s != nil {
		if len(s.Authorities) == 0 {
			return fail(p+".signatures.authorities", "signatures need at least one authority (a key or a keyless identity)")
		}
		for i, a := range s.Authorities {
			ap := fmt.Sprintf("%s.signatures.authorities[%d]", p, i)
			if err := validateAuthority(fail, ap, a, s.TransparencyLog != TlogIgnore); err != nil {
				return err
			}
			if authorities[a.Name] {
				return fail(ap+".name", "authority %q is listed twice; give each authority its own name", a.Name)
			}
			authorities[a.Name] = true
		}
		if err := validateCount(fail, p+".signatures.count", s.Count, len(s.Authorities)); err != nil {
			return err
		}
		switch s.TransparencyLog {
		case "", TlogRequired, TlogIgnore:
		default:
			return fail(p+".signatures.transparencyLog", "%q is not a transparency-log mode; use required or ignore", s.TransparencyLog)
		}
	}
	names := map[string]bool{}
	for i, a := range r.Attestations {
		ap := fmt.Sprintf("%s.attestations[%d]", p, i)
		if err := validateAttestation(fail, ap, a, r.Signatures != nil, authorities); err != nil {
			return err
		}
		if names[a.Name] {
			return fail(ap+".name", "attestation %q is listed twice in rule %q", a.Name, r.Name)
		}
		names[a.Name] = true
	}
	plugins := map[string]bool{}
	for i, pl := range r.Plugins {
		pp := fmt.Sprintf("%s.plugins[%d]", p, i)
		if err := validatePlugin(fail, pp, pl); err != nil {
			return err
		}
		if plugins[pl.Name] {
			return fail(pp+".name", "plugin %q is listed twice in rule %q", pl.Name, r.Name)
		}
		plugins[pl.Name] = true
	}
	if c := r.CommitSignatures; c != nil {
		if len(c.Keys) == 0 {
			return fail(p+".commitSignatures.keys", "commitSignatures need at least one key (openpgp or ssh)")
		}
		for i, k := range c.Keys {
			kp := fmt.Sprintf("%s.commitSignatures.keys[%d]", p, i)
			if strings.TrimSpace(k.Name) == "" {
				return fail(kp+".name", "a commit key needs a name, so that findings can say who signed")
			}
			if (k.OpenPGP == nil) == (k.SSH == nil) {
				return fail(kp, "set exactly one of openpgp and ssh")
			}
			m, field := k.OpenPGP, "openpgp"
			if m == nil {
				m, field = k.SSH, "ssh"
			}
			if err := validateMaterial(fail, kp+"."+field, *m); err != nil {
				return err
			}
		}
	}
	switch r.ChangeScope {
	case "", ImagesOnly:
	default:
		return fail(p+".changeScope", "%q is not a change scope; use imagesOnly", r.ChangeScope)
	}
	return nil
}

func validateAuthority(fail failFunc, p string, a Authority, tlog bool) error {
	if !ruleName.MatchString(a.Name) {
		return fail(p+".name", "%q is not a valid authority name; use letters, digits and '-', '_', '.' or '/' inside", a.Name)
	}
	if (a.Key == nil) == (a.Keyless == nil) {
		return fail(p, "authority %q: set exactly one of key and keyless", a.Name)
	}
	if a.TrustedRoot != nil {
		if err := validateMaterial(fail, p+".trustedRoot", *a.TrustedRoot); err != nil {
			return err
		}
	}
	if a.Key != nil {
		if tlog && a.TrustedRoot == nil {
			return fail(p, "authority %q: its signatures must be in the transparency log, so give trustedRoot "+
				"(a Sigstore trusted_root.json with the log's key), or set signatures.transparencyLog: ignore for a key that signs offline", a.Name)
		}
		return validateMaterial(fail, p+".key", *a.Key)
	}
	if a.TrustedRoot == nil {
		return fail(p, "authority %q: keyless signatures need trustedRoot (a Sigstore trusted_root.json with the CA and the log's key)", a.Name)
	}
	k := a.Keyless
	if (k.Issuer == "") == (k.IssuerRegExp == "") {
		return fail(p+".keyless", "authority %q: set exactly one of issuer and issuerRegExp (the OIDC issuer that vouched for the signer)", a.Name)
	}
	if (k.Subject == "") == (k.SubjectRegExp == "") {
		return fail(p+".keyless", "authority %q: set exactly one of subject and subjectRegExp (the signer's identity)", a.Name)
	}
	for _, f := range []struct{ field, re string }{{"issuerRegExp", k.IssuerRegExp}, {"subjectRegExp", k.SubjectRegExp}} {
		if f.re == "" {
			continue
		}
		if _, err := regexp.Compile(f.re); err != nil {
			return fail(p+".keyless."+f.field, "invalid regular expression %q: %s", f.re, regexpProblem(err))
		}
	}
	return nil
}

func validateMaterial(fail failFunc, p string, m Material) error {
	set := 0
	for _, ok := range []bool{m.Data != "", m.File != "", m.SecretRef != nil, m.ConfigMapRef != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return fail(p, "set exactly one of data, file, secretRef and configMapRef")
	}
	for _, f := range []struct {
		field string
		ref   *ObjectKeyRef
	}{{"secretRef", m.SecretRef}, {"configMapRef", m.ConfigMapRef}} {
		if f.ref == nil {
			continue
		}
		if f.ref.Name == "" || f.ref.Key == "" {
			return fail(p+"."+f.field, "a reference needs the object's name and the key inside it")
		}
		if strings.ContainsAny(f.ref.Name+f.ref.Key, `/\`) || f.ref.Name == ".." || f.ref.Key == ".." {
			return fail(p+"."+f.field, "%q/%q is not an object name and key", f.ref.Name, f.ref.Key)
		}
	}
	return nil
}

func validateCount(fail failFunc, p, count string, authorities int) error {
	if count == "" || count == CountAll {
		return nil
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 {
		return fail(p, "%q is not a count; write a number from 1 to %d, or all", count, authorities)
	}
	if n > authorities {
		return fail(p, "count %d is more than the %d authorities listed; no image could pass", n, authorities)
	}
	return nil
}

func validateAttestation(fail failFunc, p string, a Attestation, signatures bool, authorities map[string]bool) error {
	if !ruleName.MatchString(a.Name) {
		return fail(p+".name", "%q is not a valid attestation name; use letters, digits and '-', '_', '.' or '/' inside", a.Name)
	}
	if !signatures {
		return fail(p, "attestation %q needs signers: list the authorities under the rule's signatures.authorities", a.Name)
	}
	for i, name := range a.Authorities {
		if !authorities[name] {
			return fail(fmt.Sprintf("%s.authorities[%d]", p, i), "%q is not an authority of this rule's signatures; known: %s", name, sortedNames(authorities))
		}
	}
	if a.SLSAProvenance != nil && a.VulnerabilityScan != nil {
		return fail(p, "attestation %q: set one profile (slsaProvenance or vulnerabilityScan); write two attestations to check both", a.Name)
	}
	if a.SLSAProvenance == nil && a.VulnerabilityScan == nil && a.PredicateType == "" {
		return fail(p, "attestation %q checks nothing; set slsaProvenance, vulnerabilityScan or predicateType", a.Name)
	}
	if s := a.SLSAProvenance; s != nil {
		for _, f := range []struct{ field, glob string }{
			{"builderID", s.BuilderID}, {"sourceRepository", s.SourceRepository}, {"sourceRef", s.SourceRef}} {
			if f.glob == "" {
				continue
			}
			if err := checkGlobs(fail, p+".slsaProvenance."+f.field, []string{f.glob}); err != nil {
				return err
			}
		}
	}
	if v := a.VulnerabilityScan; v != nil {
		vp := p + ".vulnerabilityScan"
		if v.MaxAge != "" {
			if _, err := ParseMaxAge(v.MaxAge); err != nil {
				return fail(vp+".maxAge", "%q is not an age; write a Go duration (168h) or days (7d)", v.MaxAge)
			}
		}
		for _, sev := range slices.Sorted(maps.Keys(v.Thresholds)) {
			n := v.Thresholds[sev]
			if !severities[sev] {
				return fail(vp+".thresholds."+sev, "%q is not a severity; use critical, high, medium, low, none or unknown", sev)
			}
			if n < 0 {
				return fail(vp+".thresholds."+sev, "a threshold is the most vulnerabilities allowed: 0 or more")
			}
		}
		for i, ig := range v.Ignore {
			ip := fmt.Sprintf("%s.ignore[%d]", vp, i)
			if strings.TrimSpace(ig.ID) == "" {
				return fail(ip+".id", "an ignored vulnerability needs its id, e.g. CVE-2026-1234")
			}
			if strings.TrimSpace(ig.Reason) == "" {
				return fail(ip+".reason", "an ignored vulnerability needs a reason, so that reviewers know why")
			}
			if _, err := parseDate(ig.Expires); err != nil {
				return fail(ip+".expires", "%q is not a date; every ignore expires: write YYYY-MM-DD", ig.Expires)
			}
		}
	}
	return nil
}

func validatePlugin(fail failFunc, p string, pl Plugin) error {
	if !ruleName.MatchString(pl.Name) {
		return fail(p+".name", "%q is not a valid plugin name; use letters, digits and '-', '_', '.' or '/' inside", pl.Name)
	}
	if strings.TrimSpace(pl.Path) == "" {
		return fail(p+".path", "plugin %q needs the path of its executable", pl.Name)
	}
	if !sha256Hex.MatchString(pl.SHA256) {
		return fail(p+".sha256", "plugin %q: sha256 must be the 64 lower-case hex digits of the executable's SHA-256 (sha256sum %s)", pl.Name, pl.Path)
	}
	if pl.Timeout != "" {
		d, err := time.ParseDuration(pl.Timeout)
		if err != nil || d <= 0 {
			return fail(p+".timeout", "%q is not a timeout; write a positive Go duration, e.g. 30s", pl.Timeout)
		}
	}
	return nil
}

// ParseMaxAge reads a scan's maximum age: a Go duration ("168h", "36h30m") or a whole
// number of days ("7d"). Empty means no limit and returns 0. A limit must be positive.
func ParseMaxAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("maxAge %q: write a whole number of days (\"7d\") or a Go duration (\"168h\")", s)
		}
		if n < 1 || n > int64(math.MaxInt64/(24*time.Hour)) {
			return 0, fmt.Errorf("maxAge %q must be between 1d and 106751d; leave it empty to accept scans of any age", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("maxAge %q: write a whole number of days (\"7d\") or a Go duration (\"168h\"): %w", s, err)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("maxAge %q must be positive; leave it empty to accept scans of any age", s)
	}
	return d, nil
}
