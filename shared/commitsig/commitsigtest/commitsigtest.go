// Package commitsigtest makes real signing keys for tests: an OpenPGP key that go-git
// signs commits with (CommitOptions.SignKey) and an SSH key that signs them the way
// git does with gpg.format=ssh (CommitOptions.Signer).
package commitsigtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// OpenPGPKey is a fresh Ed25519 OpenPGP key.
type OpenPGPKey struct {
	// Entity holds the private key; pass it as go-git's CommitOptions.SignKey.
	Entity *openpgp.Entity
	// Public is the armored public key, as `gpg --armor --export` writes it.
	Public []byte
}

// NewOpenPGPKey generates an OpenPGP key for name <email>.
func NewOpenPGPKey(t testing.TB, name, email string) OpenPGPKey {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatalf("generate OpenPGP key: %v", err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("armor OpenPGP key: %v", err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatalf("serialize OpenPGP key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("armor OpenPGP key: %v", err)
	}
	return OpenPGPKey{Entity: e, Public: buf.Bytes()}
}

// SSHKey is a fresh Ed25519 SSH key that signs Git objects.
type SSHKey struct {
	// Signer is the private key.
	Signer ssh.Signer
	// AuthorizedKey is the public key as one authorized_keys line.
	AuthorizedKey []byte
	// Namespace is the signature namespace; NewSSHKey sets "git", as git does.
	Namespace string
}

// NewSSHKey generates an SSH key.
func NewSSHKey(t testing.TB) SSHKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate SSH key: %v", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("SSH signer: %v", err)
	}
	return SSHKey{Signer: s, AuthorizedKey: ssh.MarshalAuthorizedKey(s.PublicKey()), Namespace: "git"}
}

// Sign implements go-git's Signer: an armored SSH signature over the commit encoded
// without its signature, which go-git stores in the gpgsig header.
func (k SSHKey) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, k.Signer, sshsig.HashSHA512, k.Namespace)
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}
