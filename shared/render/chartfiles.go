package render

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// utf8BOM is trimmed from chart files, as Helm's directory loader does.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// chartFiles reads a chart directory into memory the way Helm's directory loader
// does (.helmignore rules, symlinks followed), but through the confinement: no link
// may leave the repository, every file counts against the limits, and YAML files
// that Helm parses are checked for alias bombs first. Helm then loads exactly the
// bytes that were checked.
func chartFiles(c *confinement, dir string) ([]*loader.BufferedFile, error) {
	rules := ignore.Empty()
	data, err := c.readFile(filepath.Join(dir, ignore.HelmIgnore))
	switch {
	case err == nil:
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", c.display(filepath.Join(dir, ignore.HelmIgnore)), err)
		}
	case !isNotExist(err):
		return nil, err
	}
	rules.AddDefaults()
	w := &chartWalk{c: c, rules: rules, visiting: map[string]bool{}}
	if err := w.dir(dir, ""); err != nil {
		return nil, err
	}
	w.markUnread() // before the sort: reals follow the order files were read in
	sort.Slice(w.files, func(i, j int) bool { return w.files[i].Name < w.files[j].Name })
	return w.files, nil
}

// markUnread records the chart files that no template can read as merely loaded:
// Helm reads Chart.yaml, values.yaml, the schema, templates, CRDs and subcharts; any
// other file only through .Files (or a template built at render time with tpl), so
// when no template mentions either, such a file does not make the render depend on
// it for classification (a values-prod.yaml next to the values.yaml a dev
// application uses).
func (w *chartWalk) markUnread() {
	for _, f := range w.files {
		if isTemplate(f.Name) && (bytes.Contains(f.Data, []byte("Files")) || bytes.Contains(f.Data, []byte("tpl"))) {
			return
		}
	}
	for i, f := range w.files {
		if in := w.c.inputs[w.reals[i]]; !readByHelm(f.Name) && in.Kind == InputFile {
			in.Kind = InputLoaded
			w.c.inputs[w.reals[i]] = in
		}
	}
}

// isTemplate reports whether a chart file is a template of the chart or a subchart.
func isTemplate(name string) bool {
	return strings.HasPrefix(name, "templates/") || strings.Contains(name, "/templates/")
}

// readByHelm reports whether Helm itself reads a chart file when it renders.
func readByHelm(name string) bool {
	switch name {
	case "Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json", "requirements.yaml", "requirements.lock", ignore.HelmIgnore:
		return true
	}
	return isTemplate(name) || strings.HasPrefix(name, "crds/") || strings.HasPrefix(name, "charts/")
}

type chartWalk struct {
	c     *confinement
	rules *ignore.Rules
	files []*loader.BufferedFile
	// reals are the real paths of files, in the order they were read.
	reals []string
	// visiting holds the real directories on the current path, to stop link cycles.
	visiting map[string]bool
}

// dir reads the chart directory at p, named rel inside the chart ("" for the top).
func (w *chartWalk) dir(p, rel string) error {
	real, err := w.c.resolve(p)
	if err != nil {
		return err
	}
	if w.visiting[real] {
		return fmt.Errorf("%s: symlink loop", w.c.display(p))
	}
	w.visiting[real] = true
	defer delete(w.visiting, real)
	entries, err := w.c.listDir(real)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := path.Join(rel, e.Name())
		full := filepath.Join(p, e.Name())
		_, fi, err := w.c.stat(full)
		if err != nil {
			return err
		}
		if w.rules.Ignore(name, fi) {
			continue
		}
		if fi.IsDir() {
			if err := w.dir(full, name); err != nil {
				return err
			}
			continue
		}
		if err := w.file(full, name); err != nil {
			return err
		}
	}
	return nil
}

func (w *chartWalk) file(p, name string) error {
	data, err := w.c.readFile(p)
	if err != nil {
		return err
	}
	real, err := w.c.resolve(p)
	if err != nil {
		return err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if err := w.check(w.c.display(p), name, data); err != nil {
		return err
	}
	w.files = append(w.files, &loader.BufferedFile{Name: name, Data: data})
	w.reals = append(w.reals, real)
	return nil
}

// check refuses an alias bomb in a file Helm will parse, looking inside vendored
// subchart archives too: their unpacked size counts against the total limit.
func (w *chartWalk) check(display, name string, data []byte) error {
	if parsedByHelm(name) {
		return checkAliases(display, data, w.c.limits)
	}
	if path.Ext(name) != ".tgz" || !strings.HasPrefix(name, "charts/") && !strings.Contains(name, "/charts/") {
		return nil
	}
	files, err := loader.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("subchart archive %s: %w", display, err)
	}
	for _, f := range files {
		if w.c.total += int64(len(f.Data)); w.c.total > w.c.limits.MaxTotalBytes {
			return fmt.Errorf("unpacking subchart archive %s takes the input over the limit of %d bytes in total: %w",
				display, w.c.limits.MaxTotalBytes, ErrLimit)
		}
		// Entries come chart-relative: LoadArchiveFiles strips the archive's top directory.
		if err := w.check(display+"!"+f.Name, f.Name, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// parsedByHelm reports whether Helm parses a chart file as YAML: everything but
// templates (text until rendered; the output is checked) and non-YAML files.
func parsedByHelm(name string) bool {
	if strings.HasPrefix(name, "templates/") || strings.Contains(name, "/templates/") {
		return false
	}
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml" || ext == ".json" || name == "Chart.lock" || strings.HasSuffix(name, "/Chart.lock")
}
