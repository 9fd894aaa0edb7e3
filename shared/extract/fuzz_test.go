package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// seedFiles adds every YAML input under testdata/ to a fuzz target's seeds.
func seedFiles(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzImages feeds arbitrary YAML streams, parsed as documents, to Images: it must not
// panic, must terminate quickly on aliases and merge keys, and every image it returns
// either parses or says why not.
func FuzzImages(f *testing.F) {
	seedFiles(f)
	f.Add([]byte("kind: List\nitems: [&a {kind: List, items: [*a]}]\n"))
	f.Add([]byte("kind: Pod\nspec: {<<: [&m {<<: *m}], containers: [{image: *x}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := decodeDocs("fuzz.yaml", data) // a decode error keeps the documents before it
		checkInvariants(t, Images(docs, testFields))
	})
}

// FuzzSetters feeds arbitrary bytes to Setters: it must not panic, and returns either
// an error or images that each parse or say why not.
func FuzzSetters(f *testing.F) {
	seedFiles(f)
	f.Add([]byte(`a: {b: x # {"$imagepolicy": "n:p:tag"}` + "\n}\n"))
	f.Add([]byte("- &a x:1 # {\"$imagepolicy\": \"n:p\"}\n- *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		images, err := Setters("fuzz.yaml", data)
		if err != nil {
			if images != nil {
				t.Fatalf("error %v with images", err)
			}
			return
		}
		checkInvariants(t, images)
	})
}
