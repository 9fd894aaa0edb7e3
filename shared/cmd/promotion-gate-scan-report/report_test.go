package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sev "github.com/promotion-gate/promotion-gate/shared/severity"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestParseReportGolden parses every fixture in testdata/reports and judges it at the
// default threshold (high); the outcome is compared with testdata/golden/<name>.txt.
func TestParseReportGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/reports/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(in)
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run with -update after checking):\n%s", file, golden, got)
			}
		})
	}
}

func describe(in []byte) string {
	r, err := parseReport(in)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "format: %s\nscanner: %s\n", r.Format, r.Scanner)
	for _, v := range r.Vulns {
		fmt.Fprintf(&b, "%s %s %q\n", v.ID, v.Severity, v.Package)
	}
	p, _ := parseParams(nil)
	if f, bad := judge(r, "sha256:0123456789abcdef0123", p); bad {
		fmt.Fprintf(&b, "finding: %s\nfix: %s\n", f.Message, f.Fix)
	} else {
		b.WriteString("passes\n")
	}
	return b.String()
}

func TestParseSeverityAndScores(t *testing.T) {
	tests := []struct {
		score string
		want  severity
		ok    bool
	}{
		{"9.0", critical, true}, {"8.9", high, true}, {"7", high, true}, {"6.9", medium, true},
		{"4.0", medium, true}, {"3.9", low, true}, {"0.1", low, true}, {"0", sev.None, true},
		{"11", unknown, false}, {"-1", unknown, false}, {"high", unknown, false},
	}
	for _, tt := range tests {
		got, ok := scoreSeverity(tt.score)
		if got != tt.want || ok != tt.ok {
			t.Errorf("scoreSeverity(%q) = %v, %v; want %v, %v", tt.score, got, ok, tt.want, tt.ok)
		}
	}
	for _, s := range []string{"CRITICAL", "high", "Medium", "low", "UNKNOWN"} {
		if _, err := parseSeverity(s); err != nil {
			t.Errorf("parseSeverity(%q): %v", s, err)
		}
	}
	if _, err := parseSeverity("severe"); err == nil || !strings.Contains(err.Error(), "use critical, high, medium, low, none, unknown") {
		t.Errorf("parseSeverity(severe) = %v, want an error naming the choices", err)
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		in   map[string]string
		err  string
		want func(params) bool
	}{
		{in: nil, want: func(p params) bool { return p.threshold == high && len(p.artifactTypes) == 2 }},
		{in: map[string]string{"severity": "critical", "ignore": "CVE-1, CVE-2,"},
			want: func(p params) bool {
				return p.threshold == critical && p.ignore["CVE-1"] && p.ignore["CVE-2"] && len(p.ignore) == 2
			}},
		{in: map[string]string{"artifactTypes": "application/x-report"},
			want: func(p params) bool { return len(p.artifactTypes) == 1 && p.artifactTypes[0] == "application/x-report" }},
		{in: map[string]string{"severity": "severe"}, err: "parameter severity: severity \"severe\""},
		{in: map[string]string{"artifactTypes": " , "}, err: "parameter artifactTypes is empty"},
		{in: map[string]string{"sevrity": "high"}, err: `unknown parameter "sevrity"`},
	}
	for _, tt := range tests {
		p, err := parseParams(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseParams(%v) error = %v, want %q", tt.in, err, tt.err)
			}
		case err != nil:
			t.Errorf("parseParams(%v): %v", tt.in, err)
		case !tt.want(p):
			t.Errorf("parseParams(%v) = %+v", tt.in, p)
		}
	}
}

// FuzzParseReport: no report, however malformed, makes the parser panic, and whatever it
// accepts can be judged.
func FuzzParseReport(f *testing.F) {
	files, _ := filepath.Glob("testdata/reports/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	p, _ := parseParams(map[string]string{"severity": "unknown"})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseReport(in)
		if err != nil {
			return
		}
		for _, v := range r.Vulns {
			if v.ID == "" || v.Severity < unknown || v.Severity > critical {
				t.Fatalf("accepted a vulnerability without ID or with a bad severity: %+v", v)
			}
		}
		if f, bad := judge(r, "sha256:00", p); bad != (len(r.Vulns) > 0) || (bad && f.Message == "") {
			t.Fatalf("judge(%+v) = %+v, %v", r, f, bad)
		}
	})
}
