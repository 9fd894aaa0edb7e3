package changescope

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// kustomizeImageFields are the fields of a kustomization's images: entries that say
// which image runs; kustomize edit set image and Flux both write them.
var kustomizeImageFields = []string{"name", "newName", "newTag", "digest"}

// imagePaths returns the field paths of d that hold image references or parts of them.
func imagePaths(d render.Document, fields []policy.ImageField) map[string]bool {
	paths := map[string]bool{}
	one := []render.Document{d}
	for _, img := range extract.Images(one, fields) {
		expand(paths, img.Source.FieldPath)
	}
	// Setter markers are line comments: write the document back out (comments kept)
	// and read them as extract.Setters reads a file.
	if data, err := yaml.Marshal(rootOf(d.Node)); err == nil {
		if imgs, err := extract.Setters(d.File, data); err == nil {
			for _, img := range imgs {
				expand(paths, img.Source.FieldPath)
			}
		}
	}
	if identify(d.Node).kind == "Kustomization" {
		if list := get(rootOf(d.Node), "images"); list != nil && list.Kind == yaml.SequenceNode {
			for i := range list.Content {
				for _, f := range kustomizeImageFields {
					paths[extract.JoinKey(extract.JoinIndex("images", i), f)] = true
				}
			}
		}
	}
	return paths
}

// expand adds a field path, and each field of a joined one: extract writes the parts
// of a split reference as "image.{repository,tag}".
func expand(paths map[string]bool, p string) {
	if !strings.HasSuffix(p, "}") {
		paths[p] = true
		return
	}
	open := strings.LastIndex(p, "{")
	if open < 0 {
		paths[p] = true
		return
	}
	prefix := strings.TrimSuffix(p[:open], ".")
	for _, k := range strings.Split(p[open+1:len(p)-1], ",") {
		paths[extract.JoinKey(prefix, k)] = true
	}
}
