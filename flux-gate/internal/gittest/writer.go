package gittest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"

	fluxgit "github.com/fluxcd/pkg/git"
	"github.com/fluxcd/pkg/git/gogit"
	"github.com/fluxcd/pkg/git/repository"
	"github.com/fluxcd/pkg/git/signature"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Importing Flux's gogit package lets go-git negotiate multi_ack, for Git servers that
// speak only protocol v2; Flux's clients then always start from a fresh clone, since
// fetching into an existing clone that way is unreliable. flux-gate fetches into its
// clone cache and does not import gogit, so restore go-git's defaults: tests run the
// transport exactly as the controller binary does.
func init() {
	transport.UnsupportedCapabilities = []capability.Capability{
		capability.MultiACK,
		capability.MultiACKDetailed,
		capability.ThinPack,
	}
}

// Writer commits files to a repository and pushes them, as image-automation-
// controller does: clone, write, commit as the configured author, push without
// force. It uses Flux's own Git client.
type Writer struct {
	URL  string
	Data map[string][]byte // the GitRepository Secret's data
	// AuthorName and AuthorEmail sign the commits.
	AuthorName, AuthorEmail string
	// Signer, when set, signs every commit, as image-automation-controller does with
	// spec.git.commit.signingKey (Flux's signature.NewOpenPGPSigner or NewSSHSigner,
	// or any go-git Signer).
	Signer signature.Signer
}

// Init pushes a first commit with files to branch of an empty repository.
func (w Writer) Init(ctx context.Context, branch string, files map[string]string) (string, error) {
	c, cleanup, err := w.client()
	if err != nil {
		return "", err
	}
	defer cleanup()
	if err := c.Init(ctx, w.URL, branch); err != nil {
		return "", fmt.Errorf("init %s: %w", w.URL, err)
	}
	return w.commitAndPush(ctx, c, files, "initial commit")
}

// Commit writes files on branch and pushes. When branch does not exist yet it is
// created from base, as IAC creates its push branch from the checkout branch.
func (w Writer) Commit(ctx context.Context, base, branch string, files map[string]string, message string) (string, error) {
	c, cleanup, err := w.clone(ctx, base)
	if err != nil {
		return "", err
	}
	defer cleanup()
	if branch != base {
		if err := c.SwitchBranch(ctx, branch); err != nil {
			return "", fmt.Errorf("switch to %s: %w", branch, err)
		}
	}
	return w.commitAndPush(ctx, c, files, message)
}

// Series clones branch once, makes n commits on it with the files files(i) returns,
// and pushes them in one go: a long history without n round trips.
func (w Writer) Series(ctx context.Context, branch string, n int, files func(i int) map[string]string) (string, error) {
	c, cleanup, err := w.clone(ctx, branch)
	if err != nil {
		return "", err
	}
	defer cleanup()
	var hash string
	for i := range n {
		readers := map[string]io.Reader{}
		for name, content := range files(i) {
			readers[name] = strings.NewReader(content)
		}
		hash, err = c.Commit(fluxgit.Commit{
			Author:  fluxgit.Signature{Name: w.AuthorName, Email: w.AuthorEmail},
			Message: fmt.Sprintf("commit %d", i),
		}, repository.WithFiles(readers), repository.WithSigner(w.Signer))
		if err != nil {
			return "", fmt.Errorf("commit %d: %w", i, err)
		}
	}
	if err := c.Push(ctx, repository.PushConfig{}); err != nil {
		return "", fmt.Errorf("push %s: %w", hash, err)
	}
	return hash, nil
}

// maxCloneAttempts bounds the clones tried while pushes keep moving the branch.
const maxCloneAttempts = 5

// clone clones the repository at branch into a fresh client. Smart HTTP is two
// requests: a push (the gate promoting, another writer) that moves the branch between
// the ref advertisement and the fetch makes the server refuse the old tip ("not our
// ref"); that clone is tried again, as a person would.
func (w Writer) clone(ctx context.Context, branch string) (*gogit.Client, func(), error) {
	for attempt := 1; ; attempt++ {
		c, cleanup, err := w.client()
		if err != nil {
			return nil, nil, err
		}
		_, err = c.Clone(ctx, w.URL, repository.CloneConfig{CheckoutStrategy: repository.CheckoutStrategy{Branch: branch}})
		if err == nil {
			return c, cleanup, nil
		}
		cleanup()
		if !strings.Contains(err.Error(), "not our ref") || attempt == maxCloneAttempts {
			return nil, nil, fmt.Errorf("clone %s at %s: %w", w.URL, branch, err)
		}
	}
}

func (w Writer) commitAndPush(ctx context.Context, c *gogit.Client, files map[string]string, message string) (string, error) {
	readers := map[string]io.Reader{}
	for name, content := range files {
		readers[name] = strings.NewReader(content)
	}
	hash, err := c.Commit(fluxgit.Commit{
		Author:  fluxgit.Signature{Name: w.AuthorName, Email: w.AuthorEmail},
		Message: message,
	}, repository.WithFiles(readers), repository.WithSigner(w.Signer))
	if err != nil && !errors.Is(err, fluxgit.ErrNoStagedFiles) {
		return "", fmt.Errorf("commit: %w", err)
	}
	if err := c.Push(ctx, repository.PushConfig{}); err != nil {
		return "", fmt.Errorf("push %s: %w", hash, err)
	}
	return hash, nil
}

func (w Writer) client() (*gogit.Client, func(), error) {
	u, err := url.Parse(w.URL)
	if err != nil {
		return nil, nil, err
	}
	opts, err := fluxgit.NewAuthOptions(*u, w.Data)
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "gittest-writer-")
	if err != nil {
		return nil, nil, err
	}
	c, err := gogit.NewClient(dir, opts, gogit.WithDiskStorage(), gogit.WithSingleBranch(false), gogit.WithInsecureCredentialsOverHTTP())
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return c, func() { c.Close(); os.RemoveAll(dir) }, nil
}

// Noise is incompressible text made from seed, so that pack sizes follow the
// content written.
func Noise(seed, n int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = "0123456789abcdef"[r.IntN(16)]
	}
	return string(b)
}
