package supplychain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// bundleTypePrefix starts the media type of every Sigstore bundle version.
const bundleTypePrefix = "application/vnd.dev.sigstore.bundle"

// emptyConfigMediaType is the config of OCI artifacts that have no config.
const emptyConfigMediaType = "application/vnd.oci.empty.v1+json"

// CosignSignPredicate is the predicate type of the in-toto statement cosign v3 signs
// when it signs an image into a bundle: the statement is the signature.
const CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"

// candidate is one signature or attestation found for an image, not yet verified.
type candidate struct {
	// source says where it was found, for messages.
	source string
	entity *bundle.Bundle
	// payload is what a message signature signs when it is known (legacy simple
	// signing); nil when the signature is over the digest itself.
	payload []byte
	// signedFor are the image digests the signature claims to cover.
	signedFor []string
	// statement is the in-toto statement of a DSSE envelope; nil for message signatures.
	statement *statement
}

// isSignature tells image signatures (message signatures, cosign's sign statements)
// from attestations.
func (c *candidate) isSignature() bool {
	return c.statement == nil || c.statement.PredicateType == CosignSignPredicate
}

// artifact is the sigstore-go artifact policy for verifying against the digest d.
func (c *candidate) artifact(d string) verify.ArtifactPolicyOption {
	if c.payload != nil {
		return verify.WithArtifact(bytes.NewReader(c.payload))
	}
	alg, hexDigest, _ := strings.Cut(d, ":")
	raw, err := hex.DecodeString(hexDigest)
	if err != nil || alg != "sha256" {
		// A digest we cannot state fails verification rather than skipping the check.
		raw = nil
	}
	return verify.WithArtifactDigest("sha256", raw)
}

// statement is the part of an in-toto statement the checks read; Predicate stays raw
// so that the profiles see exactly what was signed.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// parseStatement reads an in-toto statement from a DSSE payload. The digests listed are
// the sha256 subjects, as "sha256:<hex>".
func parseStatement(payload []byte) (*statement, []string, error) {
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, nil, fmt.Errorf("payload is not an in-toto statement: %w", err)
	}
	if st.PredicateType == "" {
		return nil, nil, fmt.Errorf("in-toto statement has no predicateType")
	}
	var digests []string
	for _, s := range st.Subject {
		if h, ok := s.Digest["sha256"]; ok {
			digests = append(digests, "sha256:"+strings.ToLower(h))
		}
	}
	return &st, digests, nil
}

// fromBundle reads a Sigstore bundle (JSON) into a candidate.
func fromBundle(source string, data []byte) (*candidate, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%s: not a valid Sigstore bundle: %w", source, err)
	}
	c := &candidate{source: source, entity: &b}
	switch {
	case b.GetMessageSignature() != nil:
		md := b.GetMessageSignature().GetMessageDigest()
		if md.GetAlgorithm().String() == "SHA2_256" {
			c.signedFor = []string{"sha256:" + hex.EncodeToString(md.GetDigest())}
		}
	case b.GetDsseEnvelope() != nil:
		st, digests, err := parseStatement(b.GetDsseEnvelope().GetPayload())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		c.statement, c.signedFor = st, digests
	}
	return c, nil
}

// found is what the registry holds for an image: candidates, and problems with
// artifacts that could not be read as signatures (named in "unsigned" messages).
type found struct {
	candidates []*candidate
	problems   []string
	// legacyTag is the fallback tag looked at, if it was.
	legacyTag string
}

// collect lists the image's Sigstore bundles among its OCI referrers; when none is of the
// wanted kind, it reads the legacy cosign tag (suffix "sig" or "att") instead.
func (v *Verifier) collect(ctx context.Context, d name.Digest, wantSignatures bool) (*found, error) {
	descs, err := v.reg.Referrers(ctx, d, "")
	if err != nil {
		return nil, err
	}
	f := &found{}
	for _, desc := range descs {
		// Some registries report the config media type instead of the manifest's
		// artifactType; such an artifact is read to see what it holds.
		if !strings.HasPrefix(desc.ArtifactType, bundleTypePrefix) &&
			desc.ArtifactType != "" && desc.ArtifactType != emptyConfigMediaType {
			continue
		}
		art, err := v.reg.Artifact(ctx, d.Context().Digest(desc.Digest.String()))
		if err != nil {
			return nil, err
		}
		for _, l := range art.Layers {
			if !strings.HasPrefix(l.MediaType, bundleTypePrefix) {
				continue
			}
			c, err := fromBundle("referrer "+art.Digest, l.Data)
			if err != nil {
				f.problems = append(f.problems, err.Error())
				continue
			}
			if c.isSignature() == wantSignatures {
				f.candidates = append(f.candidates, c)
			}
		}
	}
	if len(f.candidates) > 0 {
		return f, nil
	}
	suffix := "att"
	if wantSignatures {
		suffix = "sig"
	}
	f.legacyTag = strings.Replace(d.DigestStr(), ":", "-", 1) + "." + suffix
	art, err := v.reg.LegacyArtifact(ctx, d, suffix)
	if err != nil || art == nil {
		return f, err
	}
	for i, l := range art.Layers {
		c, err := legacyCandidate(fmt.Sprintf("legacy tag %s layer %d", f.legacyTag, i+1), l)
		if err != nil {
			f.problems = append(f.problems, err.Error())
			continue
		}
		if c.isSignature() == wantSignatures {
			f.candidates = append(f.candidates, c)
		}
	}
	return f, nil
}
