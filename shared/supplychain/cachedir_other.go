//go:build !unix

package supplychain

import (
	"errors"
	"os"
)

// private cannot tell who may write a directory here, so it refuses: a cache directory
// that others could write would let them make checks pass.
func private(os.FileInfo) error {
	return errors.New("cannot check the directory's owner and mode on this system")
}
