package evaluate

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// checker is one kind of rule clause. Every clause of every rule runs through the same
// list, so later clauses (signatures, attestations, vulnerability thresholds, external
// plugin checks) plug in by implementing checker and joining checkers; the evaluator
// turns their violations into findings, exemptions and a verdict the same way.
type checker interface {
	// name is the clause as written in the policy, e.g. "requireDigest"; it becomes
	// Finding.Check.
	name() string
	// description is the one-paragraph help text reports show for the clause.
	description() string
	// check returns the violations of r's clause by s, nil when r does not use the
	// clause or s complies. An error fails closed: the evaluator turns it into a finding
	// of r, so a check that cannot decide never lets an image through unnoticed.
	check(ctx context.Context, r *rule, s subject) ([]violation, error)
}

// checkers are the clauses every rule is checked for, in this order.
var checkers = []checker{requireDigest{}, denyTags{}, allowedRegistries{}, tagPattern{},
	signatures{}, attestations{}, plugins{}}

// checkValidImageReference is the clause name of RuleValidImageReference findings.
const checkValidImageReference = "validImageReference"

// rule is a policy rule prepared for one evaluation.
type rule struct {
	policy.Rule
	// enforcement is the effective enforcement in the evaluated environment.
	enforcement policy.Enforcement
	// pattern is the compiled TagPattern, nil when the rule has none.
	pattern *regexp.Regexp
	// exemptions are the exemptions naming this rule.
	exemptions []exemption
}

// exemption is a policy exemption with its expiry decided once per evaluation.
type exemption struct {
	policy.Exemption
	// expired holds the notice to give when the exemption would have applied; empty
	// when the exemption is live.
	expired string
}

// subject is one parsed image under evaluation.
type subject struct {
	img *extract.Image
	ref imageref.Ref
	// eval is the evaluation the image belongs to: its environment, policy revision,
	// time and the verifiers that reach outside the process.
	eval *evaluation
}

// violation is what a checker reports; the evaluator adds rule, image and provenance.
type violation struct {
	message, fix string
}

// The Finding.Check names of the clauses about a promotion rather than its images: the
// promotion checkers run them when a Request carries a Promotion.
const (
	CheckCommitSignatures = "commitSignatures"
	CheckChangeScope      = "changeScope"
)

// Checks returns the names of the rule clauses the evaluator knows, in evaluation
// order, followed by the built-in image reference check and the promotion clauses.
func Checks() []string {
	names := make([]string, 0, len(checkers)+1+len(promotionCheckers))
	for _, c := range checkers {
		names = append(names, c.name())
	}
	names = append(names, checkValidImageReference)
	for _, c := range promotionCheckers {
		names = append(names, c.name())
	}
	return names
}

// Effective is the enforcement a finding of a rule gets: unprotected environments only
// warn, and anything but an explicit warn denies in a protected one (unset or unknown
// fails closed).
func Effective(e policy.Enforcement, protected bool) policy.Enforcement {
	if !protected || e == policy.Warn {
		return policy.Warn
	}
	return policy.Deny
}

// DescribeCheck returns the help text of a rule clause named in Finding.Check, or ""
// when the clause is unknown. Reports use it to explain rules without the policy.
func DescribeCheck(name string) string {
	if name == checkValidImageReference {
		return "Every image must be a reference the container runtime can parse: " +
			"[registry/]repository[:tag][@sha256:digest]."
	}
	for _, c := range promotionCheckers {
		if c.name() == name {
			return c.description()
		}
	}
	for _, c := range checkers {
		if c.name() == name {
			return c.description()
		}
	}
	return ""
}

// requireDigest: the image must carry a digest, the only reference that cannot move.
type requireDigest struct{}

func (requireDigest) name() string { return "requireDigest" }

func (requireDigest) description() string {
	return "Images must be pinned by digest (repository[:tag]@sha256:...): a tag can be " +
		"moved to other content, a digest cannot."
}

func (requireDigest) check(_ context.Context, r *rule, s subject) ([]violation, error) {
	if !r.RequireDigest || s.ref.Pinned() {
		return nil, nil
	}
	name := writtenName(s.ref)
	if s.ref.ImplicitTag {
		return []violation{{
			message: `not pinned by digest: no tag or digest, so the runtime pulls the mutable tag "latest"`,
			fix: fmt.Sprintf("pin a release by digest: %s:<version>@sha256:<digest> (crane digest %s:<version>)",
				name, name),
		}}, nil
	}
	tagged := name + ":" + s.ref.Tag
	return []violation{{
		message: fmt.Sprintf("not pinned by digest: tag %q can be moved to other content", s.ref.Tag),
		fix:     fmt.Sprintf("pin the image by digest: %s@sha256:<digest> (crane digest %s)", tagged, tagged),
	}}, nil
}

// denyTags: the tag the runtime resolves must not match a denied glob. A digest-only
// reference has no tag to deny; repo:tag@digest still has its tag checked.
type denyTags struct{}

func (denyTags) name() string { return "denyTags" }

func (denyTags) description() string {
	return "The image tag must not match a denied tag glob (e.g. latest, main, *-SNAPSHOT). " +
		"A reference without tag or digest counts as tag latest; a digest-only reference has no tag."
}

func (denyTags) check(_ context.Context, r *rule, s subject) ([]violation, error) {
	tag, ok := tagOf(s.ref)
	if !ok || len(r.DenyTags) == 0 {
		return nil, nil
	}
	for _, glob := range r.DenyTags {
		if !policy.MatchImage(glob, tag) {
			continue
		}
		name := writtenName(s.ref)
		v := violation{
			message: fmt.Sprintf("tag %q is denied (denyTags %q)", tag, glob),
			fix:     fmt.Sprintf("use a release tag instead of %q: %s:<version>", tag, name),
		}
		switch {
		case s.ref.ImplicitTag:
			v.message = fmt.Sprintf(`no tag or digest: the runtime pulls "latest", which is denied (denyTags %q)`, glob)
			v.fix = fmt.Sprintf("name a release tag: %s:<version>", name)
		case s.ref.Pinned():
			v.fix = fmt.Sprintf("replace tag %q with the release tag of that digest: %s:<version>@%s",
				tag, name, s.ref.Digest)
		}
		return []violation{v}, nil
	}
	return nil, nil
}

// allowedRegistries: the image must come from a repository that matches one of the
// globs, in any of its spellings (index.docker.io/library/nginx, docker.io/library/nginx,
// nginx).
type allowedRegistries struct{}

func (allowedRegistries) name() string { return "allowedRegistries" }

func (allowedRegistries) description() string {
	return "The image repository (registry/path) must match one of the allowed registry globs, " +
		"e.g. ghcr.io/example/**."
}

func (allowedRegistries) check(_ context.Context, r *rule, s subject) ([]violation, error) {
	if len(r.AllowedRegistries) == 0 {
		return nil, nil
	}
	names := s.ref.Names()
	for _, glob := range r.AllowedRegistries {
		for _, n := range names {
			if policy.MatchImage(glob, n) {
				return nil, nil
			}
		}
	}
	allowed := strings.Join(r.AllowedRegistries, ", ")
	return []violation{{
		message: fmt.Sprintf("repository %s is not in an allowed registry (allowed: %s)", s.ref.Name(), allowed),
		fix:     fmt.Sprintf("copy the image to an allowed registry (%s) and reference it from there", allowed),
	}}, nil
}

// tagPattern: the tag the runtime resolves must match the rule's regular expression.
type tagPattern struct{}

func (tagPattern) name() string { return "tagPattern" }

func (tagPattern) description() string {
	return "The image tag must match the rule's regular expression (e.g. a semantic version). " +
		"A reference without tag or digest counts as tag latest; a digest-only reference has no tag."
}

func (tagPattern) check(_ context.Context, r *rule, s subject) ([]violation, error) {
	tag, ok := tagOf(s.ref)
	if !ok || r.pattern == nil || r.pattern.MatchString(tag) {
		return nil, nil
	}
	v := violation{
		message: fmt.Sprintf("tag %q does not match tagPattern %s", tag, r.TagPattern),
		fix:     fmt.Sprintf("use a tag that matches %s, e.g. a release version", r.TagPattern),
	}
	if s.ref.ImplicitTag {
		v.message = fmt.Sprintf(`no tag or digest: the runtime pulls "latest", which does not match tagPattern %s`,
			r.TagPattern)
	}
	return []violation{v}, nil
}

// tagOf returns the tag the runtime resolves, and false for a digest-only reference,
// which has none.
func tagOf(ref imageref.Ref) (string, bool) {
	if ref.ImplicitTag {
		return "latest", true
	}
	return ref.Tag, ref.Tag != ""
}

// writtenName returns the repository as the author wrote it (no tag, no digest), so a
// fix can be pasted back into the same file. It falls back to the normalised name.
func writtenName(ref imageref.Ref) string {
	s := strings.TrimSpace(ref.Original)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s = s[:i]
	}
	if s == "" {
		return ref.Name()
	}
	return s
}
