package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// vuln is one finding of a scan report.
type vuln struct {
	ID       string
	Severity severity
	// Package is what is affected, e.g. "openssl 3.0.1"; may be empty.
	Package string
}

// report is a parsed scan report.
type report struct {
	// Format is "trivy" or "sarif".
	Format string
	// Scanner names the tool that wrote the report, when it says.
	Scanner string
	Vulns   []vuln
}

// parseReport reads a Trivy JSON report or a SARIF 2.1.0 log, told apart by content.
func parseReport(b []byte) (report, error) {
	var probe struct {
		Version       string          `json:"version"`
		Runs          json.RawMessage `json:"runs"`
		SchemaVersion json.RawMessage `json:"SchemaVersion"`
		Results       json.RawMessage `json:"Results"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return report{}, fmt.Errorf("scan report is not JSON: %w", err)
	}
	switch {
	case probe.Runs != nil:
		if probe.Version != "2.1.0" {
			return report{}, fmt.Errorf("SARIF version %q: only 2.1.0 is read", probe.Version)
		}
		return parseSARIF(b)
	case probe.SchemaVersion != nil || probe.Results != nil:
		return parseTrivy(b)
	}
	return report{}, errors.New("scan report is neither a Trivy JSON report (SchemaVersion, Results) nor a SARIF log (version, runs)")
}

func parseTrivy(b []byte) (report, error) {
	var doc struct {
		Results []struct {
			Target          string `json:"Target"`
			Vulnerabilities []struct {
				VulnerabilityID  string `json:"VulnerabilityID"`
				PkgName          string `json:"PkgName"`
				InstalledVersion string `json:"InstalledVersion"`
				Severity         string `json:"Severity"`
			} `json:"Vulnerabilities"`
		} `json:"Results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return report{}, fmt.Errorf("read Trivy report: %w", err)
	}
	r := report{Format: "trivy", Scanner: "Trivy"}
	for _, res := range doc.Results {
		for _, v := range res.Vulnerabilities {
			if v.VulnerabilityID == "" {
				return report{}, fmt.Errorf("read Trivy report: a vulnerability of %q has no VulnerabilityID", res.Target)
			}
			sev, err := parseSeverity(v.Severity)
			if err != nil {
				sev = unknown // a scanner's new severity name must not hide the finding
			}
			r.Vulns = append(r.Vulns, vuln{ID: v.VulnerabilityID, Severity: sev,
				Package: strings.TrimSpace(v.PkgName + " " + v.InstalledVersion)})
		}
	}
	return r, nil
}

// sarifRule is the part of a SARIF reporting descriptor that carries severity.
type sarifRule struct {
	ID         string `json:"id"`
	Properties struct {
		SecuritySeverity json.RawMessage `json:"security-severity"`
	} `json:"properties"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

func parseSARIF(b []byte) (report, error) {
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name  string      `json:"name"`
					Rules []sarifRule `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Level     string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return report{}, fmt.Errorf("read SARIF log: %w", err)
	}
	r := report{Format: "sarif"}
	for _, run := range doc.Runs {
		if r.Scanner == "" {
			r.Scanner = run.Tool.Driver.Name
		}
		rules := run.Tool.Driver.Rules
		byID := make(map[string]*sarifRule, len(rules))
		for i := range rules {
			byID[rules[i].ID] = &rules[i]
		}
		for _, res := range run.Results {
			rule := byID[res.RuleID]
			if res.RuleIndex != nil && *res.RuleIndex >= 0 && *res.RuleIndex < len(rules) {
				rule = &rules[*res.RuleIndex]
			}
			id := res.RuleID
			if id == "" && rule != nil {
				id = rule.ID
			}
			if id == "" {
				return report{}, errors.New("read SARIF log: a result names no rule (ruleId)")
			}
			r.Vulns = append(r.Vulns, vuln{ID: id, Severity: sarifSeverity(rule, res.Level)})
		}
	}
	return r, nil
}

// sarifSeverity takes the rule's CVSS score (security-severity, a string or a number),
// else the result's level, else the rule's default level.
func sarifSeverity(rule *sarifRule, level string) severity {
	if rule != nil {
		if raw := bytes.Trim(rule.Properties.SecuritySeverity, `"`); len(raw) > 0 {
			if s, ok := scoreSeverity(string(raw)); ok {
				return s
			}
		}
		if level == "" {
			level = rule.DefaultConfiguration.Level
		}
	}
	if level == "" {
		level = "warning" // SARIF's default level
	}
	return levelSeverity(level)
}
