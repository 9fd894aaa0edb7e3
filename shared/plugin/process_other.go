//go:build !unix

package plugin

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// killProcess kills the plugin process.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
