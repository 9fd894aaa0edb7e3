//go:build unix

package supplychain

import (
	"fmt"
	"os"
	"syscall"
)

// private checks that only this user can write the directory.
func private(fi os.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("mode %v: %w", fi.Mode().Perm(), errShared)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("owned by uid %d, not %d: %w", st.Uid, os.Getuid(), errShared)
	}
	return nil
}
