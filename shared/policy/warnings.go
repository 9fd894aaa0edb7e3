package policy

import (
	"fmt"
	"strings"
	"time"
)

// WarningReason says which kind of gap a Warning names. A policy with a warning is
// valid, and the gate enforces it as written; the warning says where it protects less
// than it seems to.
type WarningReason string

const (
	// NoProtectedEnvironment: no environment is protected, so every violation only
	// warns and nothing is ever denied.
	NoProtectedEnvironment WarningReason = "NoProtectedEnvironment"
	// UnmatchedEnvironment: a protected environment has no match globs, so no path,
	// branch, application, namespace or project ever lands in it; only an input that
	// requests it by name is protected.
	UnmatchedEnvironment WarningReason = "UnmatchedEnvironment"
	// UnreachableRule: a rule names only environments that no match can reach, so it
	// checks nothing unless a user requests one of them.
	UnreachableRule WarningReason = "UnreachableRule"
	// ExpiredExemption: an exemption is past its date and ignored.
	ExpiredExemption WarningReason = "ExpiredExemption"
)

// Warning is one way a valid policy protects less than it seems to.
type Warning struct {
	Reason WarningReason
	// Subject names what the warning is about: an environment, a rule, or "" for the
	// whole policy.
	Subject string
	// Message says what is wrong and how to fix it, on one line.
	Message string
}

// String is the warning as the CLI, the sidecar and flux-gate print it.
func (w Warning) String() string { return "warning: " + w.Message }

// Warnings lists the ways the policy protects less than it seems to, in a fixed order:
// no protected environment, protected environments that match nothing, rules that no
// match can reach, and exemptions expired at now. Every door prints the same list:
// `promotion-gate policy validate` (and fails on it with --strict), and the sidecar and
// flux-gate when they load the policy.
func (s *Set) Warnings(now time.Time) []Warning {
	if s == nil {
		return nil
	}
	var out []Warning
	protected := false
	for _, e := range s.Environments {
		protected = protected || e.Protected
	}
	if !protected {
		out = append(out, Warning{Reason: NoProtectedEnvironment, Message: fmt.Sprintf(
			"no environment is protected, so every violation only warns and the gate denies nothing (environments: %s); set protected: true on the environments that must never run an unchecked image, e.g. prod",
			s.environmentNames())})
	}
	for _, e := range s.Environments {
		if e.Protected && !reachable(e.Match) {
			out = append(out, Warning{Reason: UnmatchedEnvironment, Subject: e.Name, Message: fmt.Sprintf(
				"environment %s is protected but its match is empty, so no path, branch, application, namespace or project is classified into it; add match globs (e.g. paths: [\"apps/*/overlays/%s/**\"])",
				e.Name, e.Name)})
		}
	}
	for _, r := range s.Rules {
		if len(r.Environments) == 0 {
			continue // applies everywhere
		}
		if !s.anyReachable(r.Environments) {
			names, noun := strings.Join(r.Environments, ", "), "environment"
			if len(r.Environments) > 1 {
				noun = "environments"
			}
			out = append(out, Warning{Reason: UnreachableRule, Subject: r.Name, Message: fmt.Sprintf(
				"rule %s applies only to %s %s, which no match reaches, so it checks nothing unless a user requests one by name; add match globs to %s or list an environment that has them",
				r.Name, noun, names, names)})
		}
	}
	for _, x := range s.Exemptions {
		if x.Expired(now) {
			out = append(out, Warning{Reason: ExpiredExemption, Subject: x.Rule, Message: fmt.Sprintf(
				"exemption for rule %s (owner %s) expired on %s and is ignored; remove it, or renew it with a new date",
				x.Rule, x.Owner, x.Expires)})
		}
	}
	return out
}

// anyReachable reports whether one of the named environments has a match glob.
func (s *Set) anyReachable(names []string) bool {
	for _, n := range names {
		if e, ok := s.Environment(n); ok && reachable(e.Match) {
			return true
		}
	}
	return false
}

func (s *Set) environmentNames() string {
	if len(s.Environments) == 0 {
		return "none"
	}
	names := make([]string, len(s.Environments))
	for i, e := range s.Environments {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// reachable reports whether a match can classify anything: one glob of any kind.
func reachable(m Match) bool {
	return len(m.Paths) > 0 || len(m.Branches) > 0 || len(m.Applications) > 0 || len(m.Namespaces) > 0 || len(m.Projects) > 0
}
