package render

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	. "github.com/onsi/gomega"
)

// tgz packs files (path -> content) as a chart archive, under a top directory as
// `helm package` does.
func tgz(t *testing.T, top string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		hdr := &tar.Header{Name: top + "/" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHelmSubchartArchive(t *testing.T) {
	bomb, err := os.ReadFile(repo + "/apps/bomb-plain/bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	parent := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n",
	}
	sub := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"values.yaml":         "image: ghcr.io/example/sub:latest\n",
		"templates/pod.yaml":  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: sub\nspec:\n  containers:\n    - name: c\n      image: {{ .Values.image }}\n",
		"templates/NOTES.txt": "notes are dropped",
	}
	tests := []struct {
		name string
		sub  map[string]string
		// tight sets a total limit that the files on disk fit and the unpacked archive does not.
		tight bool
		docs  []string
		is    error
		says  string
	}{
		{name: "vendored archive renders", sub: sub, docs: []string{"chart/charts/sub/templates/pod.yaml Pod/sub"}},
		{name: "alias bomb inside the archive", sub: map[string]string{"Chart.yaml": sub["Chart.yaml"], "values.yaml": string(bomb)},
			is: ErrLimit, says: "chart/charts/sub-0.1.0.tgz!values.yaml: YAML aliases expand"},
		{name: "unpacked archive counts against the total", sub: sub, tight: true,
			is: ErrLimit, says: "unpacking subchart archive chart/charts/sub-0.1.0.tgz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			root := t.TempDir()
			tree(t, root, map[string]string{"chart/Chart.yaml": parent["Chart.yaml"]})
			archive := filepath.Join(root, "chart", "charts", "sub-0.1.0.tgz")
			g.Expect(os.MkdirAll(filepath.Dir(archive), 0o755)).To(Succeed())
			packed := tgz(t, "sub", tt.sub)
			g.Expect(os.WriteFile(archive, packed, 0o644)).To(Succeed())
			var limits Limits
			if tt.tight {
				limits.MaxTotalBytes = int64(len(parent["Chart.yaml"]) + len(packed) + 10)
			}
			res, err := Render(context.Background(), Options{Path: filepath.Join(root, "chart"), RepoRoot: root, Limits: limits})
			if tt.is != nil {
				g.Expect(errors.Is(err, tt.is)).To(BeTrue(), "%v", err)
				g.Expect(err.Error()).To(ContainSubstring(tt.says))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(summary(res)).To(Equal(tt.docs))
		})
	}
}

func TestHelmLibraryChart(t *testing.T) {
	g := NewWithT(t)
	root := t.TempDir()
	tree(t, root, map[string]string{"lib/Chart.yaml": "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n"})
	_, err := Render(context.Background(), Options{Path: filepath.Join(root, "lib")})
	g.Expect(err).To(MatchError(ContainSubstring("chart lib is a library chart")))
}

// TestRenderConcurrent renders kustomize applications side by side, as a controller
// does: builds take turns and none is lost.
func TestRenderConcurrent(t *testing.T) {
	g := NewWithT(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := Render(context.Background(), Options{Path: repo + "/apps/web/overlays/prod", RepoRoot: repo})
			errs <- err
		}()
	}
	for range 4 {
		g.Expect(<-errs).NotTo(HaveOccurred())
	}
}

// TestHelmAliasBombs puts a bomb in every place Helm parses YAML from: each must be
// refused before Helm expands it.
func TestHelmAliasBombs(t *testing.T) {
	bomb, err := os.ReadFile(repo + "/apps/bomb-plain/bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	chart := "apiVersion: v2\nname: c\nversion: 0.1.0\n"
	for name, tt := range map[string]struct {
		files  map[string]string
		values []string
		says   string
	}{
		"values.yaml":     {files: map[string]string{"c/values.yaml": string(bomb)}, says: "c/values.yaml: YAML aliases"},
		"values file":     {files: map[string]string{"env/prod.yaml": string(bomb)}, values: []string{"/env/prod.yaml"}, says: "values file /env/prod.yaml: YAML aliases"},
		"rendered output": {files: map[string]string{"c/templates/cm.yaml": string(bomb)}, says: "c/templates/cm.yaml: YAML aliases"},
		"crds":            {files: map[string]string{"c/crds/crd.yaml": string(bomb)}, says: "c/crds/crd.yaml: YAML aliases"},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			root := t.TempDir()
			tt.files["c/Chart.yaml"] = chart
			tree(t, root, tt.files)
			_, err := Render(context.Background(), Options{Path: filepath.Join(root, "c"), RepoRoot: root, ValuesFiles: tt.values})
			g.Expect(errors.Is(err, ErrLimit)).To(BeTrue(), "%v", err)
			g.Expect(err.Error()).To(ContainSubstring(tt.says))
		})
	}
}

// TestParseManifestsJoined: manifests parsed as one stream give each manifest the
// documents, and the lines, it has parsed alone; and the errors are the same.
func TestParseManifestsJoined(t *testing.T) {
	parts := []part{
		{"c/templates/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"},
		{"c/templates/a.yaml", "# only a comment\n"},
		{"c/templates/a.yaml", "kind: ConfigMap\nmetadata: {name: b}\n---\nkind: ConfigMap\nmetadata: {name: c}"},
		{"c/templates/a.yaml", "\n\nkind: Secret\nmetadata:\n  name: d\n  labels: {x: y}\n"},
		{"c/templates/b.yaml", "kind: ConfigMap\nmetadata: &m {name: e}\nother: *m\n"},
		{"c/templates/b.yaml", "kind: ConfigMap\nmetadata: {name: f}\n"},
		{"c/templates/b.yaml", "%YAML 1.1\n---\nkind: ConfigMap\nmetadata: {name: g}\n"},
	}
	file := func(source string) string { return "charts/" + source }
	alone := func(parts []part) ([][]Document, error) {
		var out [][]Document
		for _, p := range parts {
			docs, err := ParseDocuments(file(p.source), []byte(p.text), DefaultLimits())
			if err != nil {
				return nil, err
			}
			out = append(out, docs)
		}
		return out, nil
	}
	g := NewWithT(t)
	want, err := alone(parts)
	g.Expect(err).NotTo(HaveOccurred())
	got, err := parseManifests(parts, file, DefaultLimits())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveLen(len(want)))
	for i := range want {
		g.Expect(got[i]).To(HaveLen(len(want[i])), "manifest %d", i)
		for j := range want[i] {
			g.Expect(got[i][j].File).To(Equal(want[i][j].File))
			g.Expect(got[i][j].Index).To(Equal(want[i][j].Index))
			var wl, gl []int32
			var w shapeWalk
			w.record(want[i][j].Node)
			wl, wsum := w.lines, w.sum()
			w.reset(nil)
			w.record(got[i][j].Node)
			gl, gsum := w.lines, w.sum()
			g.Expect(gl).To(Equal(wl), "lines of manifest %d document %d", i, j)
			g.Expect(gsum).To(Equal(wsum), "manifest %d document %d", i, j)
		}
	}

	broken := append(parts[:2:2], part{"c/templates/a.yaml", "a: [\n"}, part{"c/templates/a.yaml", "b: 1\n"})
	_, wantErr := alone(broken)
	_, gotErr := parseManifests(broken, file, DefaultLimits())
	g.Expect(gotErr).To(HaveOccurred())
	g.Expect(gotErr.Error()).To(Equal(wantErr.Error()))
}

// FuzzParseManifests: manifests of one template parsed as one stream give exactly the
// documents and lines each gives alone, or the same error.
func FuzzParseManifests(f *testing.F) {
	f.Add([]byte("kind: A\nmetadata: {name: a}\n"), []byte("# c\n"), []byte("kind: B\n---\nkind: C"))
	f.Add([]byte("a: |\n  x\n"), []byte("b: \"y\n"), []byte("c: 1\n"))
	f.Add([]byte("a: 1\n...\nb: 2\n"), []byte("--- \nc: 3\n"), []byte("%YAML 1.1\n---\nd: 4\n"))
	limits := Limits{MaxFileBytes: 1 << 16, MaxTotalBytes: 1 << 18, MaxDocuments: 50, MaxAliases: 1000}
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		parts := []part{{"t/templates/x.yaml", string(a)}, {"t/templates/x.yaml", string(b)}, {"t/templates/x.yaml", string(c)}}
		file := func(source string) string { return source }
		var want [][]Document
		var wantErr error
		for _, p := range parts {
			docs, err := ParseDocuments(p.source, []byte(p.text), limits)
			if err != nil {
				wantErr = err
				break
			}
			want = append(want, docs)
		}
		// One run of all three, whatever the CPUs.
		got := make([][]Document, len(parts))
		err := parseRun(parts, []int{0, 1, 2}, file, limits, got)
		if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("joined: %v, alone: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("manifest %d: %d documents joined, %d alone", i, len(got[i]), len(want[i]))
			}
			for j := range want[i] {
				var w shapeWalk
				w.record(want[i][j].Node)
				wl, ws := w.lines, w.sum()
				w.reset(nil)
				w.record(got[i][j].Node)
				if !reflect.DeepEqual(w.lines, wl) || w.sum() != ws {
					t.Fatalf("manifest %d document %d differs joined", i, j)
				}
			}
		}
	})
}
