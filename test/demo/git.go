package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fluxcd/pkg/gittestserver"
	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// repoName is the platform repository on the Git server.
const repoName = "platform-config.git"

// person signs commits.
type person struct{ Name, Email string }

var (
	platformTeam = person{"Platform Team", "platform@example.com"}
	// fluxBot is the commit author of the ImageUpdateAutomation, as Flux's default.
	fluxBot = person{"fluxcdbot", "fluxcdbot@users.noreply.github.com"}
)

// gitServer is Flux's Git test server over smart HTTP, repositories under a directory.
type gitServer struct {
	srv     *gittestserver.GitServer
	url     string        // of the platform repository
	timeout time.Duration // bound of every Git operation
}

func startGit(dir string, timeout time.Duration) (*gitServer, error) {
	srv := gittestserver.NewGitServer(dir).AutoCreate()
	if err := srv.StartHTTP(); err != nil {
		return nil, fmt.Errorf("start the Git server: %w", err)
	}
	return &gitServer{srv: srv, url: srv.HTTPAddress() + "/" + repoName, timeout: timeout}, nil
}

func (g *gitServer) stop() {
	if g != nil && g.srv != nil {
		g.srv.StopHTTP()
		g.srv = nil
	}
}

// pushTree commits every file under src as the first commit of branch and pushes it.
func (g *gitServer) pushTree(ctx context.Context, src, branch string, who person, message string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	repo, err := gogit.InitWithOptions(memory.NewStorage(), memfs.New(), gogit.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)})
	if err != nil {
		return "", err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{g.url}}); err != nil {
		return "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFile(wt.Filesystem, filepath.ToSlash(rel), b)
	})
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	return commitAndPush(ctx, repo, wt, branch, who, message)
}

// commit clones base, switches to branch (created from base when it does not exist
// yet, reused as it is when it does, as image-automation-controller does), lets edit
// change files, commits and pushes without force.
func (g *gitServer) commit(ctx context.Context, base, branch string, who person, message string, edit func(billy.Filesystem) error) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	heads, err := g.heads(ctx)
	if err != nil {
		return "", err
	}
	from := base
	if _, ok := heads[branch]; ok {
		from = branch
	}
	repo, err := gogit.CloneContext(ctx, memory.NewStorage(), memfs.New(), &gogit.CloneOptions{
		URL: g.url, ReferenceName: plumbing.NewBranchReferenceName(from), SingleBranch: true,
	})
	if err != nil {
		return "", fmt.Errorf("clone %s at %s: %w", g.url, from, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	if from != branch {
		if err := wt.Checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true}); err != nil {
			return "", fmt.Errorf("create branch %s: %w", branch, err)
		}
	}
	if err := edit(wt.Filesystem); err != nil {
		return "", err
	}
	return commitAndPush(ctx, repo, wt, branch, who, message)
}

func commitAndPush(ctx context.Context, repo *gogit.Repository, wt *gogit.Worktree, branch string, who person, message string) (string, error) {
	if err := wt.AddWithOptions(&gogit.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("stage files: %w", err)
	}
	sig := &object.Signature{Name: who.Name, Email: who.Email, When: time.Now()}
	hash, err := wt.Commit(message, &gogit.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	ref := plumbing.NewBranchReferenceName(branch)
	err = repo.PushContext(ctx, &gogit.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{config.RefSpec(ref + ":" + ref)}})
	if err != nil {
		return "", fmt.Errorf("push %s to %s: %w", branch, repoName, err)
	}
	return hash.String(), nil
}

// heads lists the branches on the server, as `git ls-remote --heads` does.
func (g *gitServer) heads(ctx context.Context) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{g.url}})
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{})
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, fmt.Errorf("list the branches of %s: %w", g.url, err)
	}
	out := map[string]string{}
	for _, r := range refs {
		if r.Name().IsBranch() {
			out[r.Name().Short()] = r.Hash().String()
		}
	}
	return out, nil
}

// deleteBranch deletes branch on the server, as `git push origin --delete` does.
func (g *gitServer) deleteBranch(ctx context.Context, branch string) error {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{g.url}})
	ref := plumbing.NewBranchReferenceName(branch)
	if err := remote.PushContext(ctx, &gogit.PushOptions{RefSpecs: []config.RefSpec{config.RefSpec(":" + ref)}}); err != nil {
		return fmt.Errorf("delete branch %s of %s: %w", branch, g.url, err)
	}
	return nil
}

// head is one branch's commit, "" when the branch does not exist.
func (g *gitServer) head(ctx context.Context, branch string) (string, error) {
	heads, err := g.heads(ctx)
	return heads[branch], err
}

// checkout clones branch into dir, as Argo CD's repo-server does before it streams the
// files to the sidecar, and returns the commit checked out.
func (g *gitServer) checkout(ctx context.Context, branch, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	repo, err := gogit.PlainCloneContext(ctx, dir, false, &gogit.CloneOptions{
		URL: g.url, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true,
	})
	if err != nil {
		return "", fmt.Errorf("clone %s at %s: %w", g.url, branch, err)
	}
	head, err := repo.Head()
	if err != nil {
		return "", err
	}
	return head.Hash().String(), nil
}

// commitInfo reads a commit from a fresh clone of branch: its parents and the files it
// changed.
func (g *gitServer) commitInfo(ctx context.Context, branch, sha string) (parents, files []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	repo, err := gogit.CloneContext(ctx, memory.NewStorage(), nil, &gogit.CloneOptions{
		URL: g.url, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true, NoCheckout: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("clone %s at %s: %w", g.url, branch, err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, nil, fmt.Errorf("read commit %s from %s: %w", sha, branch, err)
	}
	for _, p := range c.ParentHashes {
		parents = append(parents, p.String())
	}
	stats, err := c.StatsContext(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("diff commit %s: %w", sha, err)
	}
	for _, s := range stats {
		files = append(files, s.Name)
	}
	sort.Strings(files)
	return parents, files, nil
}

// fileAt reads the file path of commit sha on branch, as `git show sha:path` does.
func (g *gitServer) fileAt(ctx context.Context, branch, sha, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	repo, err := gogit.CloneContext(ctx, memory.NewStorage(), nil, &gogit.CloneOptions{
		URL: g.url, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true, NoCheckout: true,
	})
	if err != nil {
		return nil, fmt.Errorf("clone %s at %s: %w", g.url, branch, err)
	}
	c, err := repo.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, fmt.Errorf("read commit %s from %s: %w", sha, branch, err)
	}
	f, err := c.File(path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, sha, err)
	}
	text, err := f.Contents()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, sha, err)
	}
	return []byte(text), nil
}

func writeFile(fsys billy.Filesystem, name string, data []byte) error {
	if err := fsys.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := fsys.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readFile(fsys billy.Filesystem, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	return io.ReadAll(f)
}
