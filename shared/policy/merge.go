package policy

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// origin says where a definition was written, for messages about two definitions.
type origin struct {
	source string
	line   int
}

func (o origin) String() string { return fmt.Sprintf("%s (line %d)", o.source, o.line) }

// merge joins validated documents into one Set. Environments are declared once: the same
// definition twice is harmless (two copies of one ConfigMap), a different one is a
// conflict, because which one wins would depend on load order. Rule names are unique
// for the same reason. Image fields and exemptions add up.
func merge(docs []*document) (*Set, error) {
	s := &Set{}
	envAt := map[string]origin{}
	ruleAt := map[string]origin{}
	for _, d := range docs {
		for i, e := range d.Spec.Environments {
			at := origin{d.source, d.lineOf(fmt.Sprintf("spec.environments[%d]", i))}
			if prev, ok := envAt[e.Name]; ok {
				old, _ := s.Environment(e.Name)
				if !reflect.DeepEqual(old, e) {
					return nil, fmt.Errorf("policy: environment %q is defined differently in %s and %s; define it once, or make both definitions identical",
						e.Name, prev, at)
				}
				continue
			}
			envAt[e.Name] = at
			s.Environments = append(s.Environments, e)
		}
		for i, r := range d.Spec.Rules {
			at := origin{d.source, d.lineOf(fmt.Sprintf("spec.rules[%d]", i))}
			if prev, ok := ruleAt[r.Name]; ok {
				return nil, fmt.Errorf("policy: rule %q is defined in %s and again in %s; rule names must be unique, rename or remove one",
					r.Name, prev, at)
			}
			ruleAt[r.Name] = at
			s.Rules = append(s.Rules, r)
		}
		s.ImageFields = append(s.ImageFields, d.Spec.ImageFields...)
		s.Exemptions = append(s.Exemptions, d.Spec.Exemptions...)
	}
	slices.SortFunc(s.Environments, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Rules, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.ImageFields, compareImageFields)
	s.ImageFields = slices.CompactFunc(s.ImageFields, func(a, b ImageField) bool { return a == b })
	slices.SortFunc(s.Exemptions, compareExemptions)
	s.Exemptions = slices.CompactFunc(s.Exemptions, func(a, b Exemption) bool { return compareExemptions(a, b) == 0 })
	return s, nil
}

// prepareSpec fills in defaults and trims path globs in place, keeping every list's
// order, so that validation sees what classification and evaluation will use and its
// field paths ("spec.rules[2].denyTags[1]") still count as the author wrote them.
func prepareSpec(spec *Spec) {
	for i := range spec.Environments {
		m := &spec.Environments[i].Match
		for j, p := range m.Paths {
			m.Paths[j] = trimPathPrefix(p)
		}
	}
	for i := range spec.Rules {
		if spec.Rules[i].Enforcement == "" {
			spec.Rules[i].Enforcement = Deny
		}
	}
}

// sortSpec sorts and de-duplicates the lists whose order has no meaning, so that equal
// policies compare and hash equal.
func sortSpec(spec *Spec) {
	for i := range spec.Environments {
		m := &spec.Environments[i].Match
		m.Paths = sortedSet(m.Paths)
		m.Branches = sortedSet(m.Branches)
		m.Applications = sortedSet(m.Applications)
		m.Namespaces = sortedSet(m.Namespaces)
		m.Projects = sortedSet(m.Projects)
	}
	for i := range spec.Rules {
		r := &spec.Rules[i]
		r.Environments = sortedSet(r.Environments)
		r.DenyTags = sortedSet(r.DenyTags)
		r.AllowedRegistries = sortedSet(r.AllowedRegistries)
	}
	for i := range spec.Exemptions {
		spec.Exemptions[i].Images = sortedSet(spec.Exemptions[i].Images)
	}
}

// trimPathPrefix drops the "./" and "/" prefixes a person may write before a
// repository-relative path; classification compares against cleaned relative paths.
func trimPathPrefix(p string) string {
	for {
		switch {
		case strings.HasPrefix(p, "./"):
			p = p[2:]
		case strings.HasPrefix(p, "/"):
			p = p[1:]
		default:
			return p
		}
	}
}

// sortedSet returns the sorted, de-duplicated copy of list; nil when it is empty, so
// that an omitted list and an empty one are the same.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

func compareImageFields(a, b ImageField) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.APIVersion, b.APIVersion), strings.Compare(a.Path, b.Path))
}

func compareExemptions(a, b Exemption) int {
	return cmp.Or(
		strings.Compare(a.Rule, b.Rule),
		slices.Compare(a.Images, b.Images),
		strings.Compare(a.Expires, b.Expires),
		strings.Compare(a.Owner, b.Owner),
		strings.Compare(a.Reason, b.Reason),
	)
}
