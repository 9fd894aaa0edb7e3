// Command manifests-equal tells whether two streams of Kubernetes manifests hold the
// same objects, in the same order, as a Kubernetes client reads them: each document
// is decoded as sigs.k8s.io/yaml does (YAML to JSON), so indentation, key order,
// quoting and comments do not count, and empty documents are skipped.
//
//	manifests-equal a.yaml b.yaml
//
// Exit 0 when they are equal, 1 with the first difference when not, 2 when a file
// cannot be read. make bench-cmp uses it to show that argocd-promotion-gate generate
// emits what helm template emits.
package main

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: manifests-equal A.yaml B.yaml")
		os.Exit(2)
	}
	a, err := objects(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	b, err := objects(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if len(a) != len(b) {
		fmt.Printf("%s has %d objects, %s has %d\n", os.Args[1], len(a), os.Args[2], len(b))
		os.Exit(1)
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			fmt.Printf("object %d differs: %s has %v, %s has %v\n", i, os.Args[1], a[i], os.Args[2], b[i])
			os.Exit(1)
		}
	}
	fmt.Printf("%d objects, equal\n", len(a))
}

// separator is a YAML document separator line, as Kubernetes' YAML reader splits on.
var separator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// objects reads the non-empty documents of a manifest stream as JSON objects.
func objects(file string) ([]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []any
	for i, doc := range separator.Split(string(data), -1) {
		var obj any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if obj == nil || len(bytes.TrimSpace([]byte(doc))) == 0 {
			continue
		}
		out = append(out, obj)
	}
	return out, nil
}
