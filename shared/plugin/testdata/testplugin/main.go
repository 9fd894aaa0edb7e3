// Command testplugin is a plugin for the runner's tests. Its first argument picks how
// it behaves, so that one build covers every case: answering, failing, crashing,
// hanging, and breaking the handshake in several ways.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/promotion-gate/promotion-gate/shared/plugin/sdk"
)

func main() {
	mode := "pass"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "exit-at-start":
		fmt.Fprintln(os.Stderr, "cannot read configuration: no such file")
		os.Exit(3)
	case "hang-at-start":
		time.Sleep(time.Hour)
	case "wrong-version":
		hs := sdk.Handshake
		hs.ProtocolVersion = sdk.ProtocolVersion + 1
		goplugin.Serve(&goplugin.ServeConfig{HandshakeConfig: hs, GRPCServer: goplugin.DefaultGRPCServer})
		return
	case "not-a-plugin":
		fmt.Println("hello, world")
		return
	}
	sdk.Serve(sdk.CheckerFunc(func(ctx context.Context, req sdk.Request) ([]sdk.Finding, error) {
		switch mode {
		case "fail":
			return []sdk.Finding{{
				Message: "image " + req.Image + " is not allowed here\nsecond line",
				Fix:     "use another image",
			}}, nil
		case "echo":
			return []sdk.Finding{{Message: echo(req)}}, nil
		case "many":
			fs := make([]sdk.Finding, 120)
			for i := range fs {
				fs[i] = sdk.Finding{Message: fmt.Sprintf("finding %d", i), Fix: "none"}
			}
			return fs, nil
		case "error":
			return nil, fmt.Errorf("registry %s unreachable", req.Parameters["registry"])
		case "crash":
			panic("boom: nil report")
		case "exit":
			// The log package writes to the real stderr; os.Stderr is a pipe to the
			// host's SyncStderr after Serve, which an exiting process may not flush.
			log.Print("out of memory")
			os.Exit(2)
		case "env":
			return []sdk.Finding{{Message: "value=" + os.Getenv("PROMOTION_GATE_TEST_VALUE")}}, nil
		case "spawn":
			// A child in the plugin's process group, left running: stopping the
			// plugin must stop it too.
			child := exec.Command(os.Args[0], "hang-at-start")
			if err := child.Start(); err != nil {
				return nil, err
			}
			return []sdk.Finding{{Message: fmt.Sprintf("child=%d", child.Process.Pid)}}, nil
		case "hang":
			select {} // ignores ctx: the host must kill it
		}
		return nil, nil
	}))
}

// echo spells every request field, parameters sorted, so a test can compare it.
func echo(req sdk.Request) string {
	keys := make([]string, 0, len(req.Parameters))
	for k := range req.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	params := make([]string, 0, len(keys))
	for _, k := range keys {
		params = append(params, k+"="+req.Parameters[k])
	}
	return fmt.Sprintf("image=%s digest=%s env=%s protected=%t rule=%s plugin=%s revision=%s params=%s pid=%d",
		req.Image, req.Digest, req.Environment, req.Protected, req.Rule, req.Plugin, req.PolicyRevision,
		strings.Join(params, ","), os.Getpid())
}
