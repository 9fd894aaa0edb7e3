package demo

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// The demo's stand-in for image-automation-controller must change exactly the marked
// fields of the example prod overlay, and fail loudly when the example no longer has them.
func TestApplySetters(t *testing.T) {
	overlay, err := os.ReadFile(filepath.Join("..", "..", "examples", "platform-config", filepath.FromSlash(prodKustomize)))
	if err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, tc := range []struct {
		name     string
		set      map[string]string
		drop     []string
		contains []string
		absent   []string
		err      string
	}{
		{
			name:     "digest",
			set:      map[string]string{"tag": "1.9.0", "digest": digest},
			contains: []string{"newTag: 1.9.0 # {\"$imagepolicy\": \"flux-system:payments-api-prod:tag\"}", "digest: " + digest + " # {"},
			absent:   []string{"1.8.3", "sha256:8d3f"},
		},
		{
			name:     "latest without digest",
			set:      map[string]string{"tag": "latest"},
			drop:     []string{"digest"},
			contains: []string{"newTag: latest # {", "newName: ghcr.io/example/payments-api # {"},
			absent:   []string{"digest:"},
		},
		{
			name: "unmarked part",
			set:  map[string]string{"registry": "x"},
			err:  `no field marked {"$imagepolicy": "flux-system:payments-api-prod:registry"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := applySetters(overlay, imagePolicy, tc.set, tc.drop...)
			if tc.err != "" {
				g.Expect(err).To(MatchError(tc.err))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			for _, s := range tc.contains {
				g.Expect(string(got)).To(ContainSubstring(s))
			}
			for _, s := range tc.absent {
				g.Expect(string(got)).NotTo(ContainSubstring(s))
			}
			g.Expect(string(got)).To(ContainSubstring("patches:"), "the rest of the file is kept")
		})
	}
}
