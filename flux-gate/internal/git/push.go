package git

import (
	"context"
	"errors"
	"fmt"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// ErrRefMoved is returned by Push and DeleteBranch when the remote branch was not
// at the expected commit: someone else wrote it since the gate looked. Nothing was
// changed; fetch and look again.
var ErrRefMoved = errors.New("remote branch moved")

// Push makes the remote branch point at commit, if and only if it still points at
// expected and commit descends from it: a fast-forward, never forced. The check is
// made twice: go-git refuses a non-fast-forward locally, and the server applies the
// update only if the branch is still at the value advertised in this very
// connection, which the push requires to be expected.
func (s *Session) Push(ctx context.Context, commit, branch, expected string) error {
	ref := plumbing.NewBranchReferenceName(branch)
	err := s.push(ctx, []config.RefSpec{
		config.RefSpec(commit + ":" + ref.String()),
	}, []config.RefSpec{
		config.RefSpec(expected + ":" + ref.String()),
	})
	if err != nil {
		return s.explain(ctx, err, branch, expected, fmt.Sprintf("push %s to %s", commit, branch))
	}
	return s.setRemoteRef(branch, commit)
}

// DeleteBranch deletes the remote branch if and only if it still points at
// expected, so that a proposal rebuilt meanwhile is not lost.
func (s *Session) DeleteBranch(ctx context.Context, branch, expected string) error {
	ref := plumbing.NewBranchReferenceName(branch)
	err := s.push(ctx, []config.RefSpec{
		config.RefSpec(":" + ref.String()),
	}, []config.RefSpec{
		config.RefSpec(expected + ":" + ref.String()),
	})
	if err != nil {
		return s.explain(ctx, err, branch, expected, "delete branch "+branch)
	}
	rn := plumbing.NewRemoteReferenceName("origin", branch)
	if err := s.e.repo.Storer.RemoveReference(rn); err != nil {
		return fmt.Errorf("forget branch %s in the clone cache: %w", branch, err)
	}
	return nil
}

func (s *Session) push(ctx context.Context, specs, require []config.RefSpec) error {
	auth, err := s.auth.transportAuth(Redact(s.url))
	if err != nil {
		return err
	}
	cert, key := s.auth.clientCert()
	err = s.e.repo.PushContext(ctx, &gogit.PushOptions{
		RemoteName:        gogit.DefaultRemoteName,
		RefSpecs:          specs,
		RequireRemoteRefs: require,
		Auth:              auth,
		CABundle:          s.auth.caBundle(),
		ClientCert:        cert,
		ClientKey:         key,
	})
	if errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// explain tells a rejected update (the branch moved) from any other failure by
// asking the remote where the branch is now, rather than by parsing error text.
func (s *Session) explain(ctx context.Context, pushErr error, branch, expected, what string) error {
	now, err := s.remoteHead(ctx, branch)
	if err == nil && now != expected {
		if now == "" {
			now = "deleted"
		}
		return fmt.Errorf("%s in %s: %w: %s is now %s, not %s", what, Redact(s.url), ErrRefMoved, branch, now, expected)
	}
	return fmt.Errorf("%s in %s: %w", what, Redact(s.url), pushErr)
}

// remoteHead asks the remote for a branch head; "" when the branch does not exist.
func (s *Session) remoteHead(ctx context.Context, branch string) (string, error) {
	auth, err := s.auth.transportAuth(Redact(s.url))
	if err != nil {
		return "", err
	}
	remote, err := s.e.repo.Remote(gogit.DefaultRemoteName)
	if err != nil {
		return "", err
	}
	cert, key := s.auth.clientCert()
	refs, err := remote.ListContext(ctx, &gogit.ListOptions{
		Auth: auth, CABundle: s.auth.caBundle(), ClientCert: cert, ClientKey: key,
	})
	if err != nil {
		return "", err
	}
	want := plumbing.NewBranchReferenceName(branch)
	for _, r := range refs {
		if r.Name() == want {
			return r.Hash().String(), nil
		}
	}
	return "", nil
}

// setRemoteRef records a successful push in the clone, as a fetch would.
func (s *Session) setRemoteRef(branch, commit string) error {
	ref := plumbing.NewHashReference(plumbing.NewRemoteReferenceName("origin", branch), plumbing.NewHash(commit))
	if err := s.e.repo.Storer.SetReference(ref); err != nil {
		return fmt.Errorf("record branch %s in the clone cache: %w", branch, err)
	}
	return nil
}
