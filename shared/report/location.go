package report

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
)

// clean makes untrusted text safe to print on one line: image references, file names
// and parse errors come from the repository under check, and a newline, a terminal
// escape sequence or a bidirectional override in them must not forge or hide report
// lines. Such characters are shown as Go escapes (\n, \x1b, \u202e).
func clean(s string) string {
	safe := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unicode.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// fileLine is "file:line", or the file alone when the line is unknown, and the Helm
// values key when the file is a values file: "values-prod.yaml:6 (image.digest)".
func fileLine(src extract.Source) string {
	s := src.File
	if src.Line > 0 {
		s = fmt.Sprintf("%s:%d", src.File, src.Line)
	}
	if src.ValuesKey != "" {
		s += " (" + src.ValuesKey + ")"
	}
	return s
}

// object names the Kubernetes object: "Deployment payments/payments-api".
func object(src extract.Source) string {
	name := src.Name
	if src.Namespace != "" {
		name = src.Namespace + "/" + name
	}
	switch {
	case src.Kind != "" && name != "":
		return src.Kind + " " + name
	case src.Kind != "":
		return src.Kind
	case name != "":
		return name
	}
	return fmt.Sprintf("document %d", src.Document)
}

// place names where in the object the image is: "container api
// (spec.template.spec.containers[0].image)", or the field path alone.
func place(src extract.Source) string {
	switch {
	case src.Container != "" && src.FieldPath != "":
		return fmt.Sprintf("container %s (%s)", src.Container, src.FieldPath)
	case src.Container != "":
		return "container " + src.Container
	}
	return src.FieldPath
}

// qualifiedName is a slash-separated path to the object, for machine consumers:
// "Deployment/payments/payments-api".
func qualifiedName(src extract.Source) string {
	parts := []string{}
	for _, p := range []string{src.Kind, src.Namespace, src.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("document/%d", src.Document)
	}
	return strings.Join(parts, "/")
}

// environment describes the classification: "environment prod, protected".
func environment(r evaluate.Result) string {
	prot := "unprotected"
	if r.Protected {
		prot = "protected"
	}
	if r.Environment == "" {
		return "unclassified, " + prot
	}
	return "environment " + r.Environment + ", " + prot
}

// plural is "1 finding" or "2 findings".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// exemptionText says why and until when a finding was let through.
func exemptionText(u *evaluate.ExemptionUse) string {
	if u == nil {
		return ""
	}
	until := "no expiry"
	if u.Expires != "" {
		until = "expires " + u.Expires
	}
	owner := u.Owner
	if owner == "" {
		owner = "unknown"
	}
	return fmt.Sprintf("%s (owner %s, %s)", u.Reason, owner, until)
}
