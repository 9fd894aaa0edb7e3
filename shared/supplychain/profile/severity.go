package profile

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// scoreSeverity maps a score to a severity: a CVSS base score by the CVSS v3 bands,
// a name through normSeverity. Anything else (a CVSS vector, say) is unknown.
func scoreSeverity(score any) (string, error) {
	var text string
	switch s := score.(type) {
	case nil:
		return "unknown", nil
	case json.Number:
		text = s.String()
	case string:
		text = strings.TrimSpace(s)
	default:
		return "", fmt.Errorf("neither a number nor a string: %w", errType)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return normSeverity(text), nil
	}
	switch {
	case f >= 9.0 && f <= 10.0:
		return "critical", nil
	case f >= 7.0 && f < 9.0:
		return "high", nil
	case f >= 4.0 && f < 7.0:
		return "medium", nil
	case f > 0 && f < 4.0:
		return "low", nil
	case f == 0:
		return "none", nil
	}
	return "unknown", nil // out of range, NaN
}

// severities are the names thresholds use, most severe first. "none" (a CVSS score of
// 0.0) is limited only if a threshold names it.
var severities = []string{"critical", "high", "medium", "low", "none", "unknown"}

// normSeverity lower-cases a scanner's severity name and maps the synonyms scanners
// use (GitHub's "moderate", Grype's "negligible", Red Hat's "important") to the names
// thresholds use; anything else is "unknown".
func normSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "critical", "high", "medium", "low", "none", "unknown":
		return s
	case "important":
		return "high"
	case "moderate":
		return "medium"
	case "negligible", "minor":
		return "low"
	}
	return "unknown"
}

func rank(severity string) int {
	switch severity {
	case "critical":
		return 5
	case "high":
		return 4
	case "medium":
		return 3
	case "low":
		return 2
	case "none":
		return 1
	}
	return 0
}
