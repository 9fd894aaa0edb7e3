package demo

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// helperTB lets the demo, which is not a test, use the registry, signing and
// transparency-log helpers of shared/registry/registrytest. They report a failure
// through testing.TB, as in a test: Fatal records it and ends the calling goroutine,
// and run turns that into an error for the step. Only the methods registrytest calls
// are implemented; the embedded TB is nil, so any other method would panic.
type helperTB struct {
	testing.TB

	mu       sync.Mutex
	err      error
	cleanups []func()
}

// run calls f on a goroutine of its own, so that Fatal can end it, and returns the
// failure f reported, if any.
func (h *helperTB) run(f func()) error {
	h.mu.Lock()
	h.err = nil
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Helper does nothing: there is no test output to attribute lines in.
func (h *helperTB) Helper() {}

// Fatal records the failure and ends the goroutine, as t.Fatal does.
func (h *helperTB) Fatal(args ...any) { h.fail(fmt.Sprint(args...)) }

// Fatalf records the failure and ends the goroutine, as t.Fatalf does.
func (h *helperTB) Fatalf(format string, args ...any) { h.fail(fmt.Sprintf(format, args...)) }

func (h *helperTB) fail(msg string) {
	h.mu.Lock()
	h.err = errors.New(msg)
	h.mu.Unlock()
	runtime.Goexit()
}

// Cleanup remembers f; cleanup runs them, last registered first.
func (h *helperTB) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

// cleanup runs the functions registered with Cleanup.
func (h *helperTB) cleanup() {
	h.mu.Lock()
	fs := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
