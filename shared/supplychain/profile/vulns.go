package profile

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const fixScan = "Attach a vulnerability scan attestation (cosign vuln/v1 or in-toto vulns v0.2) that " +
	"says what the scan found and when it finished"

// listed is how many IDs a threshold message names before it summarises the rest.
const listed = 10

// Vulnerabilities checks a vulnerability scan predicate of the given type (CosignVulnV1
// or InTotoVulnsV02) against the rule's vulnerabilityScan: the scan's age against
// MaxAge, and the count of each severity against Thresholds, leaving out ignored IDs
// until their expiry. It returns when the scan finished (zero if the predicate does
// not say), so a caller can stop trusting a pass once the scan grows too old.
//
// An error means the check cannot decide: the predicate type is not a scan, the
// predicate cannot be read, or the policy's maxAge or an expiry does not parse.
func Vulnerabilities(predicateType string, predicate []byte, scan policy.VulnerabilityScan, now time.Time) (time.Time, []evaluate.Violation, error) {
	maxAge, err := policy.ParseMaxAge(scan.MaxAge)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("vulnerabilityScan: %w", err)
	}
	ignores, err := readIgnores(scan.Ignore)
	if err != nil {
		return time.Time{}, nil, err
	}
	if !slices.Contains(VulnerabilityPredicateTypes, predicateType) {
		return time.Time{}, nil, fmt.Errorf("predicate type %s is not a vulnerability scan; use %s or %s",
			quote(predicateType), CosignVulnV1, InTotoVulnsV02)
	}
	r, err := readReport(predicateType, predicate)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("read the %s predicate: %w; attach a scan the gate reads "+
			"(cosign vuln/v1 carrying a Trivy or Grype JSON report, or in-toto vulns v0.2)", predicateType, err)
	}
	var out []evaluate.Violation
	for _, f := range r.missing {
		out = append(out, violation(fixScan, "the scan predicate has no %s, so what the scan found is unknown", f))
	}
	if maxAge > 0 {
		if v, ok := checkAge(r.finished, maxAge, scan.MaxAge, now); !ok {
			out = append(out, v)
		}
	}
	if len(r.missing) == 0 {
		out = append(out, checkThresholds(r.found, scan.Thresholds, ignores, now)...)
	}
	return r.finished, out, nil
}

func checkAge(finished time.Time, maxAge time.Duration, written string, now time.Time) (evaluate.Violation, bool) {
	fix := fmt.Sprintf("Scan the image again and attach the new scan; this rule trusts scans for %s", written)
	if finished.IsZero() {
		return violation(fixScan, "the scan does not say when it finished (metadata.scanFinishedOn), "+
			"so it cannot be shown to be younger than maxAge %s", written), false
	}
	age := now.Sub(finished)
	if age <= maxAge {
		return evaluate.Violation{}, true
	}
	return violation(fix, "scan finished %s (%s ago), older than maxAge %s",
		finished.Format(time.RFC3339), formatAge(age), written), false
}

// ignore is one parsed IgnoredVulnerability.
type ignore struct {
	policy.IgnoredVulnerability
	// until is the first instant the ignore no longer applies; zero never expires.
	until time.Time
}

func readIgnores(list []policy.IgnoredVulnerability) ([]ignore, error) {
	out := make([]ignore, 0, len(list))
	for i, x := range list {
		ig := ignore{IgnoredVulnerability: x}
		if x.Expires != "" {
			day, err := time.Parse(time.DateOnly, x.Expires)
			if err != nil {
				return nil, fmt.Errorf("vulnerabilityScan.ignore[%d] (%s): expires %q is not a date; write YYYY-MM-DD: %w",
					i, x.ID, x.Expires, err)
			}
			ig.until = day.AddDate(0, 0, 1) // the named day is the last one ignored, in UTC
		}
		out = append(out, ig)
	}
	return out, nil
}

// find returns the ignore entry for id; IDs compare case-insensitively, as people
// write "cve-2026-1" for "CVE-2026-1".
func find(ignores []ignore, id string) (ignore, bool) {
	for _, ig := range ignores {
		if ig.ID != "" && strings.EqualFold(ig.ID, id) {
			return ig, true
		}
	}
	return ignore{}, false
}

// checkThresholds counts the vulnerabilities of each severity a threshold limits. An
// ignore that has expired counts its vulnerability again; when that puts a severity
// over its limit, a violation of its own says so, so the reader knows why a scan
// that passed yesterday fails today. An expired ignore of a severity within its limit
// changes nothing and says nothing.
func checkThresholds(found map[string]string, thresholds map[string]int, ignores []ignore, now time.Time) []evaluate.Violation {
	limits := make(map[string]int, len(thresholds))
	for sev, n := range thresholds {
		limits[strings.ToLower(sev)] = n
	}
	counted := map[string][]string{}
	expired := map[string][]ignore{}
	for id, sev := range found {
		if ig, ok := find(ignores, id); ok {
			if ig.until.IsZero() || now.Before(ig.until) {
				continue
			}
			expired[sev] = append(expired[sev], ig)
		}
		counted[sev] = append(counted[sev], id)
	}
	var out []evaluate.Violation
	for _, sev := range severities {
		limit, ok := limits[sev]
		ids := counted[sev]
		if !ok || len(ids) <= limit {
			continue
		}
		slices.Sort(ids)
		out = append(out, violation(fmt.Sprintf("Rebuild the image with fixed packages and scan it again, or, "+
			"if the risk is accepted, ignore each vulnerability with a reason and an expiry (or raise thresholds.%s)", sev),
			"%s (max %d): %s", countOf(len(ids), sev), limit, idList(ids)))
		gone := expired[sev]
		slices.SortFunc(gone, func(a, b ignore) int { return strings.Compare(a.ID, b.ID) })
		for _, ig := range gone {
			out = append(out, violation(fmt.Sprintf("Fix %s and scan again, or renew its ignore with a later expires and a reason", ig.ID),
				"%s was ignored until %s; it counts again", showID(ig.ID), ig.Expires))
		}
	}
	return out
}

func idList(ids []string) string {
	shown := make([]string, 0, min(len(ids), listed))
	for _, id := range ids[:min(len(ids), listed)] {
		shown = append(shown, showID(id))
	}
	if len(ids) <= listed {
		return strings.Join(shown, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(shown, ", "), len(ids)-listed)
}

// showID writes an ID from the scan as it is when it looks like one (CVE-2026-1,
// GHSA-xxxx-xxxx-xxxx), and quoted otherwise, since the scan's author chose it.
func showID(id string) string {
	if len(id) > 64 {
		return quote(id)
	}
	for _, c := range id {
		if c <= ' ' || c == ',' || c == '"' || c > '~' {
			return quote(id)
		}
	}
	return id
}

// countOf says "2 critical vulnerabilities", or "1 vulnerability of unknown severity"
// for the two severities that are not adjectives.
func countOf(n int, severity string) string {
	noun := "vulnerabilities"
	if n == 1 {
		noun = "vulnerability"
	}
	switch severity {
	case "unknown":
		return fmt.Sprintf("%d %s of unknown severity", n, noun)
	case "none":
		return fmt.Sprintf("%d %s of severity none", n, noun)
	}
	return fmt.Sprintf("%d %s %s", n, severity, noun)
}

// formatAge writes an age the way maxAge is written: days and hours past a day,
// a Go duration to the minute below.
func formatAge(d time.Duration) string {
	d = d.Round(time.Minute)
	if days := d / (24 * time.Hour); days > 0 {
		hours := (d % (24 * time.Hour)) / time.Hour
		if hours == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, hours)
	}
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.String(), "0s")
}
