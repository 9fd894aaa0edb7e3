package evaluate

import (
	"slices"
	"strings"
)

// rank orders verdicts from the most permissive to the strictest. A verdict this
// package does not know ranks with Denied: an unknown verdict is never an allowance.
func rank(v Verdict) int {
	switch v {
	case Allowed:
		return 0
	case Warned:
		return 1
	}
	return 2
}

// Worst returns the stricter of two verdicts; an unknown verdict counts as Denied. It
// is the one worst-of of promotion-gate: every door and every report folds with it.
func Worst(a, b Verdict) Verdict {
	if rank(b) > rank(a) {
		a = b
	}
	if rank(a) == 2 {
		return Denied
	}
	return a
}

// WithFindings adds findings to a result and derives its verdict again: the worse of
// the result's own verdict (a failure stays Denied) and the verdict of the added
// findings. Every finding is then in the one order of this package (sortFindings).
func WithFindings(res Result, fs []Finding) Result {
	if len(fs) == 0 {
		return res
	}
	res.Findings = append(slices.Clone(res.Findings), fs...)
	sortFindings(res.Findings)
	res.Verdict = Worst(res.Verdict, verdictOf(fs))
	return res
}

// Combine folds the results of several targets of one change (the files and renders of
// a promotion, by environment) into one: the worst verdict, the strictest environment
// (a protected one before an unprotected one, else the first), every finding once and
// in order, every exemption, notice and image, and every error.
func Combine(results ...Result) Result {
	if len(results) == 1 {
		return results[0]
	}
	out := Result{Verdict: Allowed, Findings: []Finding{}, Exempted: []Finding{}, Notices: []string{}}
	var errs []string
	for _, r := range results {
		out.Verdict = Worst(out.Verdict, r.Verdict)
		if out.Environment == "" || (r.Protected && !out.Protected) {
			out.Environment, out.Protected = r.Environment, r.Protected
		}
		if out.PolicyRevision == "" {
			out.PolicyRevision = r.PolicyRevision
		}
		for _, f := range r.Findings {
			// A promotion clause (a commit's signature) is checked once per
			// environment of the change: report it once.
			if slices.ContainsFunc(out.Findings, func(o Finding) bool { return sameFinding(o, f) }) {
				continue
			}
			out.Findings = append(out.Findings, f)
		}
		out.Exempted = append(out.Exempted, r.Exempted...)
		for _, b := range r.Because {
			if !slices.Contains(out.Because, b) {
				out.Because = append(out.Because, b)
			}
		}
		for _, n := range r.Notices {
			if !slices.Contains(out.Notices, n) {
				out.Notices = append(out.Notices, n)
			}
		}
		out.Images = append(out.Images, r.Images...)
		if r.Error != "" && !slices.Contains(errs, r.Error) {
			errs = append(errs, r.Error)
		}
	}
	sortFindings(out.Findings)
	sortFindings(out.Exempted)
	out.Error = strings.Join(errs, "; ")
	return out
}

// sameFinding reports whether two findings say the same thing about the same place.
func sameFinding(a, b Finding) bool {
	if a.Rule != b.Rule || a.Check != b.Check || a.Message != b.Message || a.Image != b.Image || a.Enforcement != b.Enforcement {
		return false
	}
	// A kustomization's setter-marked images: entry, judged as a changed file, and the
	// rendered workload it sets, which names that entry as the place to edit, are one
	// finding.
	setter := func(f Finding) bool { return strings.HasPrefix(f.Source.FieldPath, "images[") }
	return a.Source == b.Source || (a.Source.File == b.Source.File && (setter(a) || setter(b)))
}
