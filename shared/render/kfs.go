package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// confinedFS is the file system kustomize sees: the disk, read-only, confined to the
// repository root, with every file read counted against the limits and checked for
// alias bombs before kustomize parses it. kustomize swallows some file errors while
// it probes for files, so every refusal is also kept in the confinement (sticky) and
// reported instead of kustomize's own error.
type confinedFS struct {
	c    *confinement
	disk filesys.FileSystem
}

var _ filesys.FileSystem = confinedFS{}

func newConfinedFS(c *confinement) confinedFS {
	return confinedFS{c: c, disk: filesys.MakeFsOnDisk()}
}

// errReadOnly answers every write: a render must not change the repository.
var errReadOnly = errors.New("the repository is read-only while it renders")

func (f confinedFS) refuse(op, path string) error {
	return f.c.stick(fmt.Errorf("kustomize tried to %s %s: %w", op, f.c.display(path), errReadOnly))
}

// Create refuses: the repository is read-only.
func (f confinedFS) Create(path string) (filesys.File, error) { return nil, f.refuse("create", path) }

// Mkdir refuses: the repository is read-only.
func (f confinedFS) Mkdir(path string) error { return f.refuse("create", path) }

// MkdirAll refuses: the repository is read-only.
func (f confinedFS) MkdirAll(path string) error { return f.refuse("create", path) }

// RemoveAll refuses: the repository is read-only.
func (f confinedFS) RemoveAll(path string) error { return f.refuse("remove", path) }

// WriteFile refuses: the repository is read-only.
func (f confinedFS) WriteFile(path string, _ []byte) error { return f.refuse("write", path) }

// Open opens a file inside the root.
func (f confinedFS) Open(path string) (filesys.File, error) {
	real, err := f.c.resolve(path)
	if err != nil {
		return nil, err
	}
	if data, err := os.ReadFile(real); err == nil {
		f.c.record(real, InputFile, fileSum(data))
	}
	return f.disk.Open(real)
}

// IsDir reports a directory inside the root.
func (f confinedFS) IsDir(path string) bool {
	real, err := f.c.resolve(path)
	return err == nil && f.disk.IsDir(real)
}

// ReadDir lists a directory inside the root.
func (f confinedFS) ReadDir(path string) ([]string, error) {
	real, err := f.c.resolve(path)
	if err != nil {
		return nil, err
	}
	f.c.recordDir(real)
	return f.disk.ReadDir(real)
}

// CleanedAbs resolves a path inside the root into its directory and file name.
func (f confinedFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	real, err := f.c.resolve(path)
	if err != nil {
		return "", "", fmt.Errorf("evalsymlink failure on '%s' : %w", path, err)
	}
	return f.disk.CleanedAbs(real)
}

// Exists reports a file or directory inside the root.
func (f confinedFS) Exists(path string) bool {
	_, err := f.c.resolve(path)
	return err == nil
}

// Glob lists the matches of pattern; each must be inside the root.
func (f confinedFS) Glob(pattern string) ([]string, error) {
	matches, err := f.disk.Glob(pattern)
	if err != nil {
		return nil, err
	}
	// The listing of the pattern's directory decides the matches.
	if dir, err := f.c.resolve(filepath.Dir(pattern)); err == nil {
		f.c.recordDir(dir)
	}
	for _, m := range matches {
		if _, err := f.c.resolve(m); err != nil && !isNotExist(err) {
			return nil, err
		}
	}
	return matches, nil
}

// ReadFile reads a file inside the root within the limits, refusing an alias bomb
// before kustomize parses it.
func (f confinedFS) ReadFile(path string) ([]byte, error) {
	data, err := f.c.readFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkAliases(f.c.display(path), data, f.c.limits); err != nil {
		return nil, f.c.stick(err)
	}
	return data, nil
}

// Walk walks a directory inside the root; it does not follow symlinks, and every
// file read afterwards goes through ReadFile.
func (f confinedFS) Walk(path string, walkFn filepath.WalkFunc) error {
	real, err := f.c.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.Walk(real, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			f.c.recordDir(p)
		}
		return walkFn(p, info, err)
	})
}
