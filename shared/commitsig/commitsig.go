// Package commitsig verifies the signature of a Git commit against a list of allowed
// signers: OpenPGP public keys and SSH keys, the two kinds Git itself signs with
// (gpg.format openpgp and ssh). It answers one question for a promotion gate: who
// signed this commit, if anyone we trust?
package commitsig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Namespace is the SSH signature namespace Git signs commits in; a signature made for
// another namespace (a file signature, say) must not pass as a commit signature.
const Namespace = "git"

// Key is one allowed signer. Exactly one of OpenPGP and SSH is normally set; a Key
// with both accepts either.
type Key struct {
	// Name identifies the signer in results and messages.
	Name string
	// OpenPGP is an armored public key ring (one or more keys).
	OpenPGP []byte
	// SSH holds authorized_keys lines (options and comments are allowed, as in
	// Git's gpg.ssh.allowedSignersFile keys).
	SSH []byte
}

// The errors Verify wraps, so callers can tell why a commit did not verify.
var (
	// ErrUnsigned: the commit carries no signature.
	ErrUnsigned = errors.New("unsigned")
	// ErrUnknownKey: the commit is signed, but by a key none of the signers hold.
	ErrUnknownKey = errors.New("signed by an unknown key")
	// ErrBadSignature: the signature does not verify with the key that claims it, is
	// malformed, or was made for something other than a Git commit.
	ErrBadSignature = errors.New("bad signature")
	// ErrInvalidKey: a signer's key material cannot be read; the policy needs fixing.
	ErrInvalidKey = errors.New("invalid signer key")
)

// Verify checks c's signature against keys and returns the name of the key that
// signed it. The error wraps ErrUnsigned, ErrUnknownKey, ErrBadSignature or
// ErrInvalidKey.
func Verify(c *object.Commit, keys []Key) (string, error) {
	ring, err := ParseKeys(keys)
	if err != nil {
		return "", err
	}
	return ring.Verify(c)
}

// Keyring is a parsed list of signers, for verifying many commits with one parse.
type Keyring struct {
	pgp []pgpSigner
	ssh []sshSigner
}

// ParseKeys reads every key. An error names the key and wraps ErrInvalidKey; a Key
// with neither kind of material is an error too, since it could never match.
func ParseKeys(keys []Key) (*Keyring, error) {
	ring := &Keyring{}
	for _, k := range keys {
		if len(bytes.TrimSpace(k.OpenPGP)) == 0 && len(bytes.TrimSpace(k.SSH)) == 0 {
			return nil, fmt.Errorf("%w %s: no OpenPGP or SSH public key given: set openpgp or ssh", ErrInvalidKey, k.Name)
		}
		if len(bytes.TrimSpace(k.OpenPGP)) > 0 {
			s, err := parseOpenPGP(k.Name, k.OpenPGP)
			if err != nil {
				return nil, err
			}
			ring.pgp = append(ring.pgp, s)
		}
		if len(bytes.TrimSpace(k.SSH)) > 0 {
			s, err := parseSSH(k.Name, k.SSH)
			if err != nil {
				return nil, err
			}
			ring.ssh = append(ring.ssh, s...)
		}
	}
	return ring, nil
}

// Verify checks c's signature; see the package-level Verify.
func (r *Keyring) Verify(c *object.Commit) (string, error) {
	return r.verify("commit "+short(c.Hash), c.PGPSignature, c)
}

// VerifyTag checks an annotated tag's signature as Verify checks a commit's: Git
// signs tags with the same formats, in the same "git" namespace.
func (r *Keyring) VerifyTag(t *object.Tag) (string, error) {
	return r.verify("tag "+t.Name, t.PGPSignature, t)
}

// signed is a Git object that can give the bytes its signature covers.
type signed interface {
	EncodeWithoutSignature(o plumbing.EncodedObject) error
}

func (r *Keyring) verify(what, signature string, obj signed) (string, error) {
	sig := strings.TrimSpace(signature)
	if sig == "" {
		return "", fmt.Errorf("%s: %w", what, ErrUnsigned)
	}
	msg, err := payload(obj)
	if err != nil {
		return "", fmt.Errorf("%s: %w: read the signed content: %w", what, ErrBadSignature, err)
	}
	var signer string
	switch {
	case strings.HasPrefix(sig, sshArmorStart):
		signer, err = r.verifySSH(msg, []byte(sig))
	case strings.HasPrefix(sig, pgpArmorStart):
		signer, err = r.verifyOpenPGP(msg, []byte(sig))
	default:
		err = fmt.Errorf("%w: not an OpenPGP or SSH signature (X.509 signatures are not supported)", ErrBadSignature)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return signer, nil
}

// payload is what Git signed: the object without its signature.
func payload(c signed) ([]byte, error) {
	obj := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(obj); err != nil {
		return nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func short(h plumbing.Hash) string {
	s := h.String()
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
