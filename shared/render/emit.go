package render

import (
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// plainYAML writes a document in a small, strict subset of block YAML and reports
// whether it could: mappings and sequences in block style (two spaces an indent,
// sequences level with their key, as kustomize writes them), a string plain only when
// no YAML reader could take it for anything else, every other string double-quoted
// with escapes, and numbers, booleans and nulls only in the one spelling that YAML 1.1
// and 1.2 readers agree on. Comments are not written: they are no part of an object.
// Anything else — an alias, an explicit tag, a hexadecimal number, invalid UTF-8 — makes
// it report false, and the caller writes the document with the YAML library instead.
//
// It exists for speed: the YAML library's emitter queues every event of a document
// and costs more than the parse. Its output needs no trust: the caller parses what is
// emitted back and compares it with what the renderer produced, as for any output.
func plainYAML(buf []byte, n *yaml.Node) ([]byte, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return buf, false
	}
	return block(buf, n, 0, false)
}

// block writes a non-empty mapping or sequence at indent. inline: the first line is
// already started (after "- "), so it is not indented.
func block(buf []byte, n *yaml.Node, indent int, inline bool) ([]byte, bool) {
	ok := true
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content) && ok; i += 2 {
			if i > 0 || !inline {
				buf = spaces(buf, indent)
			}
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != yaml.NodeTagString || k.Anchor != "" {
				return buf, false
			}
			buf = str(buf, k.Value)
			buf = append(buf, ':')
			v := n.Content[i+1]
			switch {
			case v.Kind == yaml.ScalarNode:
				buf, ok = scalarYAML(buf, v, ' ')
				buf = append(buf, '\n')
			case collection(v) && len(v.Content) == 0:
				buf, ok = empty(buf, v)
			case v.Kind == yaml.MappingNode && v.ShortTag() == yaml.NodeTagMap && v.Anchor == "":
				buf = append(buf, '\n')
				buf, ok = block(buf, v, indent+2, false)
			case v.Kind == yaml.SequenceNode && v.ShortTag() == yaml.NodeTagSeq && v.Anchor == "":
				buf = append(buf, '\n')
				buf, ok = block(buf, v, indent, false)
			default:
				return buf, false
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			if !ok {
				break
			}
			if i > 0 || !inline {
				buf = spaces(buf, indent)
			}
			buf = append(buf, '-')
			switch {
			case v.Kind == yaml.ScalarNode:
				buf, ok = scalarYAML(buf, v, ' ')
				buf = append(buf, '\n')
			case collection(v) && len(v.Content) == 0:
				buf, ok = empty(buf, v)
			case collection(v) && v.Anchor == "" && (v.ShortTag() == yaml.NodeTagMap || v.ShortTag() == yaml.NodeTagSeq):
				buf = append(buf, ' ')
				buf, ok = block(buf, v, indent+2, true)
			default:
				return buf, false
			}
		}
	default:
		return buf, false
	}
	return buf, ok
}

func collection(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode
}

// empty writes an empty mapping or sequence in flow style.
func empty(buf []byte, n *yaml.Node) ([]byte, bool) {
	if t := n.ShortTag(); n.Anchor != "" || (t != yaml.NodeTagMap && t != yaml.NodeTagSeq) {
		return buf, false
	}
	if n.Kind == yaml.MappingNode {
		return append(buf, " {}\n"...), true
	}
	return append(buf, " []\n"...), true
}

func spaces(buf []byte, n int) []byte {
	for ; n > 0; n-- {
		buf = append(buf, ' ')
	}
	return buf
}

// scalarYAML writes a scalar value after sep; false for one outside the subset.
func scalarYAML(buf []byte, n *yaml.Node, sep byte) ([]byte, bool) {
	if n.Anchor != "" {
		return buf, false
	}
	switch n.ShortTag() {
	case yaml.NodeTagString:
		return str(append(buf, sep), n.Value), true
	case yaml.NodeTagNull:
		// Each of these is null to every reader; an empty value writes nothing.
		switch n.Value {
		case "":
			return buf, true
		case "~", "null", "Null", "NULL":
			return append(append(buf, sep), n.Value...), true
		}
	case yaml.NodeTagBool:
		if n.Value == "true" || n.Value == "false" {
			return append(append(buf, sep), n.Value...), true
		}
	case yaml.NodeTagInt:
		if decimal(n.Value, false) {
			return append(append(buf, sep), n.Value...), true
		}
	case yaml.NodeTagFloat:
		if decimal(n.Value, true) {
			return append(append(buf, sep), n.Value...), true
		}
	}
	return buf, false
}

// decimal reports whether s is -?(0|[1-9][0-9]*), followed, when fraction, by a dot
// and digits: the spelling every YAML reader takes for the same integer or float.
func decimal(s string, fraction bool) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	if dot != fraction || whole == "" || (len(whole) > 1 && whole[0] == '0') || !digits(whole) {
		return false
	}
	return !fraction || (frac != "" && digits(frac))
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// str writes a string: plain when it starts with a letter, holds only letters,
// digits and "._/-,@:" (a colon not last: no ": " can follow), and is no word that a
// YAML 1.1 reader takes for a boolean or null; else double-quoted. Starting with a
// letter, it cannot be read as a number, a date or an indicator.
func str(buf []byte, s string) []byte {
	if plainString(s) {
		return append(buf, s...)
	}
	return quoted(buf, s)
}

func plainString(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-' || c == ',' || c == '@' || c == ':' && i < len(s)-1) {
			return false
		}
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "yes", "n", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

// quoted writes s double-quoted: quote, backslash, control characters and the
// characters some YAML readers take for line breaks or a byte order mark are escaped;
// the rest is written as it is (valid UTF-8 is known here: the YAML parser refuses
// anything else, and a string that is not is escaped byte by byte, which the parse
// back then refuses).
func quoted(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20 || c == 0x7f:
				buf = append(buf, '\\', 'x', hex[c>>4], hex[c&15])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, '\\', 'x', hex[c>>4], hex[c&15])
		case r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || (r >= 0x80 && r < 0xa0):
			buf = append(buf, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
