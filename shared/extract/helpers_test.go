package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testFields are the policy imageFields the Images golden tests run with.
var testFields = []policy.ImageField{
	{Kind: "HelmRelease", Path: "spec.values.image"},
	{Kind: "HelmRelease", Path: "spec.values.sidecars[].image"},
	{Kind: "HelmRelease", Path: "spec.values.jobs"}, // ends at a list
	{APIVersion: "serving.knative.dev/v1", Kind: "Service", Path: "spec.template.spec.containers[].image"},
	{Kind: "Deployment", Path: "spec.template.spec.containers[].image"}, // already read
	{Kind: "Deployment", Path: "spec.template.metadata.annotations.debug-image"},
	{Kind: "Widget", Path: "spec..image"}, // malformed: matches nothing
}

// decodeDocs parses a YAML stream into documents without expanding aliases or merge
// keys, so the tests see the raw nodes extract must cope with (render.ParseDocuments
// expands them, but other callers may not).
func decodeDocs(file string, data []byte) ([]render.Document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []render.Document
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		docs = append(docs, render.Document{File: file, Index: len(docs), Node: doc.Content[0]})
	}
}

// goldenImage is the golden-file view of an Image: the JSON fields plus the parsed
// reference, which the JSON form of Image leaves out.
type goldenImage struct {
	Image      string `json:"image"`
	Normalised string `json:"normalised,omitempty"`
	Pinned     bool   `json:"pinned,omitempty"`
	ImplicitTg bool   `json:"implicitTag,omitempty"`
	ParseError string `json:"parseError,omitempty"`
	Source     Source `json:"source"`
}

func golden(images []Image) []byte {
	view := make([]goldenImage, len(images))
	for i, img := range images {
		view[i] = goldenImage{Image: img.Raw, ParseError: img.ParseError, Source: img.Source}
		if img.Ref != nil {
			view[i].Normalised = img.Ref.String()
			view[i].Pinned = img.Ref.Pinned()
			view[i].ImplicitTg = img.Ref.ImplicitTag
		}
	}
	out, err := json.MarshalIndent(view, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	g := NewWithT(t)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		g.Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred(), "run go test -update to create %s", path)
	g.Expect(string(got)).To(Equal(string(want)), "run go test -update to accept the new output of %s", path)
}

// checkInvariants holds for every extraction result, fuzzed or not.
func checkInvariants(t *testing.T, images []Image) {
	t.Helper()
	for i, img := range images {
		switch {
		case img.ParseError == "" && img.Ref == nil:
			t.Fatalf("image %d %q: neither Ref nor ParseError", i, img.Raw)
		case img.ParseError != "" && img.Ref != nil:
			t.Fatalf("image %d %q: both Ref and ParseError", i, img.Raw)
		case img.ParseError == "" && img.Raw == "":
			t.Fatalf("image %d: empty reference without ParseError", i)
		case img.Source.FieldPath == "":
			t.Fatalf("image %d %q: no field path", i, img.Raw)
		}
	}
}
