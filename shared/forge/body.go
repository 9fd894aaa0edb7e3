package forge

import (
	"fmt"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// Verdict is the status state and one-line description of a result: success for
// Allowed and Warned, failure for Denied, error for a result that comes from an
// error (the commit could not be judged and fails closed). The description names
// the verdict, the environment and the first finding; the client shortens it.
func Verdict(res evaluate.Result) (State, string) {
	env := res.Environment
	if env == "" {
		env = "unclassified"
	}
	first := ""
	if len(res.Findings) > 0 {
		f := res.Findings[0]
		first = fmt.Sprintf("; %s: %s", f.Rule, f.Message)
	}
	switch {
	case res.Error != "":
		return Error, fmt.Sprintf("could not judge in %s (fails closed): %s", env, res.Error)
	case res.Verdict == evaluate.Denied:
		return Failure, fmt.Sprintf("Denied in %s: %d finding(s)%s", env, len(res.Findings), first)
	case res.Verdict == evaluate.Warned:
		return Success, fmt.Sprintf("Allowed in %s with %d warning(s)%s", env, len(res.Findings), first)
	case res.Verdict == evaluate.Allowed:
		return Success, fmt.Sprintf("Allowed in %s: no findings", env)
	}
	// A verdict this package does not know counts as Denied (evaluate.Worst does too).
	return Failure, fmt.Sprintf("verdict %q in %s counts as Denied%s", res.Verdict, env, first)
}

// BodyParts are what a pull request body says.
type BodyParts struct {
	// Commit is the proposal head judged, Base the target branch.
	Commit, Base string
	// State is the status posted on Commit, Context its name.
	State   State
	Context string
	// Report is the markdown report of the check (report.Markdown).
	Report string
	// Images are the image references the proposal sets, with their digests.
	Images []string
	// PolicyRevision is the digest of the policy that judged it.
	PolicyRevision string
	// Extra is an optional section appended as it is (a promotion record).
	Extra string
	// Held, when set, is why the gate holds a proposal the policy allowed (it brings
	// back a digest a person rolled back): the first line says so instead of asking
	// for fixes to findings there are none of.
	Held string
}

// Marker opens every body the gate writes, so that people and tools can tell it.
const Marker = "<!-- promotion-gate: this description is written by the gate and replaced at each new proposal commit -->"

// maxBody keeps a body under GitHub's 65,536-character limit; GitLab and Gitea take more.
const maxBody = 60000

// Body is the pull request body: what the gate decided on which commit, the images,
// the policy revision, the markdown report with every finding and its fix, and the
// extra section.
func Body(p BodyParts) string {
	var b strings.Builder
	b.WriteString(Marker + "\n\n")
	switch {
	case p.State == Success:
		fmt.Fprintf(&b, "**Passed** — `%s` on `%s` is allowed by the policy. A person merges it (fast-forward) to promote it to `%s`.\n", short(p.Commit), p.Context, p.Base)
	case p.State == Pending:
		fmt.Fprintf(&b, "**Judging** `%s` — `%s` is pending.\n", short(p.Commit), p.Context)
	case p.State == Error:
		fmt.Fprintf(&b, "**Held** — `%s` could not be judged, so it fails closed: `%s` is error and a branch protection that requires it refuses the merge. See the errors below.\n", short(p.Commit), p.Context)
	case p.Held != "":
		fmt.Fprintf(&b, "**Held** — `%s` %s: `%s` is failure and a branch protection that requires it refuses the merge. See below how to release it.\n", short(p.Commit), p.Held, p.Context)
	default:
		fmt.Fprintf(&b, "**Held** — `%s` breaks the policy: `%s` is failure and a branch protection that requires it refuses the merge. Fix the findings below; the automation's next push updates this pull request.\n", short(p.Commit), p.Context)
	}
	if len(p.Images) > 0 {
		b.WriteString("\n### Images\n\n")
		for _, img := range p.Images {
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(img, "`", "'"))
		}
	}
	if p.PolicyRevision != "" {
		fmt.Fprintf(&b, "\nPolicy revision: `%s`\n", p.PolicyRevision)
	}
	if r := strings.TrimSpace(p.Report); r != "" {
		b.WriteString("\n" + r + "\n")
	}
	if e := strings.TrimSpace(p.Extra); e != "" {
		b.WriteString("\n" + e + "\n")
	}
	s := b.String()
	if len(s) > maxBody {
		s = strings.ToValidUTF8(s[:maxBody], "") + "\n\n…(cut to fit the forge's limit: the gate's status and events carry every finding)\n"
	}
	return s
}

// Title is the pull request title.
func Title(proposal, base, env string) string {
	if env == "" {
		return fmt.Sprintf("Promote %s to %s", proposal, base)
	}
	return fmt.Sprintf("Promote %s to %s (%s)", proposal, base, env)
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
