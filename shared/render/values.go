package render

import (
	"fmt"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
)

// valuesFiles reads and merges Helm values files in order, later files winning, as
// `helm template -f a.yaml -f b.yaml` does. A name is relative to the application
// directory, or to the repository root when it starts with "/"; either way it must
// stay inside the root.
func valuesFiles(c *confinement, a app, names []string) (map[string]interface{}, error) {
	vals := map[string]interface{}{}
	for _, name := range names {
		if strings.Contains(name, "://") {
			return nil, fmt.Errorf("values file %s: %w; commit the file to the repository", name, ErrRemote)
		}
		p := filepath.Join(a.dir, filepath.FromSlash(name))
		if strings.HasPrefix(name, "/") {
			p = filepath.Join(c.lexical, filepath.FromSlash(name))
		}
		data, err := c.readFile(p)
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", name, err)
		}
		if err := checkAliases("values file "+name, data, c.limits); err != nil {
			return nil, err
		}
		v, err := chartutil.ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", name, err)
		}
		vals = mergeValues(vals, v)
	}
	return vals, nil
}

// mergeValues returns base overridden by over: maps merge key by key, any other
// value (lists included) replaces.
func mergeValues(base, over map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if om, ok := v.(map[string]interface{}); ok {
			if bm, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeValues(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}
