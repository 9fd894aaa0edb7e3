package git_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

const (
	automationName  = "fluxcdbot"
	automationEmail = "fluxcdbot@users.noreply.example.com"
)

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the Git server logs every request
	os.Exit(m.Run())
}

// fixture is a repository with a target branch and a proposal two automation
// commits ahead of it.
type fixture struct {
	url            string
	data           map[string][]byte
	writer         gittest.Writer
	target, p1, p2 string
}

func newFixture(t *testing.T, url string, data map[string][]byte) fixture {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	w := gittest.Writer{URL: url, Data: data, AuthorName: automationName, AuthorEmail: automationEmail}
	target, err := w.Init(ctx, "main", map[string]string{
		"apps/api/prod/deploy.yaml": "image: ghcr.io/example/api:v1.0.0\n",
		"README.md":                 "fleet\n",
	})
	g.Expect(err).NotTo(HaveOccurred())
	p1, err := w.Commit(ctx, "main", "automation/prod", map[string]string{
		"apps/api/prod/deploy.yaml": "image: ghcr.io/example/api:v1.1.0\n",
	}, "update api")
	g.Expect(err).NotTo(HaveOccurred())
	p2, err := w.Commit(ctx, "automation/prod", "automation/prod", map[string]string{
		"apps/web/prod/values.yaml": "tag: v2.0.0\n",
	}, "update web")
	g.Expect(err).NotTo(HaveOccurred())
	return fixture{url: url, data: data, writer: w, target: target, p1: p1, p2: p2}
}

func open(t *testing.T, cache *git.Cache, url string, data map[string][]byte, insecure bool) *git.Session {
	t.Helper()
	g := NewWithT(t)
	auth, err := git.NewAuth(url, data)
	g.Expect(err).NotTo(HaveOccurred())
	auth.AllowInsecureHTTP = insecure
	s, err := cache.Open(context.Background(), url, auth)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(s.Close)
	return s
}

func TestHistoryOverHTTPBasicAuth(t *testing.T) {
	g := NewWithT(t)
	srv := gittest.NewHTTP(t, "gate", "s3cret")
	f := newFixture(t, srv.URL("fleet.git"), srv.SecretData())
	s := open(t, git.NewCache(t.TempDir()), f.url, f.data, true)

	res, err := s.Fetch(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Bytes).To(BeNumerically(">", 0))

	g.Expect(s.Head("main")).To(Equal(f.target))
	g.Expect(s.Head("automation/prod")).To(Equal(f.p2))
	_, err = s.Head("nope")
	g.Expect(errors.Is(err, git.ErrBranchNotFound)).To(BeTrue(), "%v", err)

	g.Expect(s.IsAncestor(f.target, f.p2)).To(BeTrue())
	g.Expect(s.IsAncestor(f.p2, f.p2)).To(BeTrue())
	g.Expect(s.IsAncestor(f.p2, f.target)).To(BeFalse())

	g.Expect(s.ChangedFiles(f.target, f.p2)).To(Equal([]string{"apps/api/prod/deploy.yaml", "apps/web/prod/values.yaml"}))
	g.Expect(s.ReadFile(f.p2, "apps/api/prod/deploy.yaml", 1<<20)).To(Equal([]byte("image: ghcr.io/example/api:v1.1.0\n")))
	_, err = s.ReadFile(f.p2, "apps/api/prod/deploy.yaml", 10)
	g.Expect(err).To(MatchError(ContainSubstring("over the limit")))
	_, err = s.ReadFile(f.target, "apps/web/prod/values.yaml", 0)
	g.Expect(errors.Is(err, git.ErrFileNotFound)).To(BeTrue())

	commits, err := s.CommitsAhead(f.target, f.p2, 10)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(commits).To(HaveLen(2))
	g.Expect(commits[0].Hash).To(Equal(f.p2))
	g.Expect(commits[1].Hash).To(Equal(f.p1))
	g.Expect(commits[0].AuthorEmail).To(Equal(automationEmail))
	g.Expect(commits[1].Subject).To(Equal("update api"))
	_, err = s.CommitsAhead(f.target, f.p2, 1)
	g.Expect(errors.Is(err, git.ErrTooManyCommits)).To(BeTrue())
}

func TestFetchIsIncremental(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := gittest.NewHTTP(t, "", "")
	f := newFixture(t, srv.URL("fleet.git"), nil)
	_, err := f.writer.Series(ctx, "main", 30, func(i int) map[string]string {
		return map[string]string{
			fmt.Sprintf("apps/app%d/prod/deploy.yaml", i): fmt.Sprintf("image: ghcr.io/example/app%d:v1.0.%d\n# %s\n", i, i, gittest.Noise(i, 2000)),
		}
	})
	g.Expect(err).NotTo(HaveOccurred())
	s := open(t, git.NewCache(t.TempDir()), f.url, nil, false)
	first, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(err).NotTo(HaveOccurred())

	again, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Bytes).To(BeZero(), "nothing new, nothing fetched")

	next, err := f.writer.Commit(ctx, "main", "main", map[string]string{"apps/new/prod/deploy.yaml": "image: x:v1.0.0\n"}, "one more")
	g.Expect(err).NotTo(HaveOccurred())
	one, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Head("main")).To(Equal(next))
	g.Expect(one.Bytes).To(BeNumerically(">", 0))
	g.Expect(one.Bytes*10).To(BeNumerically("<", first.Bytes), "one commit (%d bytes) must cost far less than the history (%d bytes)", one.Bytes, first.Bytes)
}

func TestPushIsAFastForwardCompareAndSwap(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := gittest.NewHTTP(t, "", "")
	f := newFixture(t, srv.URL("fleet.git"), nil)
	cache := git.NewCache(t.TempDir())
	s := open(t, cache, f.url, nil, false)
	_, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())

	// The target moves after the gate looked: the push must be refused.
	moved, err := f.writer.Commit(ctx, "main", "main", map[string]string{"README.md": "moved\n"}, "human edit")
	g.Expect(err).NotTo(HaveOccurred())
	err = s.Push(ctx, f.p2, "main", f.target)
	g.Expect(errors.Is(err, git.ErrRefMoved)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring(moved))

	// Fetch again: the proposal no longer descends from the target, and a push that
	// claims the new head is still not a fast-forward.
	_, err = s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.IsAncestor(moved, f.p2)).To(BeFalse())
	err = s.Push(ctx, f.p2, "main", moved)
	g.Expect(err).To(HaveOccurred())
	g.Expect(remoteHead(t, cache, f.url, "main")).To(Equal(moved), "nothing forced")

	// A proposal rebuilt on the new target fast-forwards it.
	p3, err := f.writer.Commit(ctx, "main", "automation/rebuilt", map[string]string{"apps/api/prod/deploy.yaml": "image: ghcr.io/example/api:v1.2.0\n"}, "update api")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Push(ctx, p3, "main", moved)).To(Succeed())
	g.Expect(s.Head("main")).To(Equal(p3))
	g.Expect(remoteHead(t, cache, f.url, "main")).To(Equal(p3))
}

func TestDeleteBranchOnlyAtExpectedCommit(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := gittest.NewHTTP(t, "", "")
	f := newFixture(t, srv.URL("fleet.git"), nil)
	cache := git.NewCache(t.TempDir())
	s := open(t, cache, f.url, nil, false)
	_, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())

	err = s.DeleteBranch(ctx, "automation/prod", f.p1)
	g.Expect(errors.Is(err, git.ErrRefMoved)).To(BeTrue(), "%v", err)
	g.Expect(remoteHead(t, cache, f.url, "automation/prod")).To(Equal(f.p2))

	g.Expect(s.DeleteBranch(ctx, "automation/prod", f.p2)).To(Succeed())
	_, err = s.Head("automation/prod")
	g.Expect(errors.Is(err, git.ErrBranchNotFound)).To(BeTrue())
	g.Expect(remoteHead(t, cache, f.url, "automation/prod")).To(BeEmpty())
}

// remoteHead fetches into a fresh cache to see the server's state.
func remoteHead(t *testing.T, _ *git.Cache, url, branch string) string {
	t.Helper()
	s := open(t, git.NewCache(t.TempDir()), url, nil, false)
	if _, err := s.Fetch(context.Background()); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	h, err := s.Head(branch)
	if errors.Is(err, git.ErrBranchNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return h
}

func TestCredentialsNeverOverPlainHTTP(t *testing.T) {
	g := NewWithT(t)
	srv := gittest.NewHTTP(t, "gate", "s3cret")
	url := srv.URL("fleet.git")
	s := open(t, git.NewCache(t.TempDir()), url, srv.SecretData(), false)
	_, err := s.Fetch(context.Background())
	g.Expect(err).To(MatchError(ContainSubstring("plain HTTP")))
}

func TestWrongPasswordFails(t *testing.T) {
	g := NewWithT(t)
	srv := gittest.NewHTTPS(t, "gate", "s3cret")
	f := newFixture(t, srv.URL("fleet.git"), srv.SecretData())
	data := srv.SecretData()
	data["password"] = []byte("wrong")
	s := open(t, git.NewCache(t.TempDir()), f.url, data, false)
	_, err := s.Fetch(context.Background())
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).NotTo(ContainSubstring("wrong"), "no secret in messages")
}

func TestHTTPSWithBasicAuthAndCA(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := gittest.NewHTTPS(t, "gate", "s3cret")
	f := newFixture(t, srv.URL("fleet.git"), srv.SecretData())
	s := open(t, git.NewCache(t.TempDir()), f.url, f.data, false)
	_, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Push(ctx, f.p2, "main", f.target)).To(Succeed())
}

func TestSSH(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := gittest.NewSSH(t)
	data := srv.SSHSecretData(t)
	f := newFixture(t, srv.SSHURL("fleet.git"), data)
	s := open(t, git.NewCache(t.TempDir()), f.url, data, false)
	_, err := s.Fetch(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Head("automation/prod")).To(Equal(f.p2))
	g.Expect(s.Push(ctx, f.p2, "main", f.target)).To(Succeed())

	// A host key that is not the server's is refused.
	bad := srv.SSHSecretData(t)
	bad["known_hosts"] = []byte("[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
	s2 := open(t, git.NewCache(t.TempDir()), f.url, bad, false)
	_, err = s2.Fetch(ctx)
	g.Expect(err).To(HaveOccurred())
}

func TestSessionsOnOneRepositoryAreSerialised(t *testing.T) {
	g := NewWithT(t)
	srv := gittest.NewHTTP(t, "", "")
	url := srv.URL("fleet.git")
	cache := git.NewCache(t.TempDir())
	auth, err := git.NewAuth(url, nil)
	g.Expect(err).NotTo(HaveOccurred())

	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := cache.Open(context.Background(), url, auth)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			_, _ = s.Head("main") // some work while holding the session
			mu.Lock()
			inside--
			mu.Unlock()
		})
	}
	wg.Wait()
	g.Expect(maxInside).To(Equal(1))

	// A caller that gives up waiting gets its context's error.
	s, err := cache.Open(context.Background(), url, auth)
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = cache.Open(ctx, url, auth)
	g.Expect(errors.Is(err, context.Canceled)).To(BeTrue())
	s.Close()
	s2, err := cache.Open(context.Background(), url, auth)
	g.Expect(err).NotTo(HaveOccurred())
	s2.Close()
}
