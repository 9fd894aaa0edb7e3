package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// untrusted builds one target whose image, message and file come from the repository
// under check (or a fuzzer).
func untrusted(image, message, file string) []report.Target {
	src := extract.Source{File: file, Kind: "Deployment", Name: "x", Container: "c",
		FieldPath: "spec.template.spec.containers[0].image"}
	f := evaluate.Finding{Rule: "r", Check: "denyTags", Enforcement: policy.Deny, Image: image, Source: src,
		Message: message, Fix: "fix " + image}
	return []report.Target{{Path: file, Result: evaluate.Result{
		Verdict: evaluate.Denied, Environment: "prod", Protected: true,
		Findings: []evaluate.Finding{f}, Images: []extract.Image{{Raw: image, Source: src}},
	}}}
}

// checkUntrusted asserts that hostile text cannot change the shape of any report.
func checkUntrusted(t *testing.T, image, message, file string) {
	t.Helper()
	targets := untrusted(image, message, file)
	// The benign twin keeps what is empty empty: a finding without a file or an image (a
	// promotion's commit finding) is laid out without those lines, by design.
	like := func(s, plain string) string {
		if s == "" {
			return ""
		}
		return plain
	}
	benign := untrusted(like(image, "img"), like(message, "msg"), like(file, "f.yaml"))
	for _, format := range report.Formats() {
		var got, want bytes.Buffer
		if err := report.Write(&got, format, targets); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := report.Write(&want, format, benign); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		switch format {
		case report.Text, report.Markdown:
			if g, w := strings.Count(got.String(), "\n"), strings.Count(want.String(), "\n"); g != w {
				t.Fatalf("%s: %d lines, want %d:\n%s", format, g, w, got.String())
			}
			for _, r := range got.String() {
				if r != '\n' && !unicode.IsPrint(r) {
					t.Fatalf("%s: unprintable %U in output:\n%q", format, r, got.String())
				}
			}
			if format == report.Markdown {
				for i, line := range strings.Split(got.String(), "\n") {
					wantLine := strings.Split(want.String(), "\n")[i]
					if g, w := cells(line), cells(wantLine); g != w {
						t.Fatalf("markdown line %d has %d cells, want %d: %q", i, g, w, line)
					}
				}
			}
		case report.JSON, report.SARIF:
			if !json.Valid(got.Bytes()) {
				t.Fatalf("%s: invalid JSON:\n%s", format, got.String())
			}
			if format == report.JSON {
				var doc struct {
					Results []struct {
						Findings []struct{ Image string } `json:"findings"`
					} `json:"results"`
				}
				if err := json.Unmarshal(got.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if image == strings.ToValidUTF8(image, "\uFFFD") && doc.Results[0].Findings[0].Image != image {
					t.Fatalf("image %q came back as %q", image, doc.Results[0].Findings[0].Image)
				}
			}
		}
	}
}

// cells counts the unescaped pipes of a markdown line.
func cells(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestUntrustedText(t *testing.T) {
	tests := []struct{ image, message, file string }{
		{"evil\x1b[2J\nfix: all good", "msg\r\n| x | y |", "a|b.yaml"},
		{"ghcr.io/x\u202e/app", "`code` *bold* <b>html</b> @someone", "dir/with space.yaml"},
		{"\xff\xfe", "tab\there", "nul\x00.yaml"},
		{"back\\slash|", "ends with backslash\\", "x.yaml"},
	}
	for _, tt := range tests {
		checkUntrusted(t, tt.image, tt.message, tt.file)
	}
	g := NewWithT(t)
	var buf bytes.Buffer
	g.Expect(report.Write(&buf, report.Markdown, untrusted("a", "<digest> @team", "f"))).To(Succeed())
	g.Expect(buf.String()).To(ContainSubstring("&lt;digest&gt; &#64;team"))
}

func FuzzReport(f *testing.F) {
	f.Add("ghcr.io/example/app:1.0", "not pinned", "apps/x/deployment.yaml")
	f.Add("a|b`c", "<x>|\n", "f|g")
	f.Fuzz(func(t *testing.T, image, message, file string) {
		checkUntrusted(t, image, message, file)
	})
}
