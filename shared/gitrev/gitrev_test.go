package gitrev

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"
)

// commitFiles writes files into the work tree at dir and commits them.
func commitFiles(t *testing.T, repo *git.Repository, dir string, files map[string]string) {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}
	if _, err := wt.Commit("c", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
}

func TestExport(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	g.Expect(err).NotTo(HaveOccurred())
	commitFiles(t, repo, dir, map[string]string{"apps/a/deploy.yaml": "replicas: 2\n", "README.md": "x"})
	commitFiles(t, repo, dir, map[string]string{"apps/a/deploy.yaml": "replicas: 5\n"})

	out := t.TempDir()
	got, err := Export(filepath.Join(dir, "apps"), "HEAD~1", out, DefaultLimits)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Commit).To(HaveLen(40))
	g.Expect(got.WorkTree).To(Equal(dir))
	data, err := os.ReadFile(filepath.Join(out, "apps/a/deploy.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(Equal("replicas: 2\n"))

	_, err = Export(dir, "no-such-branch", t.TempDir(), DefaultLimits)
	g.Expect(err).To(MatchError(ContainSubstring(`resolve revision "no-such-branch"`)))

	_, err = Export(dir, "HEAD", t.TempDir(), Limits{MaxFileBytes: 4, MaxTotalBytes: 1 << 20, MaxFiles: 10})
	g.Expect(errors.Is(err, ErrLimit)).To(BeTrue(), "%v", err)

	_, err = Export(t.TempDir(), "HEAD", t.TempDir(), DefaultLimits)
	g.Expect(err).To(MatchError(ContainSubstring("--base needs a Git work tree")))
}
