package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	pluginv1 "github.com/promotion-gate/promotion-gate/shared/plugin/proto/v1"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// DefaultTimeout is a plugin's timeout when the policy gives none. The timeout bounds
// starting the process (with its handshake) and, separately, each check.
const DefaultTimeout = 30 * time.Second

// maxFindings caps what one plugin may report for one image, so that a runaway plugin
// cannot flood a report.
const maxFindings = 50

// errClosed is returned by a Runner used after Close.
var errClosed = errors.New("plugin runner is closed: create a new one")

// Options configure a Runner. The zero value is usable.
type Options struct {
	// Dir is the directory a relative plugin path is resolved against (usually the
	// directory the policy was read from). Empty means the working directory.
	Dir string
	// Env is added to the plugin's environment, which is otherwise the host's own; a
	// variable set here overrides the host's.
	Env []string
	// Log receives the host's log lines about each plugin and the plugin's own log lines
	// (bounded per process). Nil discards them.
	Log io.Writer
}

// Runner starts plugin processes and runs their checks; it implements
// evaluate.PluginRunner. A plugin process is started on first use, verified by SHA-256
// before every start, and reused for later checks until it fails or Close is called. A
// failing plugin (wrong hash, failed handshake, crash, timeout) is killed and becomes a
// violation that names it, so the evaluator fails closed for it.
//
// Make a Runner with NewRunner; it is safe for concurrent use.
type Runner struct {
	opts Options

	mu     sync.Mutex
	slots  map[string]*slot
	closed bool

	// started, when set (tests), is told the PID of every plugin process started.
	started func(pid int)
}

// slot holds the running process of one plugin declaration; its lock serialises
// starting and replacing the process.
type slot struct {
	mu sync.Mutex
	in *instance
}

var _ evaluate.PluginRunner = (*Runner)(nil)

// NewRunner returns a Runner. Call Close when done to stop the plugin processes.
func NewRunner(opts Options) *Runner {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Runner{opts: opts, slots: map[string]*slot{}}
}

// RunPlugins runs every plugin of the rule for the image, in order. Each plugin's
// findings, and each plugin that fails to run, become violations naming the plugin. The
// only error is a cancelled context or a closed runner: the whole check then cannot
// decide.
func (r *Runner) RunPlugins(ctx context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	var out []evaluate.Violation
	for _, p := range c.Rule.Plugins {
		vs, err := r.run(ctx, p, c)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// Close stops every plugin process. The Runner must not be used afterwards.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	slots := r.slots
	r.slots = map[string]*slot{}
	r.mu.Unlock()
	for _, s := range slots {
		s.mu.Lock()
		if s.in != nil {
			s.in.stop(false)
			s.in = nil
		}
		s.mu.Unlock()
	}
	return nil
}

func (r *Runner) run(ctx context.Context, p policy.Plugin, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	timeout := DefaultTimeout
	if p.Timeout != "" {
		d, err := time.ParseDuration(p.Timeout)
		if err != nil || d <= 0 {
			return []evaluate.Violation{failure(p, fmt.Sprintf("has an invalid timeout %q", p.Timeout),
				`set timeout to a positive Go duration such as "30s"`)}, nil
		}
		timeout = d
	}
	s, err := r.slot(p)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	s.mu.Lock()
	in, v, err := r.instance(s, p, timeout)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if v != nil {
		return []evaluate.Violation{*v}, nil
	}

	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := in.checker.Check(callCtx, request(p, c))
	if err == nil {
		return violations(p, resp), nil
	}
	if ctx.Err() != nil {
		r.drop(s, in)
		return nil, fmt.Errorf("plugin %q: %w", p.Name, ctx.Err())
	}
	kind := in.classify(callCtx, err)
	if kind != refused {
		r.drop(s, in)
	}
	return []evaluate.Violation{in.callFailure(p, kind, err, timeout)}, nil
}

// slot returns the slot of a plugin declaration: the same executable, hash and
// arguments share one process.
func (r *Runner) slot(p policy.Plugin) (*slot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errClosed
	}
	key := fmt.Sprintf("%s\x00%s\x00%q", r.path(p), p.SHA256, p.Args)
	s := r.slots[key]
	if s == nil {
		s = &slot{}
		r.slots[key] = s
	}
	return s, nil
}

// instance returns the running process of the slot, starting one when there is none or
// the previous one exited. A start that fails is a violation. The caller holds s.mu, so
// a concurrent Close either stops what this starts or is seen here.
func (r *Runner) instance(s *slot, p policy.Plugin, timeout time.Duration) (*instance, *evaluate.Violation, error) {
	if s.in != nil && !s.in.client.Exited() {
		return s.in, nil, nil
	}
	if s.in != nil {
		s.in.stop(true)
		s.in = nil
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, nil, errClosed
	}
	in, v := r.start(p, timeout)
	if v != nil {
		return nil, v, nil
	}
	s.in = in
	return in, nil, nil
}

// drop stops the instance and removes it from its slot, unless it was replaced already.
func (r *Runner) drop(s *slot, in *instance) {
	s.mu.Lock()
	if s.in == in {
		s.in = nil
	}
	s.mu.Unlock()
	in.stop(true)
}

// path is the plugin executable, absolute: a bare name is never looked up in PATH.
func (r *Runner) path(p policy.Plugin) string {
	path := p.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.opts.Dir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func request(p policy.Plugin, c evaluate.ImageCheck) *pluginv1.CheckRequest {
	return &pluginv1.CheckRequest{
		Image:          c.Ref.String(),
		Digest:         c.Ref.Digest,
		Environment:    c.Environment.Environment,
		Protected:      c.Environment.Protected,
		Parameters:     p.Parameters,
		PolicyRevision: c.PolicyRevision,
		Rule:           c.Rule.Name,
		Plugin:         p.Name,
	}
}

// violations turns a plugin's findings into violations that name the plugin.
func violations(p policy.Plugin, resp *pluginv1.CheckResponse) []evaluate.Violation {
	fs := resp.GetFindings()
	out := make([]evaluate.Violation, 0, min(len(fs), maxFindings+1))
	for i, f := range fs {
		if i == maxFindings {
			out = append(out, evaluate.Violation{
				Message: fmt.Sprintf("plugin %q: %d more findings not shown", p.Name, len(fs)-maxFindings),
				Fix:     "fix the findings above and run the check again",
			})
			break
		}
		fix := oneLine(f.GetFix())
		if fix == "" {
			fix = fmt.Sprintf("see plugin %q's documentation", p.Name)
		}
		out = append(out, evaluate.Violation{Message: fmt.Sprintf("plugin %q: %s", p.Name, oneLine(f.GetMessage())), Fix: fix})
	}
	return out
}

// failure is the violation for a plugin that could not run.
func failure(p policy.Plugin, what, fix string) evaluate.Violation {
	return evaluate.Violation{Message: fmt.Sprintf("plugin %q %s", p.Name, what), Fix: fix}
}
