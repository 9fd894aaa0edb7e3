// Package cachedir keeps the caches that processes share through the file system
// private and their entries whole: a directory only this user can write, files written
// atomically, and entries from another owner ignored. Whoever can add a file to a cache
// could make a check pass or a render wrong, so both caches of promotion-gate (verified
// signatures, renders) use it.
package cachedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrShared is wrapped when a cache directory is not private.
var ErrShared = errors.New("others can write it")

// Open creates dir (mode 0700) when missing and refuses a directory that others can
// write or that another user owns. what names the cache in the error.
func Open(dir, what string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s directory %s: %w", what, dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s directory %s: %w", what, dir, err)
	}
	if err := Private(fi); err != nil {
		return fmt.Errorf("%s directory %s: %w; use a directory only this process's user can write (mode 0700), e.g. an emptyDir volume of its own", what, dir, err)
	}
	return nil
}

// WriteAtomic writes data to dir/name so that a reader sees the whole file or none:
// a temporary file in the same directory, renamed into place.
func WriteAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
