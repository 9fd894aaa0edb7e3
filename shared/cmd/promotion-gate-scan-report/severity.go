package main

import (
	"fmt"
	"strconv"
	"strings"

	sev "github.com/promotion-gate/promotion-gate/shared/severity"
)

// severity is the gate's one severity scale (package severity), shared with the
// attestation profiles so that a report counts the same in both. Unknown is the lowest
// level, so that "unknown" as a threshold counts everything.
type severity = sev.Level

const (
	unknown  = sev.Unknown
	low      = sev.Low
	medium   = sev.Medium
	high     = sev.High
	critical = sev.Critical
)

// parseSeverity reads a severity name, in any case ("HIGH" in Trivy reports).
func parseSeverity(s string) (severity, error) {
	l, ok := sev.Parse(s)
	if !ok {
		return unknown, fmt.Errorf("severity %q: use %s", s, strings.Join(sev.Names, ", "))
	}
	return l, nil
}

// scoreSeverity maps a CVSS score (SARIF's security-severity property) to a severity.
func scoreSeverity(score string) (severity, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(score), 64)
	if err != nil {
		return unknown, false
	}
	return sev.FromCVSS(f)
}

// levelSeverity maps a SARIF result level when no score is given.
func levelSeverity(level string) severity {
	switch level {
	case "error":
		return high
	case "warning":
		return medium
	case "note":
		return low
	}
	return unknown
}
