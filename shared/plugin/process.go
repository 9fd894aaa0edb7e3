package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	pluginv1 "github.com/promotion-gate/promotion-gate/shared/plugin/proto/v1"
	"github.com/promotion-gate/promotion-gate/shared/plugin/sdk"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const (
	// killGrace is how long a stop waits for a plugin to exit by itself before killing it.
	killGrace = 3 * time.Second
	// stderrTail is how much of a plugin's stderr is kept to explain a failure.
	stderrTail = 16 << 10
	// logLimit bounds the log lines one plugin process may write to Options.Log.
	logLimit = 256 << 10
)

// instance is one running plugin process.
type instance struct {
	client  *goplugin.Client
	cmd     *exec.Cmd
	checker pluginv1.CheckerClient
	stderr  *tail
	once    sync.Once
}

// start verifies and starts the plugin and completes the handshake. Every failure is
// a violation, and leaves no process behind.
func (r *Runner) start(p policy.Plugin, timeout time.Duration) (*instance, *evaluate.Violation) {
	path := r.path(p)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		v := failure(p, fmt.Sprintf("cannot run: executable %s not found (%v)", path, causeOf(err, "not a regular file")),
			"build the plugin and install it at the path the policy names, or fix the path")
		return nil, &v
	}
	sum, err := hex.DecodeString(p.SHA256)
	if err != nil || len(sum) != sha256.Size {
		v := failure(p, fmt.Sprintf("has an invalid sha256 %q", p.SHA256),
			"set sha256 to the 64 hex digits that `sha256sum "+path+"` prints")
		return nil, &v
	}
	in := &instance{stderr: &tail{max: stderrTail}}
	in.cmd = exec.Command(path, p.Args...)
	// The host's environment first, so that Options.Env overrides it (the last value
	// of a variable wins); go-plugin adds its handshake variables after both.
	in.cmd.Env = append(os.Environ(), r.opts.Env...)
	setProcessGroup(in.cmd)
	in.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          goplugin.PluginSet{sdk.PluginName: checkerClient{}},
		Cmd:              in.cmd,
		SecureConfig:     &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          false,
		SkipHostEnv:      true,
		StartTimeout:     timeout,
		// The plugin's stderr before Serve (and Go's panic output) arrives on Stderr,
		// what it writes to os.Stderr after Serve on SyncStderr: both explain failures.
		Stderr:     in.stderr,
		SyncStderr: in.stderr,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "plugin." + p.Name,
			Output: &limited{w: r.opts.Log, n: logLimit},
			Level:  hclog.Info,
		}),
	})
	rpc, err := in.client.Client()
	if in.cmd.Process != nil && r.started != nil {
		r.started(in.cmd.Process.Pid)
	}
	if err != nil {
		in.stop(true)
		v := in.startFailure(p, path, err)
		return nil, &v
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	checker, ok := raw.(pluginv1.CheckerClient)
	if err != nil || !ok {
		in.stop(true)
		v := failure(p, fmt.Sprintf("started but serves no checker: %v", causeOf(err, "wrong client type")),
			"build the plugin with promotion-gate's sdk.Serve")
		return nil, &v
	}
	in.checker = checker
	return in, nil
}

func (in *instance) startFailure(p policy.Plugin, path string, err error) evaluate.Violation {
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		got := "unreadable"
		if b, rerr := os.ReadFile(path); rerr == nil {
			s := sha256.Sum256(b)
			got = hex.EncodeToString(s[:])
		}
		return failure(p,
			fmt.Sprintf("was not started: executable %s has sha256 %s, the policy declares %s", path, got, p.SHA256),
			"install the plugin build the policy declares; if you built and trust this one, set sha256 to "+got)
	}
	return failure(p, fmt.Sprintf("failed to start or to complete the handshake: %s%s", oneLine(err.Error()), in.exitNote()),
		"the executable must be a promotion-gate plugin (sdk.Serve, protocol version 1) that starts within the timeout; run it with the gate and read its stderr")
}

// callKind says why a Check call failed.
type callKind int

const (
	// refused: the plugin answered with an error; it is still running.
	refused callKind = iota
	// timedOut: the plugin did not answer within its timeout.
	timedOut
	// crashed: the connection broke, the process is gone or going.
	crashed
)

func (in *instance) classify(callCtx context.Context, err error) callKind {
	// The plugin's gRPC server enforces the same deadline and may reset the stream a
	// moment before the host's own timer fires: past the deadline, it is a timeout.
	deadline, _ := callCtx.Deadline()
	switch {
	case errors.Is(callCtx.Err(), context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded,
		!time.Now().Before(deadline):
		return timedOut
	case in.client.Exited():
		return crashed
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.Internal:
		return crashed
	}
	return refused
}

// callFailure is the violation for a failed Check call; for timeouts and crashes call
// it after stop, so that the exit status is known.
func (in *instance) callFailure(p policy.Plugin, kind callKind, err error, timeout time.Duration) evaluate.Violation {
	switch kind {
	case timedOut:
		return failure(p, fmt.Sprintf("did not answer within its timeout of %s and was stopped", timeout),
			"raise the plugin's timeout in the policy, or fix the plugin so that it answers in time")
	case crashed:
		return failure(p, fmt.Sprintf("crashed while checking the image: %s%s", oneLine(status.Convert(err).Message()), in.exitNote()),
			"fix the plugin (its last stderr line is quoted), then run the check again")
	}
	return failure(p, "could not check the image: "+oneLine(status.Convert(err).Message()),
		"fix what the plugin reports; the image passes only once the plugin can decide")
}

// exitNote describes how the process ended and the line of its stderr that says why.
func (in *instance) exitNote() string {
	var b strings.Builder
	if in.cmd.ProcessState != nil {
		fmt.Fprintf(&b, " (%s)", in.cmd.ProcessState)
	}
	if line := in.stderr.reason(); line != "" {
		fmt.Fprintf(&b, "; stderr: %q", line)
	}
	return b.String()
}

// stop ends the process: gracefully (go-plugin's shutdown) unless force, and in any case
// killed after killGrace. It returns once the process has been reaped.
func (in *instance) stop(force bool) {
	in.once.Do(func() {
		if force {
			killProcess(in.cmd)
		}
		done := make(chan struct{})
		go func() {
			in.client.Kill()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(killGrace):
			killProcess(in.cmd)
			<-done
		}
		// Children the plugin started in its process group go with it.
		killProcess(in.cmd)
	})
}

func causeOf(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

// oneLine folds whitespace so that a message fits a finding's single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
