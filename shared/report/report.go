// Package report writes evaluation results for people and machines: text for a
// terminal, JSON with a stable documented schema, markdown for a pull request comment,
// and SARIF 2.1.0 for code scanning. Every format says, for each finding, where the image
// came from, which rule it broke and how to fix it.
package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// Target is one checked path and its result.
type Target struct {
	// Path is what was checked, as the user named it (an application path, a commit).
	Path   string
	Result evaluate.Result
}

// Format names an output format.
type Format string

const (
	// Text is for people at a terminal.
	Text Format = "text"
	// JSON follows the schema promotion-gate.io/report/v1 (see docs/policy.md).
	JSON Format = "json"
	// Markdown is a pull request comment: a summary table and a findings table.
	Markdown Format = "markdown"
	// SARIF is SARIF 2.1.0 for code scanning.
	SARIF Format = "sarif"
)

// Formats returns every format, in the order the CLI lists them.
func Formats() []Format { return []Format{Text, JSON, Markdown, SARIF} }

// ParseFormat returns the format with that name (case does not matter).
func ParseFormat(s string) (Format, error) {
	want := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, f := range Formats() {
		if f == want {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q: use one of %s", s, formatList())
}

func formatList() string {
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// String returns the format name.
func (f Format) String() string { return string(f) }

// Set parses a format name, so that *Format serves as a command-line flag value.
func (f *Format) Set(s string) error {
	parsed, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = parsed
	return nil
}

// Type names the flag value type in command-line help.
func (f *Format) Type() string { return "format" }

// Write writes the targets' results to w in the given format. The whole report is built
// before anything is written, so a failure never leaves half a JSON document behind.
func Write(w io.Writer, format Format, targets []Target) error {
	var buf bytes.Buffer
	var err error
	switch format {
	case Text:
		writeText(&buf, targets)
	case JSON:
		err = writeJSON(&buf, targets)
	case Markdown:
		writeMarkdown(&buf, targets)
	case SARIF:
		err = writeSARIF(&buf, targets)
	default:
		return fmt.Errorf("write report: unknown output format %q: use one of %s", format, formatList())
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// Overall is the verdict of a run over several targets: the worst of theirs (Denied over
// Warned over Allowed). A run with no targets is Allowed.
func Overall(targets []Target) evaluate.Verdict {
	v := evaluate.Allowed
	for _, t := range targets {
		// evaluate.Worst ranks an unknown verdict as Denied: it is not an allowance.
		v = evaluate.Worst(v, t.Result.Verdict)
	}
	return v
}

// counts tallies the verdicts of the targets.
type counts struct{ allowed, warned, denied int }

func tally(targets []Target) counts {
	var c counts
	for _, t := range targets {
		switch t.Result.Verdict {
		case evaluate.Allowed:
			c.allowed++
		case evaluate.Warned:
			c.warned++
		default:
			c.denied++
		}
	}
	return c
}
