package cmp

import (
	"fmt"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// MaxFindingLines is how many findings a message lists before "... and N more": the
// Argo CD UI shows the whole error text, and a person reads the first screen of it.
const MaxFindingLines = 20

// maxLineBytes keeps one runaway error (a Helm template error quoting a whole file) from
// filling the message.
const maxLineBytes = 2000

// Refusal is the whole stderr of a refused render, which Argo CD shows as the
// application's ComparisonError: a first line that says the render was refused, for
// which environment and how many findings, then one line per finding with its fix, or
// one line with the error when the check itself failed (fail closed).
func Refusal(appPath string, res evaluate.Result) string {
	var b strings.Builder
	if res.Error != "" {
		fmt.Fprintf(&b, "promotion-gate refused to render %s for %s: the check failed, and %s\n",
			appPath, environmentLabel(res), failMode(res))
		writeBecause(&b, res)
		fmt.Fprintf(&b, "- %s\n", oneLine(res.Error))
		return b.String()
	}
	fmt.Fprintf(&b, "promotion-gate refused to render %s for %s: %s%s\n",
		appPath, environmentLabel(res), countFindings(len(res.Findings)), policyLabel(res))
	writeBecause(&b, res)
	writeFindings(&b, res.Findings)
	return b.String()
}

// Warnings is what a render that goes ahead writes to stderr: findings that are not
// enforced in this environment, and notices such as an expired exemption. Argo CD logs
// it in the sidecar; it is empty when there is nothing to say.
func Warnings(appPath string, res evaluate.Result) string {
	var b strings.Builder
	if len(res.Findings) > 0 {
		fmt.Fprintf(&b, "promotion-gate: warning: %s for %s: %s, not enforced there%s\n",
			appPath, environmentLabel(res), countFindings(len(res.Findings)), policyLabel(res))
		writeFindings(&b, res.Findings)
	}
	for _, n := range res.Notices {
		fmt.Fprintf(&b, "promotion-gate: notice: %s\n", oneLine(n))
	}
	return b.String()
}

// Failure is the stderr of a render that could not be produced outside a protected
// environment: there is nothing to hand to Argo CD, so it fails too, with the reason.
func Failure(appPath string, res evaluate.Result) string {
	return fmt.Sprintf("promotion-gate could not render %s for %s\n- %s\n", appPath, environmentLabel(res), oneLine(res.Error))
}

// Invalid is the stderr of a request the plugin cannot even classify: bad parameters or
// settings. It fails whatever the environment would have been.
func Invalid(appPath string, err error) string {
	return fmt.Sprintf("promotion-gate refused to render %s: the request is invalid\n- %s\n", appPath, oneLine(err.Error()))
}

func writeFindings(b *strings.Builder, findings []evaluate.Finding) {
	for i, f := range findings {
		if i == MaxFindingLines {
			fmt.Fprintf(b, "... and %d more\n", len(findings)-MaxFindingLines)
			break
		}
		b.WriteString(FindingLine(f))
		b.WriteByte('\n')
	}
}

// FindingLine is one finding on one line: the resource, the container (or field), the
// image, the rule, what is wrong and the fix.
func FindingLine(f evaluate.Finding) string {
	var b strings.Builder
	b.WriteString("- ")
	b.WriteString(resourceLabel(f))
	switch {
	case f.Source.Container != "":
		fmt.Fprintf(&b, ", container %s", f.Source.Container)
	case f.Source.FieldPath != "":
		fmt.Fprintf(&b, ", field %s", f.Source.FieldPath)
	}
	fmt.Fprintf(&b, ", image %s: rule %s", f.Image, f.Rule)
	if f.Enforcement == "warn" {
		b.WriteString(" (warn)")
	}
	fmt.Fprintf(&b, ": %s; fix: %s", f.Message, f.Fix)
	if at := editAt(f.Source); at != "" {
		fmt.Fprintf(&b, "; set in %s", at)
	}
	return oneLine(b.String())
}

func resourceLabel(f evaluate.Finding) string {
	s := f.Source
	name := s.Name
	if s.Namespace != "" {
		name = s.Namespace + "/" + s.Name
	}
	switch {
	case s.Kind != "" && name != "":
		return s.Kind + " " + name
	case s.Kind != "":
		return s.Kind
	case s.File != "":
		return fmt.Sprintf("%s (document %d)", s.File, s.Document)
	}
	return fmt.Sprintf("document %d", s.Document)
}

// writeBecause says why the render counts as its environment when the application's
// own path, name and namespace do not: a file it read, a namespace it renders into.
func writeBecause(b *strings.Builder, res evaluate.Result) {
	for _, why := range res.Because {
		fmt.Fprintf(b, "- counted as %s because %s\n", res.Environment, oneLine(why))
	}
}

func environmentLabel(res evaluate.Result) string {
	if res.Environment == "" {
		if res.Protected {
			return "an unclassified environment (treated as protected)"
		}
		return "an unclassified environment"
	}
	if res.Protected {
		return fmt.Sprintf("environment %q (protected)", res.Environment)
	}
	return fmt.Sprintf("environment %q", res.Environment)
}

func failMode(res evaluate.Result) string {
	if res.Protected {
		return "a protected environment fails closed"
	}
	return "there is nothing to render"
}

func policyLabel(res evaluate.Result) string {
	rev := strings.TrimPrefix(res.PolicyRevision, "sha256:")
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return " (policy " + rev + ")"
}

func countFindings(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

// oneLine folds an error that spans lines into one, and caps its length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxLineBytes {
		s = strings.ToValidUTF8(s[:maxLineBytes], "") + " ..."
	}
	return s
}
