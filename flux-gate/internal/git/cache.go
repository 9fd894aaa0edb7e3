package git

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Cache keeps one bare clone per repository URL under a directory, so that a
// reconcile fetches only what is new instead of cloning. A Cache is safe for
// concurrent use; work on one repository is serialised (see Cache.Open).
type Cache struct {
	dir   string
	mu    sync.Mutex
	repos map[string]*entry
}

type entry struct {
	mu   sync.Mutex // held by the one Session working on this repository
	repo *gogit.Repository
	dir  string
}

// NewCache returns a cache that keeps its clones under dir. The directory may
// survive restarts: clones found there are reused.
func NewCache(dir string) *Cache {
	return &Cache{dir: dir, repos: map[string]*entry{}}
}

// Session is exclusive access to one cached repository. Everything the gate does
// between reading the heads and pushing happens in one session, so promotions to one
// repository (and so to each of its branches) never interleave in this process;
// the compare-and-swap push covers writers outside it. Close releases the session.
type Session struct {
	url  string
	auth Auth
	e    *entry
}

// Open waits for exclusive access to the clone of repoURL (creating an empty one on
// first use) and returns a session that uses auth for the remote. It returns
// early with the context's error if ctx ends while waiting.
func (c *Cache) Open(ctx context.Context, repoURL string, auth Auth) (*Session, error) {
	c.mu.Lock()
	e, ok := c.repos[repoURL]
	if !ok {
		e = &entry{}
		c.repos[repoURL] = e
	}
	c.mu.Unlock()

	if err := lockContext(ctx, &e.mu); err != nil {
		return nil, fmt.Errorf("wait for repository %s: %w", Redact(repoURL), err)
	}
	if e.repo == nil {
		repo, err := c.openOrInit(repoURL)
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
		e.repo = repo
		e.dir = c.dirFor(repoURL)
	}
	return &Session{url: repoURL, auth: auth, e: e}, nil
}

// Close releases the session. It is safe to call more than once.
func (s *Session) Close() {
	if s.e != nil {
		s.e.mu.Unlock()
		s.e = nil
	}
}

// lockContext takes mu unless ctx ends first. Go's mutex cannot be abandoned, so
// the wait happens in a goroutine that hands the lock back if nobody wants it.
func lockContext(ctx context.Context, mu *sync.Mutex) error {
	if mu.TryLock() {
		return nil
	}
	got := make(chan struct{})
	go func() {
		mu.Lock()
		close(got)
	}()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() {
			<-got
			mu.Unlock()
		}()
		return ctx.Err()
	}
}

// dirFor names the clone directory after a digest of the URL: URLs carry
// characters that are not safe in paths, and may carry user names.
func (c *Cache) dirFor(repoURL string) string {
	sum := sha256.Sum256([]byte(repoURL))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:12]))
}

func (c *Cache) openOrInit(repoURL string) (*gogit.Repository, error) {
	dir := c.dirFor(repoURL)
	repo, err := gogit.PlainOpen(dir)
	if err == nil {
		remote, rerr := repo.Remote(gogit.DefaultRemoteName)
		if rerr == nil && len(remote.Config().URLs) == 1 && remote.Config().URLs[0] == repoURL {
			return repo, nil
		}
	}
	// No clone yet, a clone for another URL, or unreadable leftovers of a crash
	// during the first fetch: start afresh.
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("reset clone cache %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create clone cache %s: %w (is the cache directory writable?)", dir, err)
	}
	repo, err = gogit.PlainInit(dir, true)
	if err != nil {
		return nil, fmt.Errorf("init clone of %s in %s: %w", Redact(repoURL), dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{
		Name:  gogit.DefaultRemoteName,
		URLs:  []string{repoURL},
		Fetch: []config.RefSpec{remoteBranches},
	}); err != nil {
		return nil, fmt.Errorf("configure remote %s: %w", Redact(repoURL), err)
	}
	return repo, nil
}

// remoteBranches maps every branch of the remote to a remote-tracking ref. The gate
// needs the target and the proposal; fetching all heads costs only the new commits
// of other branches and spares a round trip to list them first.
const remoteBranches = config.RefSpec("+refs/heads/*:refs/remotes/origin/*")

// FetchResult says what a fetch brought.
type FetchResult struct {
	// Bytes is the size of the pack the server sent, 0 when already up to date.
	Bytes int64
}

// Fetch brings the cached clone up to date with every branch and tag of the remote
// (tags hold the promotion records), pruning branches deleted there. Only objects the
// clone does not have travel.
func (s *Session) Fetch(ctx context.Context) (FetchResult, error) {
	auth, err := s.auth.transportAuth(Redact(s.url))
	if err != nil {
		return FetchResult{}, err
	}
	before, err := packBytes(s.e.dir)
	if err != nil {
		return FetchResult{}, err
	}
	cert, key := s.auth.clientCert()
	err = s.e.repo.FetchContext(ctx, &gogit.FetchOptions{
		RemoteName: gogit.DefaultRemoteName,
		RefSpecs:   []config.RefSpec{remoteBranches, remoteTags},
		Auth:       auth,
		CABundle:   s.auth.caBundle(),
		ClientCert: cert,
		ClientKey:  key,
		Tags:       gogit.NoTags,
		Prune:      true,
		Force:      true,
	})
	switch {
	case errors.Is(err, gogit.NoErrAlreadyUpToDate):
		return FetchResult{}, nil
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return FetchResult{}, fmt.Errorf("fetch %s: the repository is empty: push the target branch first", Redact(s.url))
	case err != nil:
		return FetchResult{}, fmt.Errorf("fetch %s: %w", Redact(s.url), err)
	}
	after, err := packBytes(s.e.dir)
	if err != nil {
		return FetchResult{}, err
	}
	return FetchResult{Bytes: after - before}, nil
}

// packBytes sums the packfiles of a bare clone. go-git stores each fetch as one new
// pack, so the growth across a fetch is what the server sent.
func packBytes(dir string) (int64, error) {
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range packs {
		fi, err := os.Stat(p)
		if err != nil {
			return 0, fmt.Errorf("measure clone cache: %w", err)
		}
		total += fi.Size()
	}
	return total, nil
}
