package gitrev

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrFileNotFound is wrapped by every reader of a file at a revision (check.Revisions
// implementations) when the revision does not have the file: one sentinel for all.
var ErrFileNotFound = errors.New("file not found")

// ExportCommit writes the regular files of a commit's tree for which keep returns true
// (every file when keep is nil) under dir, within lim, as Export does for a revision of
// a work tree. Callers that hold a repository without a work tree (flux-gate's bare
// clone cache) use it. A file that already exists under dir is an error: export a
// revision into a directory in parts that do not overlap.
func ExportCommit(c *object.Commit, dir string, lim Limits, keep func(path string) bool) error {
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("read tree of %s: %w", c.Hash, err)
	}
	w := writer{dir: dir, lim: lim, keep: keep}
	// Walk the entries and read only the blobs that are kept: a promotion writes a
	// few files of a large repository.
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("export %s: walk the tree: %w", c.Hash.String()[:12], err)
		}
		if !entry.Mode.IsFile() || (keep != nil && !keep(name)) {
			continue
		}
		f, err := tree.TreeEntryFile(&entry)
		if err != nil {
			return fmt.Errorf("export %s: read %s: %w", c.Hash.String()[:12], name, err)
		}
		f.Name = name
		if err := w.write(f); err != nil {
			return fmt.Errorf("export %s: %w", c.Hash.String()[:12], err)
		}
	}
}
