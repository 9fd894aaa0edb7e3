package profile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture reads a predicate from testdata/predicates.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "predicates", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

// render is the golden view of a profile's answer: one line per violation and its fix.
func render(scanned time.Time, vs []evaluate.Violation, err error) []byte {
	var b strings.Builder
	if err != nil {
		b.WriteString("error: " + err.Error() + "\n")
	}
	if !scanned.IsZero() {
		b.WriteString("scanned: " + scanned.Format(time.RFC3339Nano) + "\n")
	}
	if err == nil && len(vs) == 0 {
		b.WriteString("pass\n")
	}
	for _, v := range vs {
		b.WriteString("violation: " + v.Message + "\n    fix: " + v.Fix + "\n")
	}
	return []byte(b.String())
}

// checkGolden compares got with testdata/golden/<name>.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	g := NewWithT(t)
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		g.Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred(), "run go test -update to create %s", path)
	g.Expect(string(got)).To(Equal(string(want)), "run go test -update to accept the new output of %s", path)
}

// checkOneLine holds for every answer, fuzzed or not: messages, fixes and errors are
// one non-empty line each, since they end up in a finding.
func checkOneLine(t *testing.T, vs []evaluate.Violation, err error) {
	t.Helper()
	for _, v := range vs {
		if v.Message == "" || v.Fix == "" {
			t.Fatalf("violation without message or fix: %+v", v)
		}
		if strings.ContainsAny(v.Message+v.Fix, "\n\r") {
			t.Fatalf("violation is not one line: %+v", v)
		}
	}
	if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error is not one line: %q", err)
	}
}
