package charts

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from the charts")

// TestRenderGolden renders every case and compares the manifest and NOTES.txt with
// testdata/golden/<chart>/<case>.yaml and .NOTES.txt (go test -update rewrites them).
func TestRenderGolden(t *testing.T) {
	for _, c := range allCases(t) {
		t.Run(c.String(), func(t *testing.T) {
			g := NewWithT(t)
			r := renderCase(t, c)
			g.Expect(r.Objects).NotTo(BeEmpty(), "the chart rendered no object")
			compareGolden(t, filepath.Join("testdata", "golden", c.Chart, c.Name+".yaml"), r.Manifest)
			compareGolden(t, filepath.Join("testdata", "golden", c.Chart, c.Name+".NOTES.txt"), r.Notes)
		})
	}
}

// TestLint runs Helm's linter (the SDK behind `helm lint`) on every case: a warning fails
// as an error does.
func TestLint(t *testing.T) {
	for _, c := range allCases(t) {
		t.Run(c.String(), func(t *testing.T) {
			result := lint.AllWithKubeVersion(c.Dir(), c.Values(t), c.Namespace(), kubeVersion)
			for _, m := range result.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint %s: %s", c, m)
				} else {
					t.Logf("helm lint %s: %s", c, m)
				}
			}
		})
	}
}

// compareGolden compares got with the golden file, or rewrites it under -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./charts/ -update to create it)", path, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the rendered chart (review the change, then run go test ./charts/ -update):\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		fmt.Fprintf(&b, "line %d:\n  golden:   %s\n  rendered: %s\n", i+1, wl, gl)
		if shown++; shown == 10 {
			b.WriteString("...\n")
			break
		}
	}
	return b.String()
}
