//go:build unix

package cachedir

import (
	"fmt"
	"os"
	"syscall"
)

// Private checks that only this user can write the directory fi describes.
func Private(fi os.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("mode %v: %w", fi.Mode().Perm(), ErrShared)
	}
	if !Mine(fi) {
		return fmt.Errorf("owned by uid %d, not %d: %w", fi.Sys().(*syscall.Stat_t).Uid, os.Getuid(), ErrShared)
	}
	return nil
}

// Mine reports whether this user owns the file fi describes.
func Mine(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Getuid()
}
