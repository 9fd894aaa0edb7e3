package policy

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one named input of policy documents. Name appears in every error and in
// Set.Sources: a file path ("policy/base.yaml") or
// "configmap flux-system/platform-policy key prod.yaml".
type Source struct {
	Name string
	Data []byte
}

// Load reads a policy file, or every *.yaml and *.yml file directly in a directory
// (sorted, not recursive), and parses them together. Symlinked files count, so a
// directory where Kubernetes projects the policy ConfigMaps loads as it is. A directory
// without policy files is an error: a missing policy must not look like an empty one.
func Load(path string) (*Set, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	if !info.IsDir() {
		src, err := readSource(path)
		if err != nil {
			return nil, err
		}
		return Parse(src)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	var sources []Source
	for _, e := range entries { // ReadDir sorts by name
		if !isYAMLName(e.Name()) {
			continue
		}
		file := filepath.Join(path, e.Name())
		fi, err := os.Stat(file) // follows symlinks
		if err != nil {
			return nil, fmt.Errorf("load policy %s: %w", file, err)
		}
		if fi.IsDir() {
			continue
		}
		src, err := readSource(file)
		if err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("load policy %s: the directory holds no *.yaml or *.yml files; point --policy at the policy files", path)
	}
	return Parse(sources...)
}

// readSource reads one file, refusing to read more than a policy source may hold.
func readSource(file string) (Source, error) {
	f, err := os.Open(file)
	if err != nil {
		return Source{}, fmt.Errorf("load policy %s: %w", file, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSourceBytes+1))
	if err != nil {
		return Source{}, fmt.Errorf("load policy %s: %w", file, err)
	}
	return Source{Name: file, Data: data}, nil // Parse reports a source over the limit
}

func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// ConfigMap is what FromConfigMaps needs of a Kubernetes ConfigMap: the door that
// reads ConfigMaps (flux-gate) converts its API objects, so that this package stays
// free of Kubernetes API types.
type ConfigMap struct {
	Namespace, Name string
	Labels          map[string]string
	Data            map[string]string
}

// FromConfigMaps parses the ConfigMaps labelled promotion-gate.io/policy: "true"; each
// *.yaml or *.yml data key holds policy documents. Other ConfigMaps and keys are
// ignored. No labelled ConfigMap is an error, so that callers fail closed.
func FromConfigMaps(cms []ConfigMap) (*Set, error) {
	labelled := slices.Clone(cms)
	labelled = slices.DeleteFunc(labelled, func(cm ConfigMap) bool { return cm.Labels[ConfigMapLabel] != "true" })
	if len(labelled) == 0 {
		return nil, fmt.Errorf("load policy: no ConfigMap is labelled %s: \"true\"; label the ConfigMaps that hold the policy", ConfigMapLabel)
	}
	slices.SortFunc(labelled, func(a, b ConfigMap) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	var sources []Source
	for _, cm := range labelled {
		for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
			if !isYAMLName(k) {
				continue
			}
			sources = append(sources, Source{
				Name: fmt.Sprintf("configmap %s/%s key %s", cm.Namespace, cm.Name, k),
				Data: []byte(cm.Data[k]),
			})
		}
	}
	if len(sources) == 0 {
		return nil, errors.New("load policy: the labelled ConfigMaps have no *.yaml or *.yml data keys; put each policy document under a key such as base.yaml")
	}
	return Parse(sources...)
}
