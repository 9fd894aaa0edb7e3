package policy

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

var (
	dnsLabel      = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dateFormat    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	fieldPathPart = regexp.MustCompile(`^[^.\[\]]+(\[\])?$`)
	// Rule names end up in reports, tables and SARIF rule ids: keep them plain.
	ruleName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$`)
)

// validateDocument checks one document on its own: every value that can be checked
// without the other documents. The first problem is returned, in document order.
func validateDocument(d *document) error {
	fail := func(path, format string, args ...any) error {
		return fmt.Errorf("policy %s: line %d: %s: %s", d.source, d.lineOf(path), path, fmt.Sprintf(format, args...))
	}
	for i, e := range d.Spec.Environments {
		p := fmt.Sprintf("spec.environments[%d]", i)
		if e.Name == "" {
			return fail(p+".name", "an environment needs a name")
		}
		if len(e.Name) > 63 || !dnsLabel.MatchString(e.Name) {
			return fail(p+".name", "%q is not a valid environment name; use lower-case letters, digits and '-' (a DNS-1123 label, at most 63 characters)", e.Name)
		}
		for _, g := range []struct {
			field string
			globs []string
		}{{"paths", e.Match.Paths}, {"branches", e.Match.Branches}, {"applications", e.Match.Applications}, {"namespaces", e.Match.Namespaces}, {"projects", e.Match.Projects}} {
			if err := checkGlobs(fail, p+".match."+g.field, g.globs); err != nil {
				return err
			}
		}
	}
	for i, r := range d.Spec.Rules {
		p := fmt.Sprintf("spec.rules[%d]", i)
		if r.Name == "" {
			return fail(p+".name", "a rule needs a name")
		}
		if len(r.Name) > 253 || !ruleName.MatchString(r.Name) {
			return fail(p+".name", "%q is not a valid rule name; use letters, digits and '-', '_', '.' or '/' inside (at most 253 characters)", r.Name)
		}
		if r.Name == RolledBackRule {
			return fail(p+".name", "rule name %q is reserved: exemptions from it release rolled-back digests (docs/policy.md); rename the rule", r.Name)
		}
		if r.Enforcement != Deny && r.Enforcement != Warn {
			return fail(p+".enforcement", "%q is not an enforcement; use deny or warn", r.Enforcement)
		}
		if err := checkGlobs(fail, p+".denyTags", r.DenyTags); err != nil {
			return err
		}
		if err := checkGlobs(fail, p+".allowedRegistries", r.AllowedRegistries); err != nil {
			return err
		}
		if r.TagPattern != "" {
			if _, err := regexp.Compile(r.TagPattern); err != nil {
				return fail(p+".tagPattern", "invalid regular expression %q: %s", r.TagPattern, regexpProblem(err))
			}
		}
		if err := validateSupplyChain(fail, p, r); err != nil {
			return err
		}
		if !checksSomething(r) {
			return fail(p, "rule %q checks nothing; set requireDigest, denyTags, allowedRegistries, tagPattern, "+
				"signatures, attestations, plugins, commitSignatures or changeScope", r.Name)
		}
	}
	for i, f := range d.Spec.ImageFields {
		p := fmt.Sprintf("spec.imageFields[%d]", i)
		if f.Kind == "" {
			return fail(p+".kind", "an image field needs the kind of resource it is in")
		}
		if !validFieldPath(f.Path) {
			return fail(p+".path", "%q is not a field path; write dot-separated fields, with [] after a list, e.g. spec.template.spec.containers[].image", f.Path)
		}
	}
	for i, x := range d.Spec.Exemptions {
		p := fmt.Sprintf("spec.exemptions[%d]", i)
		if x.Rule == "" {
			return fail(p+".rule", "an exemption needs the name of the rule it exempts from")
		}
		if len(x.Images) == 0 {
			return fail(p+".images", "an exemption needs at least one image glob")
		}
		if err := checkGlobs(fail, p+".images", x.Images); err != nil {
			return err
		}
		if x.Rule == RolledBackRule {
			if err := validateRolledBackExemption(fail, p, x); err != nil {
				return err
			}
		}
		if strings.TrimSpace(x.Reason) == "" {
			return fail(p+".reason", "an exemption needs a reason, so that reviewers know why it exists")
		}
		if strings.TrimSpace(x.Owner) == "" {
			return fail(p+".owner", "an exemption needs an owner, who answers for it")
		}
		if x.Expires != "" {
			if _, err := parseDate(x.Expires); err != nil {
				return fail(p+".expires", "%q is not a date; write YYYY-MM-DD, e.g. 2027-01-31", x.Expires)
			}
		}
	}
	return nil
}

// validateReferences checks the names that may point into other documents: a rule may
// name an environment, and an exemption a rule, defined in any document.
func validateReferences(docs []*document) error {
	envs, rules := map[string]bool{}, map[string]bool{}
	for _, d := range docs {
		for _, e := range d.Spec.Environments {
			envs[e.Name] = true
		}
		for _, r := range d.Spec.Rules {
			rules[r.Name] = true
		}
	}
	for _, d := range docs {
		for i, r := range d.Spec.Rules {
			for j, env := range r.Environments {
				if !envs[env] {
					p := fmt.Sprintf("spec.rules[%d].environments[%d]", i, j)
					return fmt.Errorf("policy %s: line %d: %s: rule %q names environment %q, which no policy document defines; known environments: %s",
						d.source, d.lineOf(p), p, r.Name, env, sortedNames(envs))
				}
			}
		}
		for i, x := range d.Spec.Exemptions {
			if !rules[x.Rule] && x.Rule != RolledBackRule {
				p := fmt.Sprintf("spec.exemptions[%d].rule", i)
				return fmt.Errorf("policy %s: line %d: %s: exemption names rule %q, which no policy document defines; known rules: %s",
					d.source, d.lineOf(p), p, x.Rule, sortedNames(rules))
			}
		}
	}
	return nil
}

// checkGlobs validates doublestar globs. Path globs have lost their "./" prefix by now,
// so a glob that was only "./" or "/" is caught as empty.
func checkGlobs(fail func(path, format string, args ...any) error, path string, globs []string) error {
	for i, g := range globs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if g == "" {
			return fail(p, "an empty glob matches nothing; remove it")
		}
		if !doublestar.ValidatePattern(g) {
			return fail(p, "invalid glob %q; check the brackets [] and braces {} and escape a literal one with \\", g)
		}
	}
	return nil
}

// regexpProblem says what is wrong with a regular expression on one line: the syntax
// error's own text quotes the expression raw, newlines included.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: %q", se.Code, se.Expr)
	}
	return err.Error()
}

func validFieldPath(p string) bool {
	if p == "" {
		return false
	}
	for part := range strings.SplitSeq(p, ".") {
		if !fieldPathPart.MatchString(part) {
			return false
		}
	}
	return true
}

// parseDate reads a YYYY-MM-DD day in UTC; time.Parse alone also rejects 2027-02-30.
func parseDate(s string) (time.Time, error) {
	if !dateFormat.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD", s)
	}
	return time.Parse(time.DateOnly, s)
}

func sortedNames(set map[string]bool) string {
	if len(set) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(set)), ", ")
}

// checksSomething reports whether a rule has at least one clause: a rule without one
// would pass everything while looking like protection.
func checksSomething(r Rule) bool {
	return r.RequireDigest || len(r.DenyTags) > 0 || len(r.AllowedRegistries) > 0 || r.TagPattern != "" ||
		r.Signatures != nil || len(r.Attestations) > 0 || len(r.Plugins) > 0 ||
		r.CommitSignatures != nil || r.ChangeScope != ""
}
