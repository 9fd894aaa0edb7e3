package render

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// stream collects the documents of one render in order, with the source each came
// from, and checks the output limits as it grows.
type stream struct {
	limits  Limits
	docs    []Document
	sources []string
	// callerParses: see confinement.callerParses.
	callerParses bool
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
// never from the input bytes (see plainYAML), and source names are quoted when they
// hold anything but plain path characters: a file name is untrusted and may hold a
// newline and "---".
func (s *stream) encode() ([]byte, error) {
	var out []byte
	for i, d := range s.docs {
		out = append(out, "---\n# Source: "...)
		out = append(out, commentSafe(s.sources[i])...)
		out = append(out, '\n')
		start := len(out)
		var ok bool
		if out, ok = plainYAML(out, d.Node); !ok {
			var err error
			if out, err = libraryYAML(out[:start], d.Node); err != nil {
				return nil, fmt.Errorf("encode document %d from %s: %w", i, d.File, err)
			}
		}
		if int64(len(out)) > s.limits.MaxTotalBytes {
			return nil, fmt.Errorf("the rendered output is over the limit of %d bytes: %w", s.limits.MaxTotalBytes, ErrLimit)
		}
	}
	return out, nil
}

// libraryYAML writes a document with the YAML library's encoder: for the documents
// plainYAML does not write.
func libraryYAML(out []byte, n *yaml.Node) ([]byte, error) {
	buf := bytes.NewBuffer(out)
	enc := yaml.NewEncoder(buf)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// result finishes the stream: encodes it and parses it back (see emitted). In a render
// worker the documents are the produced ones, and the process that started the worker
// parses the output back (workerReply.result): once, where the check runs.
func (s *stream) result(renderer string) (*Result, error) {
	out, err := s.encode()
	if err != nil {
		return nil, err
	}
	if s.callerParses {
		return &Result{Renderer: renderer, Documents: s.docs, YAML: out}, nil
	}
	return emitted(renderer, out, s.docs, s.limits)
}

// commentSafe returns name as it may stand in a one-line YAML comment: unchanged when
// it holds only printable ASCII other than a backslash or a quote, else Go-quoted, so
// that a newline, a control character or invalid UTF-8 cannot end the comment.
func commentSafe(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			return strconv.QuoteToASCII(name)
		}
	}
	return name
}

// ErrEmit is wrapped when the rendered output would not give Argo CD exactly the
// documents that were checked.
var ErrEmit = errors.New("the output does not parse back to the documents checked")

// emitted makes the Result of a render from the bytes that will be emitted: the
// output is parsed back, and each parsed document must equal the document the
// renderer produced at the same position (same structure, keys, values and tags). The
// parsed documents are the ones returned and checked; they keep the renderer's file
// names and line numbers. So what the policy sees is, by construction, what a reader
// of the output gets, whatever names or values the repository holds; an encoder or
// escaping bug becomes a refusal, never a bypass. The comparison is one walk of both
// trees, cheap beside the parse.
func emitted(renderer string, out []byte, produced []Document, limits Limits) (*Result, error) {
	stream := limits
	stream.MaxFileBytes = limits.MaxTotalBytes
	docs, err := ParseDocuments("the rendered output", out, stream)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEmit, err)
	}
	if len(docs) != len(produced) {
		return nil, fmt.Errorf("%w: it parses back to %d documents, the renderer produced %d; refusing to emit what was not checked",
			ErrEmit, len(docs), len(produced))
	}
	for i := range docs {
		if err := sameTree(produced[i].Node, docs[i].Node); err != nil {
			return nil, fmt.Errorf("%w: document %d from %s: %w", ErrEmit, i, produced[i].File, err)
		}
		docs[i].File = produced[i].File
	}
	return &Result{Renderer: renderer, Documents: docs, YAML: out}, nil
}

// sameTree compares what a node means, not how it is written (kustomize writes keys
// in its own order), and copies the produced node's line numbers onto the parsed one
// (findings name source lines).
func sameTree(produced, parsed *yaml.Node) error {
	for produced.Kind == yaml.AliasNode && produced.Alias != nil {
		produced = produced.Alias
	}
	if produced.Kind == yaml.DocumentNode && len(produced.Content) == 1 {
		produced = produced.Content[0]
	}
	if produced.Kind != parsed.Kind || len(produced.Content) != len(parsed.Content) {
		return fmt.Errorf("line %d: the node changed shape", parsed.Line)
	}
	if produced.Kind == yaml.ScalarNode && (produced.Value != parsed.Value || produced.ShortTag() != parsed.ShortTag()) {
		return fmt.Errorf("line %d: %q became %q", parsed.Line, produced.Value, parsed.Value)
	}
	parsed.Line, parsed.Column = produced.Line, produced.Column
	if produced.Kind != yaml.MappingNode {
		for i := range produced.Content {
			if err := sameTree(produced.Content[i], parsed.Content[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var index map[string]int // built at the first key out of place
	for i := 0; i+1 < len(produced.Content); i += 2 {
		j := i
		if !sameKey(produced.Content[i], parsed.Content[j]) {
			if index == nil {
				index = keyIndex(parsed)
			}
			k, ok := index[produced.Content[i].Value]
			if !ok || !sameKey(produced.Content[i], parsed.Content[k]) {
				return fmt.Errorf("line %d: key %q is missing", parsed.Line, produced.Content[i].Value)
			}
			j = k
		}
		if err := sameTree(produced.Content[i], parsed.Content[j]); err != nil {
			return err
		}
		if err := sameTree(produced.Content[i+1], parsed.Content[j+1]); err != nil {
			return err
		}
	}
	return nil
}

// keyIndex maps the scalar keys of m to their index in m.Content. Keys are unique
// (checkKeys refuses a duplicate).
func keyIndex(m *yaml.Node) map[string]int {
	index := make(map[string]int, len(m.Content)/2)
	for j := 0; j+1 < len(m.Content); j += 2 {
		index[m.Content[j].Value] = j
	}
	return index
}
