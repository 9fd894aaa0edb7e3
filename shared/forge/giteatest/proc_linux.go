package giteatest

import (
	"os/exec"
	"syscall"
)

// dieWithParent kills the server with the process that started it, so that a test
// binary that is killed leaves no server behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
