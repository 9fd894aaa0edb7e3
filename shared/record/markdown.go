package record

import (
	"fmt"
	"strings"
	"time"
)

// Subject is the tag message's first line: what happened, in one line.
func Subject(r Record) string {
	env := r.Environment
	if env == "" {
		env = "unclassified"
	}
	switch r.Kind {
	case Rollback:
		return fmt.Sprintf("Rollback on %s (%s): %s removed by %s", r.Branch, env, strings.Join(shorts(r.Digests()), ", "), short(r.Commit))
	default:
		what := "no image change"
		if len(r.Images) > 0 {
			what = strings.Join(imageNames(r.Images), ", ")
		}
		return fmt.Sprintf("Promote %s to %s (%s)", what, r.Branch, env)
	}
}

// Markdown is the record's prose: the four questions of an audit — what artifact,
// which files, who approved, which commit rolls it back — answered for a person. It
// is the tag message's prose and what `promotion-gate history show` and a pull
// request body print.
func Markdown(r Record) string {
	var b strings.Builder
	title := "Promotion to"
	if r.Kind == Rollback {
		title = "Rollback on"
	}
	fmt.Fprintf(&b, "## %s %s (%s)\n\n", title, r.Branch, envText(r))
	fmt.Fprintf(&b, "- Commit: %s\n", r.Commit)
	fmt.Fprintf(&b, "- Time: %s\n", r.Time.UTC().Format(time.RFC3339))
	if r.Repository != "" {
		fmt.Fprintf(&b, "- Repository: %s\n", r.Repository)
	}
	b.WriteString("\n")

	if r.Kind == Rollback {
		writeRollback(&b, r)
		return b.String()
	}

	b.WriteString("### What was promoted\n\n")
	if len(r.Images) == 0 {
		b.WriteString("No image reference changed.\n")
	}
	for _, img := range r.Images {
		fmt.Fprintf(&b, "- `%s`\n", img.Reference)
	}
	b.WriteString("\n### Which files changed\n\n")
	if len(r.Files) == 0 {
		b.WriteString("None recorded.\n")
	}
	for _, f := range r.Files {
		fmt.Fprintf(&b, "- `%s`\n", f)
	}
	b.WriteString("\n### Who approved\n\n")
	if r.Approval != nil && r.Approval.PullRequest != nil {
		writePullRequest(&b, r.Approval.PullRequest)
	}
	if v := r.Verdict; v != nil {
		fmt.Fprintf(&b, "- Verdict: %s under policy %s", v.Result, orNone(v.PolicyRevision))
		if len(v.Policy) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(v.Policy, ", "))
		}
		b.WriteString("\n")
		if len(v.RulesPassed) > 0 {
			fmt.Fprintf(&b, "- Rules passed: %s\n", strings.Join(v.RulesPassed, ", "))
		}
		for _, w := range v.Warnings {
			fmt.Fprintf(&b, "- Warning let through: %s\n", w)
		}
	}
	if a := r.Approval; a != nil {
		fmt.Fprintf(&b, "- Gate: %s, acting as %s\n", a.Gate, a.Identity)
		if a.Proposal != "" {
			fmt.Fprintf(&b, "- Proposed on branch %s\n", a.Proposal)
		}
		if s := a.Source; s != nil {
			fmt.Fprintf(&b, "- Source: %s at %s, written by %s", s.Branch, s.Commit, orNone(s.Author))
			if s.Signer != "" {
				fmt.Fprintf(&b, ", signed by %s", s.Signer)
			} else {
				b.WriteString(", signature not verified")
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n### Which commit rolls it back\n\n")
	writeRollbackPoint(&b, r)
	return b.String()
}

// writePullRequest answers "who approved" with people's names first: the gate
// decided, a person merged.
func writePullRequest(b *strings.Builder, pr *PullRequest) {
	link := fmt.Sprintf("pull request #%d", pr.Number)
	switch {
	case pr.Number == 0:
		link = "this pull request" // the body of a pull request about to be opened
	case pr.URL != "":
		link = fmt.Sprintf("pull request [#%d](%s)", pr.Number, pr.URL)
	}
	if pr.MergedBy == "" {
		fmt.Fprintf(b, "- Through %s, not merged yet: whoever merges it and whoever approves it are named here when it is\n", link)
		return
	}
	fmt.Fprintf(b, "- Merged by %s, through %s", pr.MergedBy, link)
	if pr.MergeCommit != "" {
		fmt.Fprintf(b, " (merge commit %s)", pr.MergeCommit)
	}
	b.WriteString("\n")
	if len(pr.ApprovedBy) > 0 {
		fmt.Fprintf(b, "- Approved by %s\n", strings.Join(pr.ApprovedBy, ", "))
	} else {
		b.WriteString("- No approval stood on the pull request when it was merged\n")
	}
}

func writeRollback(b *strings.Builder, r Record) {
	rb := r.Rollback
	if rb == nil {
		rb = &RollbackInfo{}
	}
	b.WriteString("### What was rolled back\n\n")
	for _, d := range rb.Digests {
		fmt.Fprintf(b, "- `%s`\n", d)
	}
	if rb.Promotion != "" || rb.PromotedCommit != "" {
		fmt.Fprintf(b, "\nPromoted by %s (commit %s).\n", orNone(rb.Promotion), orNone(rb.PromotedCommit))
	}
	b.WriteString("\n### Who rolled it back\n\n")
	fmt.Fprintf(b, "- %s, in commit %s", orNone(rb.Author), r.Commit)
	if rb.Subject != "" {
		fmt.Fprintf(b, " (%q)", rb.Subject)
	}
	b.WriteString("\n")
	if len(r.Files) > 0 {
		b.WriteString("\n### Which files changed\n\n")
		for _, f := range r.Files {
			fmt.Fprintf(b, "- `%s`\n", f)
		}
	}
	b.WriteString("\nThe gate holds any later proposal that brings these digests back, until it is released\n" +
		"(annotation promotion-gate.io/release-rollback on the PromotionGate, or a policy exemption\n" +
		"from rule rolled-back, naming the digest).\n")
	b.WriteString("\n### Which commit undoes the rollback\n\n")
	writeRollbackPoint(b, r)
}

func writeRollbackPoint(b *strings.Builder, r Record) {
	if r.RollbackCommit == "" {
		b.WriteString("None: this is the branch's first commit.\n")
		return
	}
	landed := r.Landed()
	if r.Approval != nil && r.Approval.PullRequest != nil && r.Approval.PullRequest.RollbackFrom == RollbackFromLastJudged {
		fmt.Fprintf(b, "%s (the head of %s the gate judged the pull request against; a fast-forward merge does not say which head it replaced: if %s moved between the verdict and the merge, the rollback point is the head it moved to): `git revert %s` on %s, or reset the branch to it.\n",
			r.RollbackCommit, r.Branch, r.Branch, short(landed), r.Branch)
		return
	}
	revert := "`git revert " + short(landed) + "`"
	if landed != r.Commit {
		revert = "`git revert -m 1 " + short(landed) + "`"
	}
	fmt.Fprintf(b, "%s (the head of %s before this change): %s on %s, or reset the branch to it.\n",
		r.RollbackCommit, r.Branch, revert, r.Branch)
}

func envText(r Record) string {
	env := r.Environment
	if env == "" {
		env = "unclassified"
	}
	if r.Protected {
		env += ", protected"
	}
	return env
}

func imageNames(imgs []Image) []string {
	out := make([]string, 0, len(imgs))
	for _, img := range imgs {
		ref := img.Reference
		if i := strings.LastIndex(ref, "@"); i >= 0 {
			ref = ref[:i]
		}
		if i := strings.LastIndex(ref, "/"); i >= 0 {
			ref = ref[i+1:]
		}
		out = append(out, ref)
	}
	return out
}

func shorts(digests []string) []string {
	out := make([]string, 0, len(digests))
	for _, d := range digests {
		if i := strings.Index(d, ":"); i >= 0 && len(d) > i+13 {
			d = d[:i+13]
		}
		out = append(out, d)
	}
	return out
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
