package policy

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Query is what a caller knows about the thing being promoted. Empty fields match
// nothing.
type Query struct {
	// Path is repository-relative and slash-separated; a leading "./" or "/" is ignored
	// and the path is cleaned, so "apps/x/../y" is "apps/y".
	Path string
	// Branch is a Git branch name; a "refs/heads/" prefix is ignored.
	Branch string
	// Application is an Argo CD application name.
	Application string
	// Namespace is the destination namespace.
	Namespace string
	// Project is the Argo CD project (AppProject) of the application.
	Project string
	// Requested is an environment a user named (a plugin parameter, a PromotionGate
	// field). It can make the classification stricter, never weaker.
	Requested string
}

// Classification is the environment an input belongs to and why.
type Classification struct {
	// Environment is "" when nothing matched: unclassified inputs are unprotected.
	Environment string
	Protected   bool
	// MatchedBy says, one reason a line, why this environment was chosen, e.g.
	// `path "apps/x/overlays/prod" matches "apps/*/overlays/prod/**" (environment prod)`.
	MatchedBy []string
}

// Classify puts an input into the strictest environment it matches: a protected one
// before an unprotected one, then the one with more deny rules, then the first by name.
// A requested environment is used only when it is stricter than that. The only error is
// a requested environment that the policy does not define.
func (s *Set) Classify(q Query) (Classification, error) {
	if s == nil {
		return Classification{}, errors.New("classify: no policy loaded")
	}
	var requested *Environment
	if q.Requested != "" {
		env, ok := s.Environment(q.Requested)
		if !ok {
			names := make(map[string]bool, len(s.Environments))
			for _, e := range s.Environments {
				names[e.Name] = true
			}
			return Classification{}, fmt.Errorf("classify: environment %q is not defined by the policy; known environments: %s",
				q.Requested, sortedNames(names))
		}
		requested = &env
	}
	var c Classification
	var best *Environment
	var matched []string
	for i := range s.Environments {
		env := &s.Environments[i]
		reasons := matchReasons(env, q)
		if len(reasons) == 0 {
			continue
		}
		c.MatchedBy = append(c.MatchedBy, reasons...)
		matched = append(matched, env.Name)
		if best == nil || s.compareStrictness(env, best) > 0 {
			best = env // environments are sorted by name, so the first wins a tie
		}
	}
	if best != nil {
		c.Environment, c.Protected = best.Name, best.Protected
		if len(matched) > 1 {
			c.MatchedBy = append(c.MatchedBy, fmt.Sprintf("strictest of %s: %s (%s)",
				strings.Join(matched, ", "), best.Name, s.strictnessText(best)))
		}
	} else {
		c.MatchedBy = append(c.MatchedBy, "no environment matched: unclassified, unprotected")
	}
	if requested != nil {
		c = s.applyRequested(c, best, requested)
	}
	return c, nil
}

// applyRequested lets a user-named environment replace the classified one only when it
// is stricter, so that an app author cannot declare a prod path to be dev. Any
// environment is at least as strict as none: it gets every global rule and its own.
func (s *Set) applyRequested(c Classification, best, requested *Environment) Classification {
	switch {
	case best == nil:
		c.Environment, c.Protected = requested.Name, requested.Protected
		c.MatchedBy = append(c.MatchedBy, fmt.Sprintf("requested environment %s used (%s)", requested.Name, s.strictnessText(requested)))
	case best.Name == requested.Name:
		c.MatchedBy = append(c.MatchedBy, fmt.Sprintf("requested environment %s is the classified one", requested.Name))
	case s.compareStrictness(requested, best) > 0:
		c.MatchedBy = append(c.MatchedBy, fmt.Sprintf("requested environment %s used: it is stricter than %s (%s, against %s)",
			requested.Name, best.Name, s.strictnessText(requested), s.strictnessText(best)))
		c.Environment, c.Protected = requested.Name, requested.Protected
	default:
		c.MatchedBy = append(c.MatchedBy, fmt.Sprintf("requested environment %s ignored: it is not stricter than %s (%s, against %s)",
			requested.Name, best.Name, s.strictnessText(requested), s.strictnessText(best)))
	}
	return c
}

// Stricter reports whether environment a is stricter than environment b (see
// Classify); "" (unclassified) is less strict than any environment, and an undefined
// name is treated as unclassified.
func (s *Set) Stricter(a, b string) bool {
	ea, okA := s.Environment(a)
	eb, okB := s.Environment(b)
	switch {
	case !okA:
		return false
	case !okB:
		return true
	}
	return s.compareStrictness(&ea, &eb) > 0
}

// compareStrictness orders environments: protected first, then by the number of deny
// rules that apply. It returns > 0 when a is stricter than b.
func (s *Set) compareStrictness(a, b *Environment) int {
	if a.Protected != b.Protected {
		if a.Protected {
			return 1
		}
		return -1
	}
	return cmp.Compare(s.denyRules(a.Name), s.denyRules(b.Name))
}

func (s *Set) denyRules(env string) int {
	n := 0
	for _, r := range s.RulesFor(env) {
		if r.Enforcement == Deny || r.Enforcement == "" {
			n++
		}
	}
	return n
}

func (s *Set) strictnessText(e *Environment) string {
	prot := "unprotected"
	if e.Protected {
		prot = "protected"
	}
	n := s.denyRules(e.Name)
	if n == 1 {
		return prot + ", 1 deny rule"
	}
	return fmt.Sprintf("%s, %d deny rules", prot, n)
}

// matchReasons returns one reason per kind of input that matches the environment.
func matchReasons(env *Environment, q Query) []string {
	var out []string
	for _, in := range []struct {
		kind, value string
		globs       []string
	}{
		{"path", cleanPath(q.Path), env.Match.Paths},
		{"branch", strings.TrimPrefix(q.Branch, "refs/heads/"), env.Match.Branches},
		{"application", q.Application, env.Match.Applications},
		{"namespace", q.Namespace, env.Match.Namespaces},
		{"project", q.Project, env.Match.Projects},
	} {
		if in.value == "" {
			continue
		}
		for _, g := range in.globs {
			if ok, err := doublestar.Match(g, in.value); err == nil && ok {
				out = append(out, fmt.Sprintf("%s %q matches %q (environment %s)", in.kind, in.value, g, env.Name))
				break
			}
		}
	}
	return out
}

// cleanPath makes a query path repository-relative and clean; the repository root
// itself is "" and matches no path glob.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean("/" + p)[1:]
	return p
}
