// Package severity is the one scale of vulnerability severities that the gate's scan
// checks use: the attestation profiles that read scan predicates and the scan-report
// plugin that reads reports attached to images. Scanners name severities in different
// words and scores; both read them through here, so the same report counts the same.
package severity

import (
	"strconv"
	"strings"
)

// Level is a severity. Levels order from Unknown (lowest) to Critical, so that a
// threshold of "unknown" counts everything and a scanner's unrecognised name never
// hides a finding below a known one.
type Level int

// The levels, lowest first. None is a CVSS score of 0.0.
const (
	Unknown Level = iota
	None
	Low
	Medium
	High
	Critical
)

var names = [...]string{"unknown", "none", "low", "medium", "high", "critical"}

// Names are the level names policies and parameters use, most severe first.
var Names = []string{"critical", "high", "medium", "low", "none", "unknown"}

// String returns the level's name.
func (l Level) String() string {
	if l < Unknown || l > Critical {
		return "unknown"
	}
	return names[l]
}

// synonyms are the other words scanners use: GitHub's "moderate", Red Hat's
// "important", Grype's "negligible".
var synonyms = map[string]Level{"important": High, "moderate": Medium, "negligible": Low, "minor": Low}

// Parse reads a severity name in any case, synonyms included; ok is false (and the
// level Unknown) for a name it does not know.
func Parse(name string) (l Level, ok bool) {
	s := strings.ToLower(strings.TrimSpace(name))
	for i, n := range names {
		if s == n {
			return Level(i), true
		}
	}
	l, ok = synonyms[s]
	return l, ok
}

// FromCVSS maps a CVSS base score to a level by the CVSS v3 bands: 9.0 critical, 7.0
// high, 4.0 medium, above 0 low, 0 none. ok is false for a score outside 0–10.
func FromCVSS(score float64) (l Level, ok bool) {
	switch {
	case score >= 9.0 && score <= 10.0:
		return Critical, true
	case score >= 7.0 && score < 9.0:
		return High, true
	case score >= 4.0 && score < 7.0:
		return Medium, true
	case score > 0 && score < 4.0:
		return Low, true
	case score == 0:
		return None, true
	}
	return Unknown, false
}

// FromScore reads a score written as text: a CVSS base score, or a severity name.
// Anything else (a CVSS vector, say) is Unknown, with ok false.
func FromScore(s string) (Level, bool) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return FromCVSS(f)
	}
	return Parse(s)
}
