package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Set is the merged, validated policy of every source. Make one with Parse, Load or
// FromConfigMaps; its lists are normalised (sorted, defaults filled in) so that the same
// policy always looks and hashes the same, whatever the order of its sources. A Set is
// not changed after Parse, so it is safe for concurrent use.
type Set struct {
	// Environments are sorted by name; their globs are sorted and de-duplicated.
	Environments []Environment
	// Rules are sorted by name; Enforcement is always Deny or Warn.
	Rules []Rule
	// ImageFields are sorted by kind, apiVersion and path, without duplicates.
	ImageFields []ImageField
	// Exemptions are sorted by rule, without duplicates.
	Exemptions []Exemption
	// Sources are the names of the sources merged, sorted.
	Sources []string
	// Revision is "sha256:<hex>" of the merged, normalised policy. It names the policy a
	// verdict was reached under in statuses and reports; it does not depend on source
	// names or order, on key order, or on the order of lists whose order has no meaning.
	Revision string

	tagPatterns map[string]*regexp.Regexp
}

// Parse strictly decodes every source (each may hold several "---" documents), merges
// the documents and validates the result. Errors name the source, the line and the
// field path, and say how to fix it.
func Parse(sources ...Source) (*Set, error) {
	if len(sources) == 0 {
		return nil, errors.New("policy: no policy sources given")
	}
	sorted := slices.Clone(sources)
	slices.SortStableFunc(sorted, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	var docs []*document
	var names []string
	for _, src := range sorted {
		if len(src.Data) > MaxSourceBytes {
			return nil, fmt.Errorf("policy %s: %d bytes is over the limit of %d bytes; split the policy into several documents",
				src.Name, len(src.Data), MaxSourceBytes)
		}
		d, err := decodeSource(src)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
		names = append(names, src.Name)
	}
	names = slices.Compact(names)
	if len(docs) == 0 {
		return nil, fmt.Errorf("policy %s: no %s documents found; a missing policy cannot protect anything",
			strings.Join(names, ", "), Kind)
	}
	for _, d := range docs {
		prepareSpec(&d.Spec)
		if err := validateDocument(d); err != nil {
			return nil, err
		}
	}
	if err := validateReferences(docs); err != nil {
		return nil, err
	}
	for _, d := range docs {
		sortSpec(&d.Spec)
	}
	s, err := merge(docs)
	if err != nil {
		return nil, err
	}
	s.Sources = names
	s.Revision = revision(s)
	s.tagPatterns = map[string]*regexp.Regexp{}
	for _, r := range s.Rules {
		if r.TagPattern != "" {
			s.tagPatterns[r.Name] = regexp.MustCompile(r.TagPattern) // validated above
		}
	}
	return s, nil
}

// MaxSourceBytes bounds one policy source. A ConfigMap holds at most 1 MiB; a policy far
// larger than that is a mistake, and parsing it would only cost memory.
const MaxSourceBytes = 4 << 20

// Environment returns the environment with that name.
func (s *Set) Environment(name string) (Environment, bool) {
	if s == nil {
		return Environment{}, false
	}
	for _, e := range s.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// RulesFor returns the rules that apply to env: those that list it, and those that list
// no environment (they apply everywhere, to unclassified inputs too, where env is "").
func (s *Set) RulesFor(env string) []Rule {
	if s == nil {
		return nil
	}
	var out []Rule
	for _, r := range s.Rules {
		if len(r.Environments) == 0 || slices.Contains(r.Environments, env) {
			out = append(out, r)
		}
	}
	return out
}

// TagPattern returns the compiled tagPattern of the named rule, nil if it has none.
func (s *Set) TagPattern(rule string) *regexp.Regexp {
	if s == nil {
		return nil
	}
	if re, ok := s.tagPatterns[rule]; ok {
		return re
	}
	// A Set built by hand, not by Parse, has no compiled patterns: compile on demand.
	for _, r := range s.Rules {
		if r.Name == rule && r.TagPattern != "" {
			re, err := regexp.Compile(r.TagPattern)
			if err != nil {
				return nil
			}
			return re
		}
	}
	return nil
}

// ExemptionsFor returns the exemptions of the named rule, expired ones included: the
// caller tells them apart with Expired so that it can report the expired ones.
func (s *Set) ExemptionsFor(rule string) []Exemption {
	if s == nil {
		return nil
	}
	var out []Exemption
	for _, e := range s.Exemptions {
		if e.Rule == rule {
			out = append(out, e)
		}
	}
	return out
}

// Expired reports whether the exemption no longer applies at now. An exemption lasts
// until the end of its Expires day in UTC; one without Expires never expires. An
// unreadable date counts as expired, so that a broken exemption lets nothing through.
func (e Exemption) Expired(now time.Time) bool {
	if e.Expires == "" {
		return false
	}
	day, err := parseDate(e.Expires)
	if err != nil {
		return true
	}
	return !now.Before(day.AddDate(0, 0, 1))
}

// MatchImage reports whether an image name or reference matches a doublestar glob, with
// '/' separating path segments ("ghcr.io/example/**"). An invalid glob matches nothing.
func MatchImage(glob, name string) bool {
	ok, err := doublestar.Match(glob, name)
	return err == nil && ok
}

// revision hashes the canonical JSON of the normalised policy. encoding/json writes
// struct fields in a fixed order and the lists are already sorted, so equal policies
// give equal bytes.
func revision(s *Set) string {
	canonical := struct {
		APIVersion   string        `json:"apiVersion"`
		Environments []Environment `json:"environments"`
		Rules        []Rule        `json:"rules"`
		ImageFields  []ImageField  `json:"imageFields"`
		Exemptions   []Exemption   `json:"exemptions"`
	}{APIVersion, s.Environments, s.Rules, s.ImageFields, s.Exemptions}
	data, err := json.Marshal(canonical)
	if err != nil {
		panic(fmt.Sprintf("policy: cannot encode the policy for its revision: %v", err)) // only strings, bools and slices
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
