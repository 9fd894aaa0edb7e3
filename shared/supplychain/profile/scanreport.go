package profile

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// report is what the vulnerability profile reads from a scan predicate.
type report struct {
	// finished is metadata.scanFinishedOn; zero when the predicate does not say.
	finished time.Time
	// found maps each vulnerability ID to its severity. A scanner lists one CVE once
	// per affected package; the gate counts it once, at its highest severity.
	found map[string]string
	// missing are required fields the predicate leaves out (field paths).
	missing []string
}

// errType is wrapped by every "a field has the wrong JSON type" error.
var errType = errors.New("wrong JSON type")

func readReport(predicateType string, data []byte) (report, error) {
	tree, err := decodeTree(data)
	if err != nil {
		return report{}, fmt.Errorf("not JSON: %w", err)
	}
	if _, ok := tree.(map[string]any); !ok {
		return report{}, fmt.Errorf("not a JSON object: %w", errType)
	}
	r := report{found: map[string]string{}}
	if r.finished, err = timestamp(tree, "metadata", "scanFinishedOn"); err != nil {
		return report{}, err
	}
	result := field(tree, "scanner", "result")
	if result == nil {
		r.missing = append(r.missing, "scanner.result")
		return r, nil
	}
	switch predicateType {
	case CosignVulnV1:
		err = r.readScannerOutput(result)
		if err != nil {
			if scanner, ok := str(tree, "scanner", "uri"); ok {
				err = fmt.Errorf("scanner.result from %s: %w", quote(scanner), err)
			} else {
				err = fmt.Errorf("scanner.result: %w", err)
			}
		}
	case InTotoVulnsV02:
		err = r.readInTotoResults(result, "scanner.result")
	default:
		err = fmt.Errorf("predicate type %s is not a vulnerability scan", quote(predicateType))
	}
	return r, err
}

// readScannerOutput reads the raw scanner report cosign's predicate carries: Trivy's
// JSON (Results[].Vulnerabilities[]) or Grype's (matches[].vulnerability), or a list
// already in the in-toto vulns shape.
func (r *report) readScannerOutput(result any) error {
	if list, ok := result.([]any); ok {
		return r.readInTotoResults(list, "scanner.result")
	}
	m, ok := result.(map[string]any)
	if !ok {
		return fmt.Errorf("not a JSON object: %w", errType)
	}
	switch {
	case has(m, "matches"):
		matches, err := listAt(m, "matches", "matches")
		if err != nil {
			return err
		}
		for i, match := range matches {
			path := fmt.Sprintf("matches[%d].vulnerability", i)
			v, ok := field(match, "vulnerability").(map[string]any)
			if !ok {
				return fmt.Errorf("%s is not a JSON object: %w", path, errType)
			}
			if err := r.add(v, "id", "severity", path); err != nil {
				return err
			}
		}
		return nil
	case has(m, "Results") || has(m, "SchemaVersion") || has(m, "ArtifactName"):
		results, err := listAt(m, "Results", "Results")
		if err != nil {
			return err
		}
		for i, res := range results {
			path := fmt.Sprintf("Results[%d].Vulnerabilities", i)
			vulns, err := listAt(res, "Vulnerabilities", path)
			if err != nil {
				return err
			}
			for j, v := range vulns {
				if err := r.add(v, "VulnerabilityID", "Severity", fmt.Sprintf("%s[%d]", path, j)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return errors.New("neither a Trivy report (Results) nor a Grype report (matches)")
}

// add counts one vulnerability object with a text severity.
func (r *report) add(v any, idKey, severityKey, path string) error {
	id, err := stringAt(v, idKey, path)
	if err != nil {
		return err
	}
	sev, err := stringAt(v, severityKey, path)
	if err != nil {
		return err
	}
	r.count(id, normSeverity(sev), path)
	return nil
}

// readInTotoResults reads in-toto vulns v0.2 results: [{id, severity: [{method, score}]}].
// A score is a number (a CVSS base score) or a severity name; the vulnerability takes
// the highest severity its scores give. Some writers give one {method, score} object
// instead of a list; it is read the same.
func (r *report) readInTotoResults(result any, path string) error {
	list, ok := result.([]any)
	if !ok {
		return fmt.Errorf("%s is not a list: %w", path, errType)
	}
	for i, entry := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		id, err := stringAt(entry, "id", at)
		if err != nil {
			return err
		}
		scores := field(entry, "severity")
		if one, ok := scores.(map[string]any); ok {
			scores = []any{one}
		}
		severities, ok := scores.([]any)
		if scores != nil && !ok {
			return fmt.Errorf("%s.severity is not a list: %w", at, errType)
		}
		sev := "unknown"
		for j, s := range severities {
			got, err := scoreSeverity(field(s, "score"))
			if err != nil {
				return fmt.Errorf("%s.severity[%d].score: %w", at, j, err)
			}
			if rank(got) > rank(sev) {
				sev = got
			}
		}
		r.count(id, sev, at)
	}
	return nil
}

func (r *report) count(id, severity, path string) {
	if id == "" {
		id = "no-id:" + path
	}
	if old, ok := r.found[id]; !ok || rank(severity) > rank(old) {
		r.found[id] = severity
	}
}

// timestamp reads an RFC 3339 time; absent, empty or Go's zero time (which cosign
// writes for an unset time) is zero.
func timestamp(tree any, path ...string) (time.Time, error) {
	name := strings.Join(path, ".")
	v := field(tree, path...)
	if v == nil {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%s is not a string: %w", name, errType)
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %s is not an RFC 3339 time: %w", name, quote(s), err)
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}
