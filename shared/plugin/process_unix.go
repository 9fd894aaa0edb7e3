//go:build unix

package plugin

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the plugin in its own process group, so that stopping it also
// stops any process it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcess kills the plugin's process group and the plugin itself. Killing an exited
// process is harmless: os.Process knows when it was reaped.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
