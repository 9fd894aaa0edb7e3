package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultMaxMemory is the memory budget of a sandboxed render when Options.MaxMemory
// is zero: half of the Argo CD sidecar's default memory limit (1 GiB), which leaves
// room for the plugin process itself and a second render.
const DefaultMaxMemory = 512 << 20

// workerGCPercent is the worker's GOGC: see limitMemory. A Helm render collects as
// Go and the helm CLI do by default (helmGCPercent): Helm allocates far less than
// kustomize, so the CPU time that rare collections save is small beside the memory
// they cost, and that memory is what shows next to the helm CLI's (on a chart of
// 2,000 Deployments, about 92 MiB peak instead of 108 MiB, for about 15% more CPU
// time in all: docs/benchmarks.md).
const (
	workerGCPercent = 400
	helmGCPercent   = 100
)

// workerEnv marks a process started as a render worker.
const workerEnv = "PROMOTION_GATE_RENDER_WORKER"

// workerRequest is what the caller sends on the worker's stdin: what to render, and
// the caller's deadline (Unix nanoseconds; 0 for none), past which the worker stops
// on its own.
type workerRequest struct {
	Options  Options
	Deadline int64
}

// Sandbox renders in a child process: this executable started again as a render
// worker (see ServeWorker). The child
//
//   - runs under an operating-system memory limit (RLIMIT_AS on Linux) that keeps
//     its resident memory within Options.MaxMemory: a template that allocates without
//     end makes the child fail, never the sidecar or the controller;
//   - has no network: its HTTP transport, DNS resolver and PATH are replaced before it
//     renders, so whichever kustomize or Helm field takes a URL, nothing is fetched;
//   - is killed when ctx ends, so an abandoned render does not run on;
//   - keeps its own stderr (kustomize's warnings) from the caller's output.
//
// The caller parses the emitted stream itself, so what it checks is what it emits.
type Sandbox struct {
	// Executable is the program started as the worker; "" means this process's own
	// executable, whose main must call ServeWorker first.
	Executable string
}

// ServeWorker returns at once unless this process was started as a render worker by
// Sandbox; then it renders the request on stdin and exits. Every program that
// renders (and every test binary that does) calls it first thing in main (TestMain).
func ServeWorker() {
	if os.Getenv(workerEnv) != "1" {
		return
	}
	os.Exit(serveWorker(os.Stdin, os.NewFile(3, "render-result")))
}

// workerReply is what the worker sends back on its result pipe (file descriptor 3;
// stdout stays free for whatever a renderer prints).
type workerReply struct {
	Renderer string
	YAML     []byte
	Docs     []wireDoc
	Inputs   []Input
	Err      *wireError
	// PeakRSS is the worker's own peak resident memory when it answered.
	PeakRSS int64
	// Origins are the documents' origins, each once: the documents of a Helm render
	// share one (the values files), and gob, which does not keep pointers shared,
	// would otherwise send the values files' trees once per document.
	Origins []*Origin
}

// wireDoc carries what the caller cannot parse from the YAML: the document's source
// file, the source line of every node, in pre-order, and where its fields were set.
type wireDoc struct {
	File  string
	Lines []int32
	// Sum is the digest of what the document the renderer produced means (see
	// shapeWalk): the caller's parse of the output must give the same.
	Sum [sha256.Size]byte
	// Origin is 1 + the index of the document's origin in workerReply.Origins; 0 for
	// none.
	Origin int
}

// wireError is a render error with the sentinels it wraps.
type wireError struct {
	Message string
	Kinds   []string
}

// sentinels are the errors that cross the process boundary by name.
var sentinels = map[string]error{
	"limit": ErrLimit, "outside": ErrOutsideRoot, "remote": ErrRemote, "emit": ErrEmit, "memory": ErrMemory,
}

func toWire(err error) *wireError {
	w := &wireError{Message: err.Error()}
	for name, s := range sentinels {
		if errors.Is(err, s) {
			w.Kinds = append(w.Kinds, name)
		}
	}
	return w
}

// workerError is a worker's render error, rebuilt in the caller.
type workerError struct {
	msg   string
	kinds []error
}

func (e *workerError) Error() string { return e.msg }

func (e *workerError) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

func (w *wireError) err() error {
	e := &workerError{msg: w.Message}
	for _, k := range w.Kinds {
		if s, ok := sentinels[k]; ok {
			e.kinds = append(e.kinds, s)
		}
	}
	return e
}

// Render renders opts in a worker process and parses its output.
func (s Sandbox) Render(ctx context.Context, opts Options) (*Result, error) {
	if os.Getenv(workerEnv) == "1" {
		return nil, errors.New("a render worker may not start another: the program's main does not call render.ServeWorker")
	}
	opts.Limits = opts.Limits.withDefaults()
	budget := opts.MaxMemory
	if budget <= 0 {
		budget = DefaultMaxMemory
	}
	stats := opts.Stats
	opts.Stats, opts.Cache, opts.InProcess, opts.MaxMemory = nil, nil, true, budget

	req := workerRequest{Options: opts}
	if deadline, ok := ctx.Deadline(); ok {
		req.Deadline = deadline.UnixNano()
	}
	var w *worker
	if s.Executable == "" {
		w = takeSpare()
	}
	if w == nil || w.send(req) != nil {
		if w != nil {
			w.abandon()
		}
		var err error
		if w, err = startWorker(s.Executable); err != nil {
			return nil, fmt.Errorf("render %s: %w", opts.Path, err)
		}
		if err := w.send(req); err != nil {
			w.abandon()
			return nil, fmt.Errorf("render %s: send the request to the render worker: %w", opts.Path, err)
		}
	}
	cmd, resultR, stderr, exe := w.cmd, w.result, w.stderr, w.exe
	defer resultR.Close()

	// The worker writes one byte when it starts (it is past exec then: before it,
	// /proc shows this process's memory), then the reply, which is bounded: the output
	// limit, plus the line tables and inputs.
	started := make(chan struct{})
	read := make(chan []byte, 1)
	go func() {
		var b [1]byte
		if n, _ := io.ReadFull(resultR, b[:]); n == 1 {
			close(started)
		}
		data, _ := io.ReadAll(io.LimitReader(resultR, 2*opts.Limits.MaxTotalBytes+(16<<20)))
		read <- data
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// Sample the worker's high-water mark while it runs: a worker stopped at its
	// memory limit cannot report its own.
	var peak int64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	var waitErr error
wait:
	for {
		select {
		case waitErr = <-waited:
			break wait
		case <-tick.C:
			select {
			case <-started:
				peak = max(peak, peakRSS(cmd.Process.Pid))
			default:
			}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-waited
			if stats != nil {
				stats.PeakRSS = peak
			}
			return nil, fmt.Errorf("render %s: render canceled: %w", opts.Path, ctx.Err())
		}
	}
	data := <-read
	var reply workerReply
	decodeErr := gob.NewDecoder(bytes.NewReader(data)).Decode(&reply)
	if stats != nil {
		stats.PeakRSS = max(peak, reply.PeakRSS)
	}
	if waitErr != nil {
		if outOfMemory(stderr.String()) {
			return nil, fmt.Errorf("render %s: the render needed more than its memory budget of %d MiB: %w; make the application smaller, or %s",
				opts.Path, budget>>20, ErrMemory, raiseBudget)
		}
		return nil, fmt.Errorf("render %s: the render worker failed (%v): %s", opts.Path, waitErr, firstLine(stderr.String()))
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("render %s: the render worker (%s) did not answer: %w; its main must call render.ServeWorker",
			opts.Path, exe, decodeErr)
	}
	if reply.Err != nil {
		return nil, reply.Err.err()
	}
	return reply.result(opts.Limits)
}

// result parses the worker's output: the documents checked are the ones parsed here,
// from the bytes that will be emitted, with the worker's source names and lines. Each
// must mean what the renderer produced (the same digest): the worker does not parse
// its output back itself, so this is the one parse, and the comparison emitted makes
// in process.
func (r *workerReply) result(limits Limits) (*Result, error) {
	docs, err := parseOutput(r.YAML, limits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEmit, err)
	}
	if len(docs) != len(r.Docs) {
		return nil, fmt.Errorf("%w: it parses back to %d documents, the renderer produced %d; refusing to emit what was not checked", ErrEmit, len(docs), len(r.Docs))
	}
	var w shapeWalk
	for i := range docs {
		w.reset(r.Docs[i].Lines)
		if !w.adopt(docs[i].Node) || w.next != len(w.lines) || w.sum() != r.Docs[i].Sum {
			return nil, fmt.Errorf("%w: document %d from %s does not parse back to what the renderer produced; refusing to emit what was not checked", ErrEmit, i, r.Docs[i].File)
		}
		docs[i].File = r.Docs[i].File
		if o := r.Docs[i].Origin; o > 0 && o <= len(r.Origins) {
			docs[i].Origin = r.Origins[o-1]
		}
	}
	return &Result{Renderer: r.Renderer, Documents: docs, YAML: r.YAML, Inputs: r.Inputs}, nil
}

// parseOutput parses a rendered output in as many pieces as there are CPUs, each
// piece a run of whole documents: it is cut only before a "---" line, which starts a
// document for every YAML reader (Kubernetes' reader, Argo CD's, splits there too).
// An output that may hold aliases or merge keys is parsed as one stream, so that one
// alias budget bounds all of it.
func parseOutput(out []byte, limits Limits) ([]Document, error) {
	stream := limits
	stream.MaxFileBytes = limits.MaxTotalBytes
	n := runtime.GOMAXPROCS(0)
	if n == 1 || mayHaveAliases(out) {
		return ParseDocuments("the rendered output", out, stream)
	}
	var parts []part
	for start := 0; start < len(out); {
		end := len(out)
		if len(parts) < n-1 {
			want := start + (len(out)-start)/(n-len(parts))
			if i := bytes.Index(out[want:], []byte("\n---\n")); i >= 0 {
				end = want + i + 1
			}
		}
		parts = append(parts, part{"the rendered output", string(out[start:end])})
		start = end
	}
	parsed, err := parseParts(parts, func(p part) ([]Document, error) {
		return ParseDocuments(p.source, []byte(p.text), stream)
	})
	if err != nil {
		return nil, err
	}
	var docs []Document
	for _, d := range parsed {
		if len(docs)+len(d) > limits.MaxDocuments {
			return nil, fmt.Errorf("the rendered output has more than %d documents: %w", limits.MaxDocuments, ErrLimit)
		}
		docs = append(docs, d...)
	}
	for i := range docs {
		docs[i].Index = i
	}
	return docs, nil
}

// shapeWalk goes through a document as sameTree compares it — aliases and the
// document node resolved — in pre-order, and digests what it means: each node's kind
// and number of children, each scalar's tag and value. Two documents with the same
// digest are equal for sameTree (with their keys in the same order). It records the
// line of every node (record) or gives every node its line from the table (adopt).
type shapeWalk struct {
	lines []int32
	next  int
	buf   []byte
}

func (w *shapeWalk) reset(lines []int32) {
	w.lines, w.next, w.buf = lines, 0, w.buf[:0]
}

func (w *shapeWalk) sum() [sha256.Size]byte { return sha256.Sum256(w.buf) }

// resolve follows aliases and unwraps a document node, as sameTree does.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n
}

func (w *shapeWalk) digest(n *yaml.Node) {
	w.buf = append(w.buf, byte(n.Kind))
	w.buf = binary.AppendUvarint(w.buf, uint64(len(n.Content)))
	if n.Kind == yaml.ScalarNode {
		tag := n.ShortTag()
		w.buf = binary.AppendUvarint(w.buf, uint64(len(tag)))
		w.buf = append(w.buf, tag...)
		w.buf = binary.AppendUvarint(w.buf, uint64(len(n.Value)))
		w.buf = append(w.buf, n.Value...)
	}
}

// record appends the line of every node of n to the table and digests n.
func (w *shapeWalk) record(n *yaml.Node) {
	n = resolve(n)
	w.lines = append(w.lines, int32(n.Line))
	w.digest(n)
	for _, c := range n.Content {
		w.record(c)
	}
}

// adopt gives the nodes of n the lines of the table and digests n; false when n has
// more nodes than the table.
func (w *shapeWalk) adopt(n *yaml.Node) bool {
	n = resolve(n)
	if w.next == len(w.lines) {
		return false
	}
	n.Line = int(w.lines[w.next])
	w.next++
	w.digest(n)
	for _, c := range n.Content {
		if !w.adopt(c) {
			return false
		}
	}
	return true
}

// serveWorker renders one request: the child's side of Sandbox.Render.
func serveWorker(in io.Reader, out *os.File) int {
	if _, err := out.Write([]byte{'+'}); err != nil {
		return 2
	}
	var req workerRequest
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return 0 // a spare worker (Prestart) that was not needed
		}
		fmt.Fprintf(os.Stderr, "render worker: read the request: %v\n", err)
		return 2
	}
	if req.Deadline != 0 {
		time.AfterFunc(time.Until(time.Unix(0, req.Deadline)), func() { os.Exit(3) })
	}
	opts := req.Options
	var res *Result
	var inputs []Input
	err := limitMemory(opts.MaxMemory)
	if err != nil {
		err = fmt.Errorf("render %s: %w: %w; %s", opts.Path, err, ErrMemory, raiseBudget)
	} else {
		offline()
		res, inputs, err = renderWith(context.Background(), opts, true)
		if urls := refusedURLs(); len(urls) > 0 {
			// A renderer may swallow the transport's error; the refusal stands anyway.
			err = remoteError(opts, inputs, urls)
		}
	}
	var reply workerReply
	if err != nil {
		reply.Err = toWire(err)
	} else {
		reply = replyOf(res)
	}
	reply.PeakRSS = peakRSS(os.Getpid())
	if err := gob.NewEncoder(out).Encode(&reply); err != nil {
		fmt.Fprintf(os.Stderr, "render worker: write the result: %v\n", err)
		return 2
	}
	return 0
}

// replyOf is what a worker sends for a successful render, and what the cache keeps.
func replyOf(res *Result) workerReply {
	reply := workerReply{Renderer: res.Renderer, YAML: res.YAML, Inputs: res.Inputs}
	origins := map[*Origin]int{}
	var walk shapeWalk
	for _, d := range res.Documents {
		walk.reset(nil)
		walk.record(d.Node)
		w := wireDoc{File: d.File, Lines: walk.lines, Sum: walk.sum()}
		if d.Origin != nil {
			if w.Origin = origins[d.Origin]; w.Origin == 0 {
				reply.Origins = append(reply.Origins, d.Origin)
				w.Origin = len(reply.Origins)
				origins[d.Origin] = w.Origin
			}
		}
		reply.Docs = append(reply.Docs, w)
	}
	return reply
}

// workerEnviron is the worker's whole environment: no PATH (nothing to execute, so
// no git clone), no proxy settings, no credentials.
func workerEnviron() []string {
	env := []string{workerEnv + "=1", "PATH=", "TMPDIR=" + os.TempDir(), "GOTRACEBACK=none"}
	// Coverage-instrumented test binaries write their profiles here.
	if d := os.Getenv("GOCOVERDIR"); d != "" {
		env = append(env, "GOCOVERDIR="+d)
	}
	return env
}

// raiseBudget says where each door sets the render memory budget.
const raiseBudget = "raise the budget (PROMOTION_GATE_MAX_MEMORY on the Argo CD sidecar, --max-memory for the promotion-gate CLI, --render-max-memory for flux-gate)"

// outOfMemory reports whether a worker's stderr says it stopped at its memory limit:
// the Go runtime, or a thread it could not start, failed to get memory.
func outOfMemory(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "pthread_create failed", "newosproc"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// tailBuffer keeps the first and the last max bytes written to it: a Go runtime
// failure says what it is first, a worker's own error comes last.
type tailBuffer struct {
	max        int
	head, tail []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := t.max - len(t.head); room > 0 {
		take := min(room, len(p))
		t.head, p = append(t.head, p[:take]...), p[take:]
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > t.max {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-t.max:]...)
	}
	return n, nil
}

func (t *tailBuffer) String() string { return string(t.head) + string(t.tail) }

// firstLine is the first line of s that says something: a Go runtime failure
// ("fatal error: …") or the worker's own error.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return "no message"
}
