package render

import (
	"os"
	"path/filepath"
	"sort"
)

// plainExtensions are the files Argo CD's directory source reads; JSON is YAML too.
var plainExtensions = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// renderPlain renders the YAML files of a directory (not of its subdirectories), in
// name order, or the one file the application path names.
func renderPlain(c *confinement, a app) (*Result, error) {
	files := []string{a.file}
	if a.file == "" {
		var err error
		if files, err = plainFiles(c, a.dir); err != nil {
			return nil, err
		}
	}
	s := &stream{limits: c.limits, callerParses: c.callerParses}
	for _, f := range files {
		data, err := c.readFile(f)
		if err != nil {
			return nil, err
		}
		name := c.display(f)
		docs, err := ParseDocuments(name, data, c.limits)
		if err != nil {
			return nil, err
		}
		if err := s.add(name, docs); err != nil {
			return nil, err
		}
	}
	return s.result(RendererYAML)
}

// plainFiles lists the manifest files of dir, sorted by name. A symlink is followed
// (inside the root only); one to a directory is skipped like a directory.
func plainFiles(c *confinement, dir string) ([]string, error) {
	entries, err := c.listDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || !plainExtensions[filepath.Ext(e.Name())] {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			_, fi, err := c.stat(p)
			if err != nil {
				return nil, err
			}
			if fi.IsDir() {
				continue
			}
		}
		files = append(files, p)
	}
	sort.Strings(files)
	return files, nil
}
