package render

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// Helm template's defaults for a release that names neither.
const (
	defaultReleaseName = "release-name"
	defaultNamespace   = "default"
)

// renderHelm renders a chart as `helm template --include-crds` does, in-process and
// offline: CRDs first, then the manifests in Helm's install order, then the hooks
// (they run in the cluster too, so they are checked like everything else; Argo CD
// applies them as its own hooks). NOTES.txt is not a manifest and is dropped.
//
// values.schema.json is not validated: a schema may $ref remote or local files, and
// fetching them would break "offline and confined"; the schema only accepts or
// refuses values and never changes what renders.
func renderHelm(c *confinement, a app, opts Options) (*Result, error) {
	files, err := chartFiles(c, a.dir)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	if ch.Metadata.Type == "library" {
		return nil, fmt.Errorf("chart %s is a library chart: it renders nothing on its own; render the chart that depends on it", ch.Name())
	}
	if err := checkVendored(ch, a.rel); err != nil {
		return nil, err
	}
	vals, err := valuesFiles(c, a, opts.ValuesFiles)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("chart dependencies: %w", err)
	}
	caps, err := capabilities(opts)
	if err != nil {
		return nil, err
	}
	release := chartutil.ReleaseOptions{
		Name:      or(opts.ReleaseName, defaultReleaseName),
		Namespace: or(opts.Namespace, defaultNamespace),
		Revision:  1,
		IsInstall: true,
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, release, caps, true)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	rendered, err := abandon(c.ctx, func() (map[string]string, error) { return engine.Render(ch, top) })
	if err != nil {
		return nil, err
	}
	res, err := helmResult(c, a, ch, rendered)
	if err != nil {
		return nil, err
	}
	attachValues(c, a, opts.ValuesFiles, res)
	return res, nil
}

// helmResult checks the rendered templates, sorts them as helm template does and
// parses them into documents named by their template files.
func helmResult(c *confinement, a app, ch *chart.Chart, rendered map[string]string) (*Result, error) {
	var total int64
	for name, text := range rendered {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(rendered, name)
			continue
		}
		if int64(len(text)) > c.limits.MaxFileBytes {
			return nil, fmt.Errorf("template %s renders %d bytes, over the limit of %d bytes per file: %w", name, len(text), c.limits.MaxFileBytes, ErrLimit)
		}
		if total += int64(len(text)); total > c.limits.MaxTotalBytes {
			return nil, fmt.Errorf("the rendered output is over the limit of %d bytes: %w", c.limits.MaxTotalBytes, ErrLimit)
		}
		if err := checkAliases(a.join(chartRelative(name)), []byte(text), c.limits); err != nil {
			return nil, err
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(rendered, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	var parts []part
	for _, crd := range ch.CRDObjects() {
		parts = append(parts, part{filepath.ToSlash(crd.Filename), string(crd.File.Data)})
	}
	for _, m := range manifests {
		parts = append(parts, part{m.Name, m.Content})
	}
	for _, h := range hooks {
		parts = append(parts, part{h.Path, h.Manifest})
	}
	parsed, err := parseManifests(parts, func(source string) string { return a.join(chartRelative(source)) }, c.limits)
	if err != nil {
		return nil, err
	}
	s := &stream{limits: c.limits, callerParses: c.callerParses}
	for i, docs := range parsed {
		if err := s.add(parts[i].source, docs); err != nil {
			return nil, err
		}
	}
	return s.result(RendererHelm)
}

// part is one manifest of a Helm render: its template and its text.
type part struct{ source, text string }

// parseParts parses the parts on every CPU (see onEveryCPU), and returns their
// documents in order.
func parseParts(parts []part, parse func(part) ([]Document, error)) ([][]Document, error) {
	docs := make([][]Document, len(parts))
	err := onEveryCPU(len(parts), func(i int) error {
		var err error
		docs[i], err = parse(parts[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return docs, nil
}

// onEveryCPU runs f(0) … f(n-1) on every CPU (the parse is most of a render's cost
// beyond Helm's own, and its pieces are independent), and returns the error of the
// first i, in order, that has one.
func onEveryCPU(n int, f func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = f(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parseManifests parses the manifests of a Helm render, each as a file of its own
// (document lines count from its first line), on every CPU. Consecutive manifests of
// one template are parsed as one stream, joined by "---" lines, and their documents
// handed back to each by line: a YAML parser per manifest cost a chart of 2,000
// Deployments as much as the parse itself. A run that may hold aliases or directives
// (which a stream carries from one document to the next), line breaks other than "\n",
// or that fails, is parsed one manifest at a time, as each would be alone, so that its
// documents, lines and errors are the same.
func parseManifests(parts []part, file func(source string) string, limits Limits) ([][]Document, error) {
	var total int
	for _, p := range parts {
		total += len(p.text)
	}
	size := total/runtime.GOMAXPROCS(0) + 1
	var runs [][]int // indexes into parts
	inRun := 0       // bytes in the last run
	for i, p := range parts {
		if last := len(runs) - 1; last >= 0 && parts[runs[last][0]].source == p.source && inRun+len(p.text) <= size {
			runs[last] = append(runs[last], i)
			inRun += len(p.text)
			continue
		}
		runs = append(runs, []int{i})
		inRun = len(p.text)
	}
	out := make([][]Document, len(parts))
	err := onEveryCPU(len(runs), func(i int) error { return parseRun(parts, runs[i], file, limits, out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseRun parses the manifests parts[m] for m in members into out[m]: as one joined
// stream when it can, else one by one.
func parseRun(parts []part, members []int, file func(string) string, limits Limits, out [][]Document) error {
	name := file(parts[members[0]].source)
	one := func() error {
		for _, m := range members {
			docs, err := ParseDocuments(name, []byte(parts[m].text), limits)
			if err != nil {
				return err
			}
			out[m] = docs
		}
		return nil
	}
	if len(members) == 1 {
		return one()
	}
	var joined []byte
	starts := make([]int, len(members)) // the line each manifest starts at in joined
	line := 1
	for k, m := range members {
		text := parts[m].text
		// Lines are counted at "\n": a text with another line break, or a byte order
		// mark, which a parser only takes at the start of a stream, goes alone.
		if int64(len(text)) > limits.MaxFileBytes || mayHaveAliases([]byte(text)) || directive(text) ||
			strings.ContainsAny(text, "\r\u0085\u2028\u2029\ufeff") {
			return one()
		}
		if k > 0 {
			joined = append(joined, "---\n"...)
			line++
		}
		starts[k] = line
		joined = append(joined, text...)
		line += strings.Count(text, "\n")
		if !strings.HasSuffix(text, "\n") {
			joined = append(joined, '\n')
			line++
		}
	}
	stream := limits
	stream.MaxFileBytes = limits.MaxTotalBytes
	docs, err := ParseDocuments(name, joined, stream)
	if err != nil {
		return one()
	}
	k := 0
	for _, d := range docs {
		for k+1 < len(starts) && d.Node.Line >= starts[k+1] {
			k++
		}
		shiftLines(d.Node, starts[k]-1)
		d.Index = len(out[members[k]])
		out[members[k]] = append(out[members[k]], d)
	}
	for _, m := range members {
		if len(out[m]) > limits.MaxDocuments {
			return fmt.Errorf("%s has more than %d documents: %w", name, limits.MaxDocuments, ErrLimit)
		}
	}
	return nil
}

// directive reports whether text has a line that starts with "%": a YAML directive.
func directive(text string) bool {
	return strings.HasPrefix(text, "%") || strings.Contains(text, "\n%")
}

// shiftLines moves every node of n up by d lines.
func shiftLines(n *yaml.Node, d int) {
	if d == 0 {
		return
	}
	n.Line -= d
	for _, c := range n.Content {
		shiftLines(c, d)
	}
}

// chartRelative turns Helm's "<chart name>/templates/x.yaml" into the path inside
// the chart directory; a subchart's stays under charts/<name>/.
func chartRelative(name string) string {
	if _, rest, ok := strings.Cut(name, "/"); ok {
		return rest
	}
	return name
}

// checkVendored refuses a chart whose dependencies are not in its charts/ directory:
// fetching them would need the network.
func checkVendored(ch *chart.Chart, rel string) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		found := false
		for _, sub := range ch.Dependencies() {
			found = found || sub.Name() == d.Name
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s %s from %s", d.Name, d.Version, d.Repository))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("chart %s: dependency %s is not vendored in %s/charts/: %w; run `helm dependency build %s` and commit %s/charts/",
			ch.Name(), strings.Join(missing, ", "), rel, ErrRemote, rel, rel)
	}
	for _, sub := range ch.Dependencies() {
		if err := checkVendored(sub, rel+"/charts/"+sub.Name()); err != nil {
			return err
		}
	}
	return nil
}

// capabilities are helm template's client-only defaults with the requested
// Kubernetes version and extra API versions.
func capabilities(opts Options) (*chartutil.Capabilities, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	if opts.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(opts.KubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kube version %q: %w; give it as 1.31 or v1.31.2", opts.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	// Copy before appending: the default set is shared by every render.
	caps.APIVersions = append(append(chartutil.VersionSet{}, caps.APIVersions...), opts.APIVersions...)
	return caps, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
