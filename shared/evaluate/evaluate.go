package evaluate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// ctxEvery is how many images are evaluated between checks of the context, so that a
// cancelled evaluation stops soon without paying for a check per image.
const ctxEvery = 64

// Evaluate checks every image against every rule of the classified environment and
// returns the verdict. It never returns an Allowed verdict it cannot justify: a nil
// policy, an uncompilable rule or a cancelled context yield Failure, which denies in a
// protected environment. In an unprotected environment every finding only warns.
//
// Notices (expired exemptions that were ignored) do not change the verdict: an expired
// exemption makes its finding count again, and that finding already decides. An expired
// exemption is noted only when it would have covered a finding of this evaluation, so
// that reports name the exemptions that matter here and not every stale one in the policy.
func Evaluate(ctx context.Context, req Request) Result {
	cls := req.Environment
	if req.Policy == nil {
		return Failure(cls, "", errors.New("no policy to evaluate against: load the policy first"))
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	rules, err := prepare(req.Policy, cls, now)
	if err != nil {
		return Failure(cls, req.Policy.Revision, err)
	}
	e := evaluation{
		protected: cls.Protected, notices: map[string]bool{},
		cls: cls, revision: req.Policy.Revision, now: now, verifier: req.Verifier, plugins: req.Plugins,
	}
	for i := range req.Images {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Failure(cls, req.Policy.Revision,
					fmt.Errorf("evaluate %d images: stopped after %d: %w", len(req.Images), i, err))
			}
		}
		e.image(ctx, &req.Images[i], rules)
	}
	e.promotion(ctx, req.Promotion, rules)
	if err := ctx.Err(); err != nil {
		return Failure(cls, req.Policy.Revision, fmt.Errorf("evaluate %d images: %w", len(req.Images), err))
	}
	sortFindings(e.findings)
	sortFindings(e.exempted)
	images := req.Images
	if images == nil {
		images = []extract.Image{}
	}
	return Result{
		Verdict:        verdictOf(e.findings),
		Environment:    cls.Environment,
		Protected:      cls.Protected,
		PolicyRevision: req.Policy.Revision,
		Findings:       nonNil(e.findings),
		Exempted:       nonNil(e.exempted),
		Notices:        sortedKeys(e.notices),
		Images:         images,
	}
}

// Failure is the result of an evaluation that could not be done: Denied when the
// environment is protected (fail closed), Warned otherwise, with Error naming the cause.
// Callers that cannot classify at all (no usable policy) pass Protected: true.
func Failure(cls policy.Classification, revision string, err error) Result {
	msg := "evaluation failed for an unknown reason"
	if err != nil {
		msg = err.Error()
	}
	v := Warned
	if cls.Protected {
		v = Denied
	}
	return Result{
		Verdict:        v,
		Environment:    cls.Environment,
		Protected:      cls.Protected,
		PolicyRevision: revision,
		Findings:       []Finding{},
		Exempted:       []Finding{},
		Notices:        []string{},
		Images:         []extract.Image{},
		Error:          msg,
	}
}

// prepare selects the rules of the environment and compiles what they need once.
func prepare(set *policy.Set, cls policy.Classification, now time.Time) ([]*rule, error) {
	var rules []*rule
	for _, pr := range set.RulesFor(cls.Environment) {
		r := &rule{Rule: pr, enforcement: Effective(pr.Enforcement, cls.Protected)}
		for _, ex := range set.ExemptionsFor(pr.Name) {
			x := exemption{Exemption: ex}
			if ex.Expired(now) {
				x.expired = expiredNotice(ex)
			}
			r.exemptions = append(r.exemptions, x)
		}
		if pr.TagPattern != "" {
			r.pattern = set.TagPattern(pr.Name)
			if r.pattern == nil {
				// A Set built without Parse has no compiled pattern; compile it here
				// rather than silently skipping the clause.
				re, err := regexp.Compile(pr.TagPattern)
				if err != nil {
					return nil, fmt.Errorf("rule %s: tagPattern %q: %w (fix the regular expression in the policy)",
						pr.Name, pr.TagPattern, err)
				}
				r.pattern = re
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// evaluation collects the findings of one Evaluate call.
type evaluation struct {
	protected bool
	cls       policy.Classification
	revision  string
	now       time.Time
	verifier  ImageVerifier
	plugins   PluginRunner
	findings  []Finding
	exempted  []Finding
	notices   map[string]bool
}

// image runs every clause of every rule over one image.
func (e *evaluation) image(ctx context.Context, img *extract.Image, rules []*rule) {
	ref, err := parsed(img)
	if err != nil {
		e.findings = append(e.findings, Finding{
			Rule:        RuleValidImageReference,
			Check:       checkValidImageReference,
			Enforcement: Effective(policy.Deny, e.protected),
			Image:       img.Raw,
			Source:      img.Source,
			Message:     "not a valid image reference: " + err.Error(),
			Fix:         "write a reference the runtime can pull: [registry/]repository[:tag][@sha256:<digest>]",
		})
		return
	}
	s := subject{img: img, ref: ref, eval: e}
	var names []string // exemption spellings, computed on the first finding only
	for _, r := range rules {
		for _, c := range checkers {
			vs, err := c.check(ctx, r, s)
			if err != nil {
				vs = []violation{{
					message: fmt.Sprintf("%s check failed: %v", c.name(), err),
					fix:     "fix the cause named in the error; the image passes only once the check can decide",
				}}
			}
			for _, v := range vs {
				if names == nil && len(r.exemptions) > 0 {
					names = spellings(ref)
				}
				e.record(r, c.name(), s, v, names)
			}
		}
	}
}

// record files one violation as a finding, or as exempted when a live exemption covers
// it. Expired exemptions that would have covered it are ignored and noted.
func (e *evaluation) record(r *rule, check string, s subject, v violation, names []string) {
	f := Finding{
		Rule:        r.Name,
		Check:       check,
		Enforcement: r.enforcement,
		Image:       s.img.Raw,
		Source:      s.img.Source,
		Message:     v.message,
		Fix:         v.fix,
	}
	for _, ex := range r.exemptions {
		if ex.expired != "" && e.notices[ex.expired] {
			continue // already noted; an expired exemption decides nothing else
		}
		glob, ok := exemptionMatch(ex.Exemption, names)
		if !ok {
			continue
		}
		if ex.expired != "" {
			e.notices[ex.expired] = true
			continue
		}
		if f.Exemption == nil {
			f.Exemption = &ExemptionUse{Reason: ex.Reason, Owner: ex.Owner, Expires: ex.Expires, Images: glob}
		}
	}
	if f.Exemption != nil {
		e.exempted = append(e.exempted, f)
		return
	}
	e.findings = append(e.findings, f)
}

// parsed returns the image's parsed reference, parsing Raw when the caller left Ref
// unset, so that an image is never skipped for want of a parse.
func parsed(img *extract.Image) (imageref.Ref, error) {
	if img.ParseError != "" {
		return imageref.Ref{}, errors.New(img.ParseError)
	}
	if img.Ref != nil {
		return *img.Ref, nil
	}
	return imageref.Parse(img.Raw)
}

// verdictOf derives the verdict from the counted findings.
func verdictOf(findings []Finding) Verdict {
	v := Allowed
	for _, f := range findings {
		if f.Enforcement == policy.Deny {
			return Denied
		}
		v = Warned
	}
	return v
}

func nonNil(fs []Finding) []Finding {
	if fs == nil {
		return []Finding{}
	}
	return fs
}
