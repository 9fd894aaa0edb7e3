// Command promotion-gate runs the promotion policy in CI: it renders application paths
// (kustomize, Helm or plain YAML), classifies them into environments and checks every
// image against the platform's PromotionPolicy — the same check flux-gate and the Argo CD
// plugin run.
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"io"
	"os"
	"strings"
)

// Exit codes, stable for CI scripts.
const (
	exitAllowed = 0 // allowed, or warned
	exitDenied  = 1 // the policy denied at least one path
	exitConfig  = 2 // usage or configuration error: bad flags, policy or input
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	check.ServeWorker()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitAllowed
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code == exitConfig {
			fmt.Fprintln(stderr, "promotion-gate:", oneLine(ee.err))
		}
		return ee.code
	}
	// cobra's own errors (unknown flag, wrong argument count) are usage errors.
	fmt.Fprintln(stderr, "promotion-gate:", oneLine(err))
	return exitConfig
}

// oneLine folds an error onto one line: CI logs and PR checks show the first line, and
// some causes (kustomize's) span several.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
