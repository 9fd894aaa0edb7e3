package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Predicates are read as a generic JSON tree (maps, slices, strings, json.Number,
// bools, nils) and walked with these helpers, so a field the gate does not read can
// have any shape.

// decodeTree decodes JSON into maps, slices, strings, json.Number, bools and nils.
func decodeTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// field walks object keys; anything that is not there, or not an object on the way,
// gives nil.
func field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns the string at path and whether there is a non-empty one.
func str(v any, path ...string) (string, bool) {
	s, ok := field(v, path...).(string)
	return s, ok && s != ""
}

func has(v any, key string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

func firstString(v any, keys ...string) string {
	for _, k := range keys {
		if s, ok := str(v, k); ok {
			return s
		}
	}
	return ""
}

// listAt returns the list under key of an object; absent or null is empty.
func listAt(v any, key, path string) ([]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: the enclosing value is not a JSON object: %w", path, errType)
	}
	switch l := m[key].(type) {
	case nil:
		return nil, nil
	case []any:
		return l, nil
	}
	return nil, fmt.Errorf("%s is not a list: %w", path, errType)
}

// stringAt returns the string under key of an object; absent or null is "".
func stringAt(v any, key, path string) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("%s is not a JSON object: %w", path, errType)
	}
	switch s := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	}
	return "", fmt.Errorf("%s.%s is not a string: %w", path, key, errType)
}
