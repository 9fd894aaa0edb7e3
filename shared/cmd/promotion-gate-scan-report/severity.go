package main

import (
	"fmt"
	"strconv"
	"strings"
)

// severity orders findings; unknown is the lowest, so that "unknown" as a threshold
// counts everything.
type severity int

const (
	unknown severity = iota
	low
	medium
	high
	critical
)

var severityNames = [...]string{"unknown", "low", "medium", "high", "critical"}

func (s severity) String() string { return severityNames[s] }

// parseSeverity reads a severity name, in any case ("HIGH" in Trivy reports).
func parseSeverity(s string) (severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return severity(i), nil
		}
	}
	return unknown, fmt.Errorf("severity %q: use critical, high, medium, low or unknown", s)
}

// scoreSeverity maps a CVSS score (SARIF's security-severity property) to a severity,
// with the CVSS v3 bands: 9.0 critical, 7.0 high, 4.0 medium, above 0 low.
func scoreSeverity(score string) (severity, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(score), 64)
	if err != nil || f < 0 || f > 10 {
		return unknown, false
	}
	switch {
	case f >= 9:
		return critical, true
	case f >= 7:
		return high, true
	case f >= 4:
		return medium, true
	case f > 0:
		return low, true
	}
	return unknown, true
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
