package render

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// stream collects the documents of one render in order, with the source each came
// from, and checks the output limits as it grows.
type stream struct {
	limits  Limits
	docs    []Document
	sources []string
}

// add appends docs, renumbering them in stream order; source names their origin in
// the YAML output's "# Source:" comments.
func (s *stream) add(source string, docs []Document) error {
	if len(s.docs)+len(docs) > s.limits.MaxDocuments {
		return fmt.Errorf("the rendered output has more than %d documents: %w", s.limits.MaxDocuments, ErrLimit)
	}
	for _, d := range docs {
		d.Index = len(s.docs)
		s.docs = append(s.docs, d)
		s.sources = append(s.sources, source)
	}
	return nil
}

// encode writes the stream as YAML, each document after a "---" line and a comment
// naming its source, as helm template does. The text comes from the checked nodes,
// never from the input bytes, so that the output cannot hold anything that was not
// checked.
func (s *stream) encode() ([]byte, error) {
	var buf bytes.Buffer
	for i, d := range s.docs {
		fmt.Fprintf(&buf, "---\n# Source: %s\n", s.sources[i])
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(d.Node); err != nil {
			return nil, fmt.Errorf("encode document %d from %s: %w", i, d.File, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encode document %d from %s: %w", i, d.File, err)
		}
		if int64(buf.Len()) > s.limits.MaxTotalBytes {
			return nil, fmt.Errorf("the rendered output is over the limit of %d bytes: %w", s.limits.MaxTotalBytes, ErrLimit)
		}
	}
	return buf.Bytes(), nil
}

// result finishes the stream.
func (s *stream) result(renderer string) (*Result, error) {
	out, err := s.encode()
	if err != nil {
		return nil, err
	}
	return &Result{Renderer: renderer, Documents: s.docs, YAML: out}, nil
}
