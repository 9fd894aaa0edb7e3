package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/shared/gitrev"
)

// ErrTagExists is returned by PushTag when the remote already has a tag of that
// name: another gate (or a person) took it first. Nothing was changed; pick the next
// name and push again.
var ErrTagExists = errors.New("tag already exists")

// remoteTags brings every tag of the remote, so that records written by other gates
// and other processes are seen. Tags are never moved by the gate; the + lets a tag a
// person re-pointed on the server be seen as it is there.
const remoteTags = config.RefSpec("+refs/tags/*:refs/tags/*")

// Tag is one annotated tag of the clone.
type Tag = gitrev.Tag

// Tags lists the annotated tags of the clone (as of the last fetch) whose names start
// with prefix, sorted by name; lightweight tags and tags of non-commits are skipped.
func (s *Session) Tags(prefix string) ([]Tag, error) {
	tags, err := s.revisions().Tags(prefix)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", Redact(s.url), err)
	}
	return tags, nil
}

// TagNames lists every tag name of the clone, annotated or not: a record tag must not
// take a name any tag has.
func (s *Session) TagNames() ([]string, error) {
	iter, err := s.e.repo.Tags()
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", Redact(s.url), err)
	}
	var out []string
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		out = append(out, ref.Name().Short())
		return nil
	})
	return out, err
}

// NewTag is an annotated tag to write.
type NewTag struct {
	Name, Commit, Message string
	Tagger                object.Signature
	// Sign, when set, signs the tag (OpenPGP or SSH, as the signer makes).
	Sign func(payload []byte) ([]byte, error)
}

// PushTag writes an annotated tag on a commit and pushes it. The push never
// overwrites: when the remote already has the name, it fails with ErrTagExists and
// the clone forgets the tag, so that the caller can try the next name.
func (s *Session) PushTag(ctx context.Context, t NewTag) error {
	if t.Name == "" || plumbing.ReferenceName("refs/tags/"+t.Name).Validate() != nil {
		return fmt.Errorf("tag name %q is not a valid Git ref name: fix the PromotionGate's record tag template", t.Name)
	}
	tag := &object.Tag{
		Name:       t.Name,
		Tagger:     t.Tagger,
		Message:    strings.TrimRight(t.Message, "\n") + "\n",
		TargetType: plumbing.CommitObject,
		Target:     plumbing.NewHash(t.Commit),
	}
	if t.Sign != nil {
		payload := &plumbing.MemoryObject{}
		if err := tag.EncodeWithoutSignature(payload); err != nil {
			return fmt.Errorf("encode tag %s: %w", t.Name, err)
		}
		var buf bytes.Buffer
		rd, err := payload.Reader()
		if err != nil {
			return err
		}
		if _, err := buf.ReadFrom(rd); err != nil {
			return err
		}
		sig, err := t.Sign(buf.Bytes())
		if err != nil {
			return fmt.Errorf("sign tag %s: %w (check the signing key Secret)", t.Name, err)
		}
		tag.PGPSignature = string(sig)
	}
	obj := s.e.repo.Storer.NewEncodedObject()
	if err := tag.Encode(obj); err != nil {
		return fmt.Errorf("encode tag %s: %w", t.Name, err)
	}
	hash, err := s.e.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return fmt.Errorf("store tag %s in the clone cache: %w", t.Name, err)
	}
	ref := plumbing.NewTagReferenceName(t.Name)
	if err := s.e.repo.Storer.SetReference(plumbing.NewHashReference(ref, hash)); err != nil {
		return fmt.Errorf("record tag %s in the clone cache: %w", t.Name, err)
	}
	pushErr := s.push(ctx, []config.RefSpec{config.RefSpec(ref.String() + ":" + ref.String())}, nil)
	// go-git skips a tag the remote already has and calls that success, so the
	// remote is asked what the tag is now, success or not: only our object is ours.
	now, err := s.remoteRef(ctx, ref)
	switch {
	case err == nil && now == hash:
		return nil
	case err == nil && !now.IsZero():
		_ = s.e.repo.Storer.RemoveReference(ref)
		return fmt.Errorf("push tag %s to %s: %w", t.Name, Redact(s.url), ErrTagExists)
	}
	_ = s.e.repo.Storer.RemoveReference(ref)
	if pushErr == nil {
		pushErr = err
	}
	if pushErr == nil {
		pushErr = errors.New("the server did not keep the tag")
	}
	return fmt.Errorf("push tag %s to %s: %w", t.Name, Redact(s.url), pushErr)
}

// remoteRef asks the remote where a ref points; the zero hash when it has none.
func (s *Session) remoteRef(ctx context.Context, name plumbing.ReferenceName) (plumbing.Hash, error) {
	refs, err := s.listRemote(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, r := range refs {
		if r.Name() == name {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, nil
}

func (s *Session) listRemote(ctx context.Context) ([]*plumbing.Reference, error) {
	auth, err := s.auth.transportAuth(Redact(s.url))
	if err != nil {
		return nil, err
	}
	remote, err := s.e.repo.Remote(gogit.DefaultRemoteName)
	if err != nil {
		return nil, err
	}
	cert, key := s.auth.clientCert()
	return remote.ListContext(ctx, &gogit.ListOptions{
		Auth: auth, CABundle: s.auth.caBundle(), ClientCert: cert, ClientKey: key,
	})
}

// CommitTime returns a commit's committer time.
func (s *Session) CommitTime(hash string) (time.Time, error) {
	c, err := s.commit(hash)
	if err != nil {
		return time.Time{}, err
	}
	return c.Committer.When, nil
}
