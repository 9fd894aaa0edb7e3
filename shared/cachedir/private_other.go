//go:build !unix

package cachedir

import (
	"errors"
	"os"
)

// Private cannot tell who may write a directory here, so it refuses: a cache directory
// that others could write would let them make checks pass or renders wrong.
func Private(os.FileInfo) error {
	return errors.New("cannot check the directory's owner and mode on this system")
}

// Mine cannot tell a file's owner here; Private has refused the directory already.
func Mine(os.FileInfo) bool { return false }
