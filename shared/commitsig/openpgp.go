package commitsig

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgpErrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

const pgpArmorStart = "-----BEGIN PGP SIGNATURE-----"

// pgpSigner is one named OpenPGP key ring.
type pgpSigner struct {
	name string
	ring openpgp.EntityList
}

// parseOpenPGP reads an armored key ring, or a binary one for keys exported without
// --armor.
func parseOpenPGP(name string, data []byte) (pgpSigner, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		bin, binErr := openpgp.ReadKeyRing(bytes.NewReader(data))
		if binErr != nil {
			return pgpSigner{}, fmt.Errorf("%w %s: read OpenPGP public key: %w (export it with gpg --armor --export <key id>)",
				ErrInvalidKey, name, err)
		}
		ring = bin
	}
	if len(ring) == 0 {
		return pgpSigner{}, fmt.Errorf("%w %s: the OpenPGP key ring holds no key (export it with gpg --armor --export <key id>)",
			ErrInvalidKey, name)
	}
	return pgpSigner{name: name, ring: ring}, nil
}

// verifyOpenPGP finds the signer by the issuer the signature names, then checks it,
// so that "someone else signed this" and "this signature is broken" read differently.
func (r *Keyring) verifyOpenPGP(msg, armored []byte) (string, error) {
	if strings.Count(string(armored), pgpArmorStart) > 1 {
		return "", fmt.Errorf("%w: more than one OpenPGP signature block", ErrBadSignature)
	}
	sig, err := readSignature(armored)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	id, ok := issuer(sig)
	var lastErr error
	for _, s := range r.pgp {
		if ok && len(s.ring.KeysById(id)) == 0 {
			continue
		}
		_, err := openpgp.CheckArmoredDetachedSignature(s.ring, bytes.NewReader(msg), bytes.NewReader(armored), nil)
		if err == nil {
			return s.name, nil
		}
		lastErr = err
	}
	switch {
	case lastErr != nil && !errors.Is(lastErr, openpgpErrors.ErrUnknownIssuer):
		return "", fmt.Errorf("%w: OpenPGP key %s: %w", ErrBadSignature, keyID(sig), lastErr)
	default:
		return "", fmt.Errorf("%w %s (OpenPGP)", ErrUnknownKey, keyID(sig))
	}
}

// readSignature reads the first signature packet of an armored signature.
func readSignature(armored []byte) (*packet.Signature, error) {
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("decode OpenPGP armor: %w", err)
	}
	if block.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("armored block is %q, not %q", block.Type, openpgp.SignatureType)
	}
	p, err := packet.Read(block.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read OpenPGP signature packet: %w", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, errors.New("the OpenPGP armor holds no signature packet")
	}
	return sig, nil
}

// issuer returns the 64-bit key id the signature claims, from the issuer subpacket or
// the last eight bytes of a v4 issuer fingerprint.
func issuer(sig *packet.Signature) (uint64, bool) {
	if sig.IssuerKeyId != nil {
		return *sig.IssuerKeyId, true
	}
	if fp := sig.IssuerFingerprint; len(fp) == 20 {
		return binary.BigEndian.Uint64(fp[12:]), true
	}
	return 0, false
}

func keyID(sig *packet.Signature) string {
	if fp := sig.IssuerFingerprint; len(fp) > 0 {
		return fmt.Sprintf("%X", fp)
	}
	if id, ok := issuer(sig); ok {
		return fmt.Sprintf("%016X", id)
	}
	return "(no issuer named)"
}
