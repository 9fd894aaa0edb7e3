//go:build !linux

package giteatest

import "os/exec"

// dieWithParent has no portable equivalent outside Linux; Close stops the server.
func dieWithParent(*exec.Cmd) {}
