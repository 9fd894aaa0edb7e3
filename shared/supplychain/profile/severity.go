package profile

import (
	"encoding/json"
	"fmt"

	"github.com/promotion-gate/promotion-gate/shared/severity"
)

// scoreSeverity maps an in-toto score to a severity name: a CVSS base score by the CVSS
// v3 bands, a name through its synonyms. Anything else (a CVSS vector, say) is unknown.
func scoreSeverity(score any) (string, error) {
	switch s := score.(type) {
	case nil:
		return "unknown", nil
	case json.Number:
		l, _ := severity.FromScore(s.String())
		return l.String(), nil
	case string:
		l, _ := severity.FromScore(s)
		return l.String(), nil
	}
	return "", fmt.Errorf("neither a number nor a string: %w", errType)
}

// severities are the names thresholds use, most severe first. "none" (a CVSS score of
// 0.0) is limited only if a threshold names it.
var severities = severity.Names

// normSeverity maps a scanner's severity name to the name thresholds use; an unknown
// name is "unknown".
func normSeverity(s string) string {
	l, _ := severity.Parse(s)
	return l.String()
}

// rank orders severity names: a higher rank is more severe.
func rank(name string) int {
	l, _ := severity.Parse(name)
	return int(l)
}
