package gitrev

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Tag is one annotated tag of a commit: where promotion records live.
type Tag struct {
	Name string
	// Commit is the commit the tag points at.
	Commit string
	// Message is the tag message without its signature.
	Message string
	// Signature is the armored OpenPGP or SSH signature, "" when unsigned.
	Signature string
	Tagger    object.Signature
	// Object is the tag object, for signature verification.
	Object *object.Tag
}

// Tags lists the annotated tags of commits whose names start with prefix, sorted by
// name; lightweight tags and tags of other objects hold no record and are skipped.
func (r *Repository) Tags(prefix string) ([]Tag, error) {
	iter, err := r.repo.Tags()
	if err != nil {
		return nil, err
	}
	var out []Tag
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().Short()
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		t, err := r.repo.TagObject(ref.Hash())
		if err != nil || t.TargetType != plumbing.CommitObject {
			return nil
		}
		out = append(out, Tag{Name: name, Commit: t.Target.String(), Message: t.Message,
			Signature: t.PGPSignature, Tagger: t.Tagger, Object: t})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
