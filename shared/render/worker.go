package render

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// worker is a started render worker process that has not been sent its request yet.
type worker struct {
	exe    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	result *os.File
	stderr *tailBuffer
}

// startWorker starts exe ("" for this program) as a render worker. It waits for its
// request on stdin.
func startWorker(exe string) (*worker, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find this program to start a render worker: %w", err)
		}
	}
	resultR, resultW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start a render worker: %w", err)
	}
	// A test binary that lacks the ServeWorker hook runs no test and exits, instead
	// of running its tests again.
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = workerEnviron()
	// The worker dies with this process: a caller that gives up and exits (the plugin
	// at its time limit) leaves nothing running.
	cmd.SysProcAttr = workerAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		resultR.Close()
		resultW.Close()
		return nil, fmt.Errorf("start a render worker: %w", err)
	}
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.ExtraFiles = []*os.File{resultW}
	if err := cmd.Start(); err != nil {
		resultR.Close()
		resultW.Close()
		return nil, fmt.Errorf("start a render worker (%s): %w", exe, err)
	}
	resultW.Close()
	return &worker{exe: exe, cmd: cmd, stdin: stdin, result: resultR, stderr: stderr}, nil
}

// send writes the request and closes the worker's stdin.
func (w *worker) send(req workerRequest) error {
	err := json.NewEncoder(w.stdin).Encode(req)
	if cerr := w.stdin.Close(); err == nil {
		err = cerr
	}
	return err
}

// abandon stops a worker that will not be used.
func (w *worker) abandon() {
	_ = w.stdin.Close()
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
	w.result.Close()
}

// spare is a worker started ahead of its render by Prestart.
var spare struct {
	sync.Mutex
	w *worker
}

// Prestart starts a render worker now, for the next sandboxed render of this process
// to use: a one-shot program (the Argo CD plugin's generate) calls it first thing, so
// that the worker's start — a second start of this program — runs while the program
// reads its policy and settings, instead of after. A worker that is not used waits
// for its request and exits with this process. Calling it again, or in a worker, does
// nothing.
func Prestart() {
	if os.Getenv(workerEnv) == "1" {
		return
	}
	spare.Lock()
	defer spare.Unlock()
	if spare.w != nil {
		return
	}
	if w, err := startWorker(""); err == nil {
		spare.w = w
	}
	// A worker that could not be started now is started, and its error reported, by
	// the render that needs it.
}

// takeSpare returns the worker Prestart started, once; nil when there is none.
func takeSpare() *worker {
	spare.Lock()
	defer spare.Unlock()
	w := spare.w
	spare.w = nil
	return w
}
