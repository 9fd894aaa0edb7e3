package supplychain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/verify"
)

// outcome is what one authority made of one candidate. Lower kinds explain a failure
// better: when no candidate verifies, the message gives the best explanation found.
type outcome struct {
	kind   outcomeKind
	detail string
}

type outcomeKind int

const (
	verified outcomeKind = iota
	otherDigest
	wrongIdentity
	notLogged
	otherSigner
	noCandidates
)

// check verifies one candidate against one authority for the image digest d.
func (a *authority) check(c *candidate, d string) outcome {
	claimed := d
	if !slices.Contains(c.signedFor, d) && len(c.signedFor) > 0 {
		claimed = c.signedFor[0]
	}
	err := a.verify(a.strict, c, claimed, true)
	if err == nil {
		if claimed != d {
			return outcome{otherDigest, fmt.Sprintf("its signature (%s) is for another digest, %s", c.source, claimed)}
		}
		return outcome{kind: verified}
	}
	// Diagnose: would it verify for any identity, or without the log?
	if a.keyless != nil {
		if res, err2 := a.verifyResult(a.strict, c, claimed, false); err2 == nil {
			return outcome{wrongIdentity, fmt.Sprintf("it is signed by %s (%s), another identity", signer(res), c.source)}
		}
	}
	if a.relaxed != a.strict {
		if err2 := a.verify(a.relaxed, c, claimed, true); err2 == nil {
			return outcome{notLogged, fmt.Sprintf("its signature (%s) has no verified transparency-log entry", c.source)}
		}
	}
	hasCert := c.entity.GetVerificationMaterial().GetPublicKey() == nil
	switch {
	case a.keyless == nil && hasCert:
		return outcome{otherSigner, fmt.Sprintf("it is signed with a certificate, not with the key (%s)", c.source)}
	case a.keyless != nil && !hasCert:
		return outcome{otherSigner, fmt.Sprintf("it is signed with a key, not with a certificate for the identity (%s)", c.source)}
	case a.keyless == nil:
		return outcome{otherSigner, fmt.Sprintf("it is signed by another key (%s)", c.source)}
	}
	return outcome{otherSigner, fmt.Sprintf("its signature (%s) does not verify against the trusted root: %s", c.source, short(err))}
}

func (a *authority) verify(v *verify.Verifier, c *candidate, d string, identity bool) error {
	_, err := a.verifyResult(v, c, d, identity)
	return err
}

func (a *authority) verifyResult(v *verify.Verifier, c *candidate, d string, identity bool) (*verify.VerificationResult, error) {
	var opts []verify.PolicyOption
	switch {
	case a.keyless == nil:
		opts = append(opts, verify.WithKey())
	case identity:
		opts = append(opts, verify.WithCertificateIdentity(a.identity))
	default:
		opts = append(opts, verify.WithoutIdentitiesUnsafe())
	}
	return v.Verify(c.entity, verify.NewPolicy(c.artifact(d), opts...))
}

// signer names the certificate identity of a verified result.
func signer(res *verify.VerificationResult) string {
	if res == nil || res.Signature == nil || res.Signature.Certificate == nil {
		return "an unknown identity"
	}
	s := res.Signature.Certificate
	return fmt.Sprintf("subject %s, issuer %s", s.SubjectAlternativeName, s.Issuer)
}

// short keeps the first line of a sigstore-go error for a one-line message.
func short(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// best checks every candidate against the authority and returns the verified outcome,
// or the failure that explains most.
func (a *authority) best(cands []*candidate, d string, accept func(*candidate) bool) (outcome, *candidate) {
	out := outcome{kind: noCandidates}
	for _, c := range cands {
		o := a.check(c, d)
		if o.kind == verified && accept != nil && !accept(c) {
			continue
		}
		if o.kind < out.kind {
			out = o
			if o.kind == verified {
				return o, c
			}
		}
	}
	return out, nil
}
