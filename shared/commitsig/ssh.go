package commitsig

import (
	"bytes"
	"fmt"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

const sshArmorStart = "-----BEGIN SSH SIGNATURE-----"

// sshSigner is one allowed SSH public key.
type sshSigner struct {
	name string
	key  ssh.PublicKey
}

// parseSSH reads authorized_keys lines: blank lines and # comments are skipped, and
// every other line must hold a key.
func parseSSH(name string, data []byte) ([]sshSigner, error) {
	var out []sshSigner
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%w %s: SSH key on line %d: %w (give authorized_keys lines, e.g. the contents of ~/.ssh/id_ed25519.pub)",
				ErrInvalidKey, name, n+1, err)
		}
		out = append(out, sshSigner{name: name, key: key})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %s: no SSH public key found (give authorized_keys lines, e.g. the contents of ~/.ssh/id_ed25519.pub)",
			ErrInvalidKey, name)
	}
	return out, nil
}

// verifySSH checks an armored SSH signature (git's gpg.format=ssh) over msg: the key
// embedded in the signature must be one of the allowed keys, and the signature must
// verify in the "git" namespace.
func (r *Keyring) verifySSH(msg, armored []byte) (string, error) {
	sig, err := sshsig.Unarmor(armored)
	if err != nil {
		return "", fmt.Errorf("%w: read SSH signature: %w", ErrBadSignature, err)
	}
	fp := ssh.FingerprintSHA256(sig.PublicKey)
	want := sig.PublicKey.Marshal()
	for _, s := range r.ssh {
		if !bytes.Equal(s.key.Marshal(), want) {
			continue
		}
		if err := sshsig.Verify(bytes.NewReader(msg), sig, s.key, sig.HashAlgorithm, Namespace); err != nil {
			return "", fmt.Errorf("%w: SSH key %s: %w", ErrBadSignature, fp, err)
		}
		return s.name, nil
	}
	return "", fmt.Errorf("%w %s (SSH)", ErrUnknownKey, fp)
}
