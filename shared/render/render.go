package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
)

// Render renders the application at opts.Path: a directory with a kustomization file
// through kustomize, a directory with Chart.yaml through Helm, otherwise the plain
// YAML files (*.yaml, *.yml, *.json) of the directory, not of its subdirectories, in
// name order — as Argo CD's directory source does by default.
//
// Nothing is read outside opts.RepoRoot and nothing is fetched from the network.
// Errors name the input and the fix. A canceled ctx stops the render; kustomize and
// Helm cannot be interrupted inside a computation, so their work is abandoned (it
// finishes in the background) rather than awaited.
func Render(ctx context.Context, opts Options) (*Result, error) {
	if opts.Cache != nil {
		return opts.Cache.render(ctx, opts)
	}
	if !opts.InProcess {
		return Sandbox{}.Render(ctx, opts)
	}
	return renderHere(ctx, opts)
}

// renderHere renders in this process.
func renderHere(ctx context.Context, opts Options) (*Result, error) {
	res, _, err := renderIn(ctx, opts)
	return res, err
}

// renderIn renders in this process, and returns what the render read even when it
// failed: a sandboxed worker names the field that asked for the network from it.
func renderIn(ctx context.Context, opts Options) (*Result, []Input, error) {
	return renderWith(ctx, opts, false)
}

// renderWith is renderIn; callerParses leaves the parse back of the output to the
// caller (see confinement.callerParses).
func renderWith(ctx context.Context, opts Options, callerParses bool) (*Result, []Input, error) {
	opts.Limits = opts.Limits.withDefaults()
	root := opts.RepoRoot
	if root == "" {
		// Without a repository, the application confines itself: its directory.
		root = opts.Path
		if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
			root = filepath.Dir(root)
		}
	}
	c, err := newConfinement(ctx, root, opts.Limits)
	if err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", opts.Path, err)
	}
	c.callerParses = callerParses
	app, err := c.app(opts.Path)
	if err != nil {
		return nil, c.Inputs(), fmt.Errorf("render %s: %w", opts.Path, err)
	}
	if callerParses && app.kind == RendererHelm {
		debug.SetGCPercent(helmGCPercent) // in a render worker: see workerGCPercent
	}
	var res *Result
	switch app.kind {
	case RendererKustomize:
		res, err = renderKustomize(c, app, opts.Origins)
	case RendererHelm:
		res, err = renderHelm(c, app, opts)
	default:
		res, err = renderPlain(c, app)
	}
	if err != nil {
		name := app.rel
		if name == "." {
			name = opts.Path
		}
		return nil, c.Inputs(), oneLine{fmt.Errorf("render %s %s: %w", app.kind, name, err)}
	}
	res.Inputs = c.Inputs()
	return res, res.Inputs, nil
}

// oneLine keeps a renderer's multi-line message (kustomize and Helm have some) on
// one line: the Argo CD UI and the CLI show an error as one line per problem.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	lines := strings.Split(strings.TrimSpace(e.err.Error()), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), "; ")
}

func (e oneLine) Unwrap() error { return e.err }

// app is a resolved application path.
type app struct {
	kind string
	// dir is the real directory, rel its repository-relative name ("." for the root).
	dir, rel string
	// file is set when a single plain YAML file is rendered.
	file string
}

// chartFile is the file that makes a directory a Helm chart.
const chartFile = "Chart.yaml"

// app resolves the application path and chooses the renderer: a kustomization wins
// over a chart, as kustomize is the renderer of an overlay that happens to sit next
// to a chart's files.
func (c *confinement) app(path string) (app, error) {
	real, fi, err := c.stat(path)
	if err != nil {
		return app{}, err
	}
	if !fi.IsDir() {
		base := filepath.Base(real)
		if base != chartFile && !isKustomizationFile(base) {
			return app{kind: RendererYAML, dir: filepath.Dir(real), rel: c.display(real), file: real}, nil
		}
		real = filepath.Dir(real)
	}
	a := app{kind: RendererYAML, dir: real, rel: c.display(real)}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if _, _, err := c.stat(filepath.Join(real, name)); err == nil {
			a.kind = RendererKustomize
			return a, nil
		} else if !isNotExist(err) {
			return app{}, err
		}
	}
	if _, _, err := c.stat(filepath.Join(real, chartFile)); err == nil {
		a.kind = RendererHelm
	} else if !isNotExist(err) {
		return app{}, err
	}
	return a, nil
}

func isKustomizationFile(name string) bool {
	for _, k := range konfig.RecognizedKustomizationFileNames() {
		if name == k {
			return true
		}
	}
	return false
}

// join names a file under the application for Document.File: repository-relative.
func (a app) join(rel string) string {
	if a.rel == "." {
		return filepath.ToSlash(rel)
	}
	return a.rel + "/" + filepath.ToSlash(rel)
}

// abandon runs f, but returns when ctx ends even if f has not: kustomize and Helm
// take no context. A panic in f (a renderer bug met by odd input) becomes an error.
func abandon[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.err = fmt.Errorf("renderer panicked: %v", p)
			}
			done <- o
		}()
		o.v, o.err = f()
	}()
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("render canceled: %w: %w", ctx.Err(), errAbandoned)
	}
}

// errAbandoned marks a render left running in the background by abandon.
var errAbandoned = errors.New("the renderer was left to finish in the background")
