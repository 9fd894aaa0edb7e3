package controller

import "fmt"

// The reconciler tells three kinds of trouble apart, as Flux controllers do:
//
//   - stallError: the configuration is wrong and retrying will not help; the gate
//     is marked Stalled and waits for a change of its objects.
//   - waitError: an object the gate needs does not exist yet; Ready=False, and a
//     watch wakes the gate when it appears (the interval is the fallback).
//   - reasonError (or any other error): transient; Ready=False with the reason and
//     controller-runtime retries with backoff.
type stallError struct{ reason, msg string }

func (e *stallError) Error() string { return e.msg }

func stallf(reason, format string, args ...any) error {
	return &stallError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

type waitError struct{ reason, msg string }

func (e *waitError) Error() string { return e.msg }

func waitf(reason, format string, args ...any) error {
	return &waitError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

type reasonError struct {
	reason string
	err    error
}

func (e *reasonError) Error() string { return e.err.Error() }
func (e *reasonError) Unwrap() error { return e.err }

func reasonf(reason string, err error, format string, args ...any) error {
	return &reasonError{reason: reason, err: fmt.Errorf(format+": %w", append(args, err)...)}
}
