package render

import (
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ValuesFile is a Helm values file of a render, parsed, for the line and key of a value.
type ValuesFile struct {
	// File is repository-relative.
	File string
	Root *yaml.Node
}

// attachValues gives every document of a Helm render the values files it was rendered
// with, in the order they apply (the chart's values.yaml, then each -f file; the last
// wins), so that a finding can name the values file and key that set an image. A file
// that cannot be read again is left out: the names are for people, the render stands.
func attachValues(c *confinement, a app, names []string, res *Result) {
	var files []ValuesFile
	add := func(p string) {
		data, err := c.readFile(p)
		if err != nil || checkAliases(p, data, c.limits) != nil {
			return
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			return
		}
		files = append(files, ValuesFile{File: c.display(p), Root: doc.Content[0]})
	}
	add(filepath.Join(a.dir, "values.yaml"))
	for _, name := range names {
		p := filepath.Join(a.dir, filepath.FromSlash(name))
		if strings.HasPrefix(name, "/") {
			p = filepath.Join(c.lexical, filepath.FromSlash(name))
		}
		add(p)
	}
	if len(files) == 0 {
		return
	}
	o := &Origin{Values: files}
	for i := range res.Documents {
		res.Documents[i].Origin = o
	}
}
