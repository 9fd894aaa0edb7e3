package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var goldenNames = map[report.Format]string{
	report.Text:     "report.txt",
	report.JSON:     "report.json",
	report.Markdown: "report.md",
	report.SARIF:    "report.sarif",
}

func TestGolden(t *testing.T) {
	for _, format := range report.Formats() {
		t.Run(string(format), func(t *testing.T) {
			g := NewWithT(t)
			var buf bytes.Buffer
			g.Expect(report.Write(&buf, format, fixture())).To(Succeed())
			path := filepath.Join("testdata", goldenNames[format])
			if *update {
				g.Expect(os.WriteFile(path, buf.Bytes(), 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(path)
			g.Expect(err).NotTo(HaveOccurred(), "run go test ./report/ -update to create %s", path)
			g.Expect(buf.String()).To(Equal(string(want)), "output differs from %s; if intended, rerun with -update", path)
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    report.Format
		wantErr string
	}{
		{"text", report.Text, ""},
		{"JSON", report.JSON, ""},
		{" markdown ", report.Markdown, ""},
		{"sarif", report.SARIF, ""},
		{"xml", "", `unknown output format "xml": use one of text, json, markdown, sarif`},
		{"", "", `unknown output format ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			g := NewWithT(t)
			got, err := report.ParseFormat(tt.in)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestFormatFlag(t *testing.T) {
	g := NewWithT(t)
	f := report.Text
	g.Expect(f.Set("sarif")).To(Succeed())
	g.Expect(f.String()).To(Equal("sarif"))
	g.Expect(f.Type()).To(Equal("format"))
	g.Expect(f.Set("yaml")).NotTo(Succeed())
	g.Expect(f).To(Equal(report.SARIF))
}

func TestWriteErrors(t *testing.T) {
	g := NewWithT(t)
	g.Expect(report.Write(&bytes.Buffer{}, "yaml", nil)).To(MatchError(ContainSubstring(`unknown output format "yaml"`)))
	g.Expect(report.Write(failingWriter{}, report.JSON, fixture())).To(MatchError(ContainSubstring("write json report: disk full")))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestOverall(t *testing.T) {
	tests := []struct {
		verdicts []evaluate.Verdict
		want     evaluate.Verdict
	}{
		{nil, evaluate.Allowed},
		{[]evaluate.Verdict{evaluate.Allowed, evaluate.Allowed}, evaluate.Allowed},
		{[]evaluate.Verdict{evaluate.Allowed, evaluate.Warned}, evaluate.Warned},
		{[]evaluate.Verdict{evaluate.Denied, evaluate.Warned}, evaluate.Denied},
		{[]evaluate.Verdict{evaluate.Allowed, ""}, evaluate.Denied},
	}
	for _, tt := range tests {
		var targets []report.Target
		for _, v := range tt.verdicts {
			targets = append(targets, report.Target{Result: evaluate.Result{Verdict: v}})
		}
		if got := report.Overall(targets); got != tt.want {
			t.Errorf("Overall(%v) = %s, want %s", tt.verdicts, got, tt.want)
		}
	}
}

// TestJSONStable checks the v1 promise that every field is present, lists are never
// null, even for a zero Result.
func TestJSONStable(t *testing.T) {
	g := NewWithT(t)
	var buf bytes.Buffer
	g.Expect(report.Write(&buf, report.JSON, []report.Target{{Path: "x"}})).To(Succeed())
	var doc map[string]any
	g.Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
	g.Expect(doc).To(HaveKeyWithValue("schemaVersion", report.SchemaVersion))
	res := doc["results"].([]any)[0].(map[string]any)
	for _, key := range []string{"target", "verdict", "environment", "protected", "policyRevision", "error"} {
		g.Expect(res).To(HaveKey(key))
	}
	for _, key := range []string{"findings", "exempted", "notices", "images"} {
		g.Expect(res[key]).To(Equal([]any{}), key)
	}

	buf.Reset()
	g.Expect(report.Write(&buf, report.JSON, nil)).To(Succeed())
	g.Expect(buf.String()).To(ContainSubstring(`"results": []`))
}

// TestSARIFShape checks the parts of SARIF 2.1.0 that code scanning relies on.
func TestSARIFShape(t *testing.T) {
	g := NewWithT(t)
	var buf bytes.Buffer
	g.Expect(report.Write(&buf, report.SARIF, fixture())).To(Succeed())
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
			Results []struct {
				RuleID       string            `json:"ruleId"`
				RuleIndex    int               `json:"ruleIndex"`
				Level        string            `json:"level"`
				Suppressions []json.RawMessage `json:"suppressions"`
				Locations    []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	g.Expect(json.Unmarshal(buf.Bytes(), &log)).To(Succeed())
	g.Expect(log.Version).To(Equal("2.1.0"))
	g.Expect(log.Runs).To(HaveLen(1))
	run := log.Runs[0]
	g.Expect(run.Tool.Driver.Name).To(Equal("promotion-gate"))
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
		g.Expect(r.Help.Text).NotTo(BeEmpty())
	}
	g.Expect(ids).To(Equal([]string{"approved-registry", "prod-immutable-images", "valid-image-reference"}))
	g.Expect(run.Invocations[0].ExecutionSuccessful).To(BeFalse(), "one target failed to render")
	g.Expect(run.Results).To(HaveLen(5))
	levels := map[string]int{}
	suppressed := 0
	for _, r := range run.Results {
		g.Expect(ids[r.RuleIndex]).To(Equal(r.RuleID))
		levels[r.Level]++
		suppressed += len(r.Suppressions)
		loc := r.Locations[0]
		g.Expect(loc.PhysicalLocation.ArtifactLocation.URI).NotTo(BeEmpty())
		g.Expect(loc.LogicalLocations).NotTo(BeEmpty())
		if strings.Contains(loc.LogicalLocations[len(loc.LogicalLocations)-1].FullyQualifiedName, "containers[1]") {
			g.Expect(loc.PhysicalLocation.Region).To(BeNil(), "no line known for the proxy image")
		} else {
			g.Expect(loc.PhysicalLocation.Region).NotTo(BeNil())
		}
	}
	g.Expect(levels).To(Equal(map[string]int{"error": 4, "warning": 1}))
	g.Expect(suppressed).To(Equal(1))
}
