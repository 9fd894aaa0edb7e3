package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/plugin/sdk"
)

// judge counts the report's vulnerabilities at or above the threshold, each ID and
// package once, ignored IDs left out. bad is false when none counts.
func judge(r report, digest string, p params) (f sdk.Finding, bad bool) {
	seen := map[vuln]bool{}
	var counted []vuln
	for _, v := range r.Vulns {
		if v.Severity < p.threshold || p.ignore[v.ID] || seen[v] {
			continue
		}
		seen[v] = true
		counted = append(counted, v)
	}
	if len(counted) == 0 {
		return sdk.Finding{}, false
	}
	// Worst first, then by ID, so that the message names what matters.
	slices.SortFunc(counted, func(a, b vuln) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.ID+" "+a.Package, b.ID+" "+b.Package)
	})
	names := make([]string, 0, listed+1)
	for i, v := range counted {
		if i == listed {
			names = append(names, fmt.Sprintf("and %d more", len(counted)-listed))
			break
		}
		s := v.ID + " (" + v.Severity.String()
		if v.Package != "" {
			s += ", " + v.Package
		}
		names = append(names, s+")")
	}
	scanner := r.Scanner
	if scanner == "" {
		scanner = r.Format
	}
	return sdk.Finding{
		Message: fmt.Sprintf("scan report %s (%s) has %d %s at or above %s: %s",
			short(digest), scanner, len(counted), plural(len(counted), "vulnerability", "vulnerabilities"),
			p.threshold, strings.Join(names, ", ")),
		Fix: "update the affected packages and rebuild the image, or list accepted IDs in the plugin's ignore parameter",
	}, true
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
