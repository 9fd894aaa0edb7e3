package supplychain

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// authority is one policy authority made ready for sigstore-go: its trusted material,
// a verifier configured for the rule's transparency-log setting, and (keyless) the
// identity a certificate must name.
type authority struct {
	name    string
	keyless *policy.Keyless
	// strict verifies as the rule says; relaxed is the same without the transparency
	// log, used only to tell "not logged" from other failures.
	strict, relaxed *verify.Verifier
	identity        verify.CertificateIdentity
	// fingerprint is a hash of the resolved material: a rotated key or root never
	// reuses a cached success.
	fingerprint [sha256.Size]byte
}

// describe names the authority and what it trusts, for messages.
func (a *authority) describe() string {
	if a.keyless == nil {
		return fmt.Sprintf("authority %q (key)", a.name)
	}
	return fmt.Sprintf("authority %q (keyless: subject %s, issuer %s)", a.name,
		matcher(a.keyless.Subject, a.keyless.SubjectRegExp), matcher(a.keyless.Issuer, a.keyless.IssuerRegExp))
}

// matcher words an exact value or a regular expression.
func matcher(exact, re string) string {
	switch {
	case exact != "":
		return exact
	case re != "":
		return "matching " + re
	}
	return "any"
}

// authorities prepares the rule's authorities. An error means trust material could not
// be read or parsed: the check cannot decide.
func (v *Verifier) authorities(ctx context.Context, sigs *policy.Signatures) ([]*authority, error) {
	if sigs == nil || len(sigs.Authorities) == 0 {
		return nil, errors.New("the rule lists no signatures.authorities to verify signers against; add at least one")
	}
	tlog := sigs.TransparencyLog != policy.TlogIgnore
	out := make([]*authority, 0, len(sigs.Authorities))
	for _, pa := range sigs.Authorities {
		a, err := v.authority(ctx, pa, tlog)
		if err != nil {
			return nil, fmt.Errorf("authority %q: %w", pa.Name, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (v *Verifier) authority(ctx context.Context, pa policy.Authority, tlog bool) (*authority, error) {
	a := &authority{name: pa.Name, keyless: pa.Keyless}
	switch {
	case pa.Key != nil:
		data, err := v.trust.Material(ctx, *pa.Key)
		if err != nil {
			return nil, fmt.Errorf("read public key: %w", err)
		}
		km, err := keyMaterial(data)
		if err != nil {
			return nil, err
		}
		material := root.TrustedMaterial(km)
		h := sha256.New()
		h.Write(data)
		if tlog {
			if pa.TrustedRoot == nil {
				return nil, errors.New("the rule requires the transparency log, but the authority has no trustedRoot " +
					"with the log's key; give one, or set signatures.transparencyLog: ignore if this key signs offline")
			}
			logRoot, err := v.trust.Material(ctx, *pa.TrustedRoot)
			if err != nil {
				return nil, fmt.Errorf("read trusted root: %w", err)
			}
			tr, err := v.trustedRoot(logRoot)
			if err != nil {
				return nil, fmt.Errorf("transparency-log trusted root: %w", err)
			}
			material = root.TrustedMaterialCollection{km, tr}
			h.Write(logRoot)
		}
		copy(a.fingerprint[:], h.Sum(nil))
		// A key has no certificate to check against a time, so no timestamp is needed.
		if a.strict, err = newVerifier(material, tlog, verify.WithNoObserverTimestamps()); err != nil {
			return nil, err
		}
		a.relaxed = a.strict
		if tlog {
			if a.relaxed, err = newVerifier(material, false, verify.WithNoObserverTimestamps()); err != nil {
				return nil, err
			}
		}
	case pa.Keyless != nil:
		if pa.TrustedRoot == nil {
			return nil, errors.New("a keyless authority needs trustedRoot (a Sigstore trusted_root.json with the CA and the log's key)")
		}
		data, err := v.trust.Material(ctx, *pa.TrustedRoot)
		if err != nil {
			return nil, fmt.Errorf("read trusted root: %w", err)
		}
		tr, err := v.trustedRoot(data)
		if err != nil {
			return nil, fmt.Errorf("trusted root: %w", err)
		}
		a.fingerprint = sha256.Sum256(data)
		k := pa.Keyless
		if a.identity, err = verify.NewShortCertificateIdentity(k.Issuer, k.IssuerRegExp, k.Subject, k.SubjectRegExp); err != nil {
			return nil, fmt.Errorf("keyless identity: %w; set issuer (or issuerRegExp) and subject (or subjectRegExp)", err)
		}
		// A short-lived certificate is checked at the time a log or a timestamp
		// authority observed the signature. SCTs are required where the root lists
		// certificate transparency logs, as Fulcio's certificates carry them.
		opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
		if len(tr.CTLogs()) > 0 {
			opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		}
		if a.strict, err = newVerifier(tr, tlog, opts...); err != nil {
			return nil, err
		}
		a.relaxed = a.strict
		if tlog {
			if a.relaxed, err = newVerifier(tr, false, opts...); err != nil {
				return nil, err
			}
		}
	default:
		return nil, errors.New("set key or keyless")
	}
	return a, nil
}

func newVerifier(m root.TrustedMaterial, tlog bool, opts ...verify.VerifierOption) (*verify.Verifier, error) {
	if tlog {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(m, opts...)
	if err != nil {
		return nil, fmt.Errorf("set up verifier: %w", err)
	}
	return v, nil
}

// keyMaterial reads a PEM public key (PKIX "PUBLIC KEY", as cosign writes it) into
// trusted material that answers for any key hint: the policy names exactly one key.
func keyMaterial(data []byte) (*root.TrustedPublicKeyMaterial, error) {
	block, _ := pem.Decode(data)
	if block == nil || !strings.Contains(block.Type, "PUBLIC KEY") {
		return nil, errors.New("public key is not PEM (\"-----BEGIN PUBLIC KEY-----\"); give the key as cosign.pub writes it")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	sv, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return key, nil
	}), nil
}
