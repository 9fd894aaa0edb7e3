// Package extract finds every container image reference in rendered Kubernetes
// documents and in Flux setter-marked YAML fields, with where each came from.
package extract

import "github.com/promotion-gate/promotion-gate/shared/imageref"

// Source says where an image reference was found.
type Source struct {
	// File is the repository-relative file the document came from (or the rendered
	// application path when the renderer cannot tell).
	File string `json:"file"`
	// Document is the zero-based index of the document in its stream.
	Document int `json:"document"`
	// Line is the 1-based line of the image value in File, when known.
	Line       int    `json:"line,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	// Container is the container name for workload images.
	Container string `json:"container,omitempty"`
	// FieldPath is the path of the image field within the document,
	// e.g. "spec.template.spec.containers[0].image". Keys that hold '.', '[', ']',
	// quotes or spaces are written as ["key"]. Split fields joined into one reference
	// are listed in braces after their mapping: "image.{repository,tag}".
	FieldPath string `json:"fieldPath"`
	// ValuesKey is the Helm values key that set the image (or its tag or digest) when
	// File is a values file, e.g. "image.tag".
	ValuesKey string `json:"valuesKey,omitempty"`
	// ImagePolicy is the Flux ImagePolicy ("namespace:name") whose setter marker marks
	// the field, so a finding can name the automation that wrote it. Set by Setters.
	ImagePolicy string `json:"imagePolicy,omitempty"`
}

// Image is one image reference found in a document.
type Image struct {
	// Raw is the reference as written (parts joined for split fields).
	Raw string `json:"image"`
	// Ref is the parsed reference; nil when ParseError is set.
	Ref *imageref.Ref `json:"-"`
	// ParseError is set when Raw is not a valid reference.
	ParseError string `json:"parseError,omitempty"`
	Source     Source `json:"source"`
}
