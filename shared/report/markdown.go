package report

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// writeMarkdown writes a pull request comment: a heading with the overall verdict, a
// summary table with one row per target, a findings table, then exempted findings,
// notices and errors when there are any.
func writeMarkdown(b *bytes.Buffer, targets []Target) {
	c := tally(targets)
	fmt.Fprintf(b, "## promotion-gate: %s\n\n", Overall(targets))
	fmt.Fprintf(b, "%s checked: %d denied, %d warned, %d allowed.\n\n",
		plural(len(targets), "target"), c.denied, c.warned, c.allowed)

	b.WriteString("| Target | Environment | Verdict | Findings | Exempted | Images | Policy |\n")
	b.WriteString("| --- | --- | --- | ---: | ---: | ---: | --- |\n")
	for _, t := range targets {
		r := t.Result
		env := "unclassified"
		if r.Environment != "" {
			env = mdCode(r.Environment)
		}
		if r.Protected {
			env += " (protected)"
		}
		fmt.Fprintf(b, "| %s | %s | **%s** | %d | %d | %d | %s |\n", mdCode(t.Path), env, mdText(string(r.Verdict)),
			len(r.Findings), len(r.Exempted), len(r.Images), mdCode(shortRevision(r.PolicyRevision)))
	}

	var findings, exempted []row
	for _, t := range targets {
		for _, f := range t.Result.Findings {
			findings = append(findings, row{t.Path, f})
		}
		for _, f := range t.Result.Exempted {
			exempted = append(exempted, row{t.Path, f})
		}
	}
	if len(findings) > 0 {
		b.WriteString("\n### Findings\n\n")
		b.WriteString("| Level | Target | Rule | Image | Where | Problem | Fix |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, r := range findings {
			f := r.finding
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdText(string(f.Enforcement)),
				mdCode(r.target), mdCode(f.Rule), mdCode(f.Image), mdWhere(f), mdText(f.Message), mdText(f.Fix))
		}
	}
	if len(exempted) > 0 {
		b.WriteString("\n### Exempted\n\n")
		b.WriteString("| Target | Rule | Image | Where | Problem | Exemption |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
		for _, r := range exempted {
			f := r.finding
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdCode(r.target), mdCode(f.Rule),
				mdCode(f.Image), mdWhere(f), mdText(f.Message), mdText(exemptionText(f.Exemption)))
		}
	}
	var notices, errs []string
	for _, t := range targets {
		for _, why := range t.Result.Because {
			notices = append(notices, fmt.Sprintf("- %s: counted as %s: %s\n", mdCode(t.Path), mdText(t.Result.Environment), mdText(why)))
		}
		for _, n := range t.Result.Notices {
			notices = append(notices, fmt.Sprintf("- %s: %s\n", mdCode(t.Path), mdText(n)))
		}
		if t.Result.Error != "" {
			errs = append(errs, fmt.Sprintf("- %s: %s\n", mdCode(t.Path), mdText(t.Result.Error)))
		}
	}
	if len(notices) > 0 {
		b.WriteString("\n### Notices\n\n" + strings.Join(notices, ""))
	}
	if len(errs) > 0 {
		b.WriteString("\n### Errors\n\n" + strings.Join(errs, ""))
	}
}

// row is one finding of one target in a table that spans targets.
type row struct {
	target  string
	finding evaluate.Finding
}

// mdWhere is the location cell: file and line, object, container or field path.
func mdWhere(f evaluate.Finding) string {
	s := mdCode(fileLine(f.Source)) + " " + mdText(object(f.Source))
	if p := place(f.Source); p != "" {
		s += ", " + mdText(p)
	}
	return s
}

// shortRevision keeps a policy revision readable in a table: "sha256:0123456789ab".
func shortRevision(rev string) string {
	if rev == "" {
		return "none"
	}
	if i := strings.IndexByte(rev, ':'); i >= 0 && len(rev) > i+13 {
		return rev[:i+13]
	}
	return rev
}

// mdEscaper escapes text for a GFM table cell: the pipe ends a cell, markdown syntax
// would format or link, HTML would be interpreted (or hidden, like "<digest>"), and '@'
// would mention a user.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"~", `\~`, "&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "&#64;",
)

// mdText escapes plain text for a table cell or list item.
func mdText(s string) string { return mdEscaper.Replace(clean(s)) }

// mdCode puts s in a code span for a table cell. Backticks inside get a longer fence;
// pipes are escaped, which GFM requires even inside code spans in tables. Text with a
// backslash is written as escaped text instead: a backslash before a pipe would escape
// the escape, and backslashes cannot be escaped inside a code span.
func mdCode(s string) string {
	s = clean(s)
	if strings.Contains(s, `\`) {
		return mdEscaper.Replace(s)
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return ""
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || fence != "`" {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
