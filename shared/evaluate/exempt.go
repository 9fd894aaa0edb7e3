package evaluate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// spellings are the forms of a reference an exemption glob may have been written in:
// the normalised reference first, then every familiar name (docker.io/library/nginx,
// nginx) with the same tag and digest, tag-only and digest-only forms of a repo:tag@digest
// reference, and the reference exactly as written. Bare names without tag or digest are
// not included: an exemption for "nginx" means nginx:latest, as the runtime reads it.
func spellings(ref imageref.Ref) []string {
	tag, hasTag := tagOf(ref)
	suffix := ""
	if hasTag {
		suffix = ":" + tag
	}
	if ref.Digest != "" {
		suffix += "@" + ref.Digest
	}
	out := []string{ref.String()}
	for _, n := range ref.Names() {
		out = append(out, n+suffix)
		if hasTag && ref.Digest != "" {
			out = append(out, n+":"+tag, n+"@"+ref.Digest)
		}
	}
	if ref.Original != "" {
		out = append(out, ref.Original)
	}
	return out
}

// exemptionMatch returns the first glob of ex that matches one of the spellings.
func exemptionMatch(ex policy.Exemption, names []string) (string, bool) {
	for _, glob := range ex.Images {
		for _, n := range names {
			if policy.MatchImage(glob, n) {
				return glob, true
			}
		}
	}
	return "", false
}

// expiredNotice is the line a report shows for an expired exemption that was ignored.
func expiredNotice(ex policy.Exemption) string {
	owner := ex.Owner
	if owner == "" {
		owner = "unknown"
	}
	return fmt.Sprintf("exemption for rule %s on images %s expired on %s (owner %s); ignored",
		ex.Rule, strings.Join(ex.Images, ", "), ex.Expires, owner)
}

// sortFindings orders findings by file, document, field path (numbers compared as
// numbers, so containers[2] comes before containers[10]), rule, clause and message, so
// that the same input always gives the same report.
// SortFindings puts findings in report order: by file, document, field path and rule.
func SortFindings(fs []Finding) { sortFindings(fs) }

func sortFindings(fs []Finding) {
	// Sort indices rather than the findings themselves, since a Finding is large; the
	// index as the last key keeps equal findings in input order without a stable sort.
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &fs[i], &fs[j]
		// Compare key by key rather than with cmp.Or, which would evaluate every key.
		if c := strings.Compare(a.Source.File, b.Source.File); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Source.Document, b.Source.Document); c != 0 {
			return c
		}
		if a.Source.FieldPath != b.Source.FieldPath {
			if c := compareNatural(a.Source.FieldPath, b.Source.FieldPath); c != 0 {
				return c
			}
		}
		return cmp.Or(
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Check, b.Check),
			strings.Compare(a.Message, b.Message),
			strings.Compare(a.Image, b.Image),
			cmp.Compare(i, j),
		)
	})
	sorted := make([]Finding, len(fs))
	for i, o := range order {
		sorted[i] = fs[o]
	}
	copy(fs, sorted)
}

// compareNatural compares strings with runs of ASCII digits compared by value.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// sortedKeys returns the set's members sorted, never nil.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
