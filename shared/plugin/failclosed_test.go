package plugin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// TestRunPluginsFailsClosed covers every way a plugin can fail to answer: each is a
// violation that names the plugin and the fix, and leaves no process running.
func TestRunPluginsFailsClosed(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho not a plugin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		plugin  func(p *policy.Plugin)
		message []string
		fix     string
	}{
		{
			name:    "wrong-sha256",
			plugin:  func(p *policy.Plugin) { p.SHA256 = strings.Repeat("ab", 32) },
			message: []string{`plugin "wrong-sha256" was not started: executable ` + testPlugin.path + ` has sha256 ` + testPlugin.sha256 + `, the policy declares abab`},
			fix:     "install the plugin build the policy declares; if you built and trust this one, set sha256 to " + testPlugin.sha256,
		},
		{
			name:    "crash",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"crash"} },
			message: []string{`plugin "crash" crashed while checking the image:`, `exit status 2`, `stderr: "panic: boom: nil report"`},
			fix:     "fix the plugin (its last stderr line is quoted), then run the check again",
		},
		{
			name:    "exit",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"exit"} },
			message: []string{`plugin "exit" crashed while checking the image:`, `exit status 2`, `out of memory"`},
			fix:     "fix the plugin (its last stderr line is quoted), then run the check again",
		},
		{
			name:    "hang",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"hang"}; p.Timeout = "1s" },
			message: []string{`plugin "hang" did not answer within its timeout of 1s and was stopped`},
			fix:     "raise the plugin's timeout in the policy, or fix the plugin so that it answers in time",
		},
		{
			name:    "hang-at-start",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"hang-at-start"}; p.Timeout = "1s" },
			message: []string{`plugin "hang-at-start" failed to start or to complete the handshake: timeout while waiting for plugin to start`},
			fix:     handshakeFix,
		},
		{
			name:    "exit-at-start",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"exit-at-start"} },
			message: []string{`plugin "exit-at-start" failed to start or to complete the handshake:`, `exit status 3`, `stderr: "cannot read configuration: no such file"`},
			fix:     handshakeFix,
		},
		{
			name:    "wrong-version",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"wrong-version"} },
			message: []string{`plugin "wrong-version" failed to start or to complete the handshake:`, `incompatible API version with plugin. Plugin version: 2, Client versions: [1]`},
			fix:     handshakeFix,
		},
		{
			name:    "not-a-plugin",
			plugin:  func(p *policy.Plugin) { p.Args = []string{"not-a-plugin"} },
			message: []string{`plugin "not-a-plugin" failed to start or to complete the handshake: Unrecognized remote plugin message: hello, world`},
			fix:     handshakeFix,
		},
		{
			name: "script",
			plugin: func(p *policy.Plugin) {
				p.Path, p.Args = script, nil
				p.SHA256 = sha256Of(t, script)
			},
			message: []string{`plugin "script" failed to start or to complete the handshake: Unrecognized remote plugin message: not a plugin`},
			fix:     handshakeFix,
		},
		{
			name:    "missing",
			plugin:  func(p *policy.Plugin) { p.Path = filepath.Join(dir, "nothing-here") },
			message: []string{`plugin "missing" cannot run: executable ` + filepath.Join(dir, "nothing-here") + ` not found`},
			fix:     "build the plugin and install it at the path the policy names, or fix the path",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			r, started := newRunner(t)
			p := testPluginDecl(tt.name, "pass")
			tt.plugin(&p)
			vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, p))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(vs).To(HaveLen(1))
			for _, m := range tt.message {
				g.Expect(vs[0].Message).To(ContainSubstring(m))
			}
			g.Expect(vs[0].Message).NotTo(ContainSubstring("\n"))
			g.Expect(vs[0].Fix).To(Equal(tt.fix))
			// Before Close: the failure path itself killed and reaped the process.
			for _, pid := range started.get() {
				g.Expect(alive(pid)).To(BeFalse(), "plugin process %d left running", pid)
			}
			if tt.name == "wrong-sha256" || tt.name == "missing" {
				g.Expect(started.get()).To(BeEmpty(), "nothing is started before the hash is verified")
			} else {
				g.Expect(started.get()).NotTo(BeEmpty())
			}
		})
	}
}

const handshakeFix = "the executable must be a promotion-gate plugin (sdk.Serve, protocol version 1) that starts within the timeout; run it with the gate and read its stderr"
