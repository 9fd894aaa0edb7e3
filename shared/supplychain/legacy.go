package supplychain

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/promotion-gate/promotion-gate/shared/registry"
)

// Media types and annotations of cosign's legacy "sha256-<hex>.sig" and ".att" tags.
const (
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseMediaType          = "application/vnd.dsse.envelope.v1+json"
	annotationSignature    = "dev.cosignproject.cosign/signature"
	annotationCertificate  = "dev.sigstore.cosign/certificate"
	annotationRekorBundle  = "dev.sigstore.cosign/bundle"
)

// legacyBundleMediaType is the bundle version whose log entries need only the signed
// entry timestamp that cosign's legacy annotations carry (not an inclusion proof).
const legacyBundleMediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1"

// simpleSigning is the part of cosign's simple-signing payload that names the image.
type simpleSigning struct {
	Critical struct {
		Image struct {
			Digest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// rekorBundle is cosign's "dev.sigstore.cosign/bundle" annotation: a Rekor entry and its
// signed entry timestamp.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// legacyCandidate reads one layer of a legacy cosign tag into a candidate: a
// simple-signing payload with its signature in an annotation, or a DSSE envelope. The
// certificate and Rekor entry come from the layer's annotations. Everything here is
// untrusted: it only shapes a bundle that sigstore-go then verifies.
func legacyCandidate(source string, l registry.Layer) (*candidate, error) {
	pb := &protobundle.Bundle{MediaType: legacyBundleMediaType}
	c := &candidate{source: source}
	switch l.MediaType {
	case simpleSigningMediaType:
		var ss simpleSigning
		if err := json.Unmarshal(l.Data, &ss); err != nil {
			return nil, fmt.Errorf("%s: simple-signing payload is not JSON: %w", source, err)
		}
		if ss.Critical.Image.Digest == "" {
			return nil, fmt.Errorf("%s: simple-signing payload names no docker-manifest-digest", source)
		}
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[annotationSignature])
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%s: no base64 signature in annotation %s", source, annotationSignature)
		}
		sum := sha256.Sum256(l.Data)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
		c.payload, c.signedFor = l.Data, []string{ss.Critical.Image.Digest}
	case dsseMediaType:
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     []byte `json:"payload"`
			Signatures  []struct {
				KeyID string `json:"keyid"`
				Sig   []byte `json:"sig"`
			} `json:"signatures"`
		}
		if err := json.Unmarshal(l.Data, &env); err != nil {
			return nil, fmt.Errorf("%s: DSSE envelope is not JSON: %w", source, err)
		}
		if len(env.Signatures) == 0 {
			return nil, fmt.Errorf("%s: DSSE envelope has no signature", source)
		}
		pe := &protodsse.Envelope{Payload: env.Payload, PayloadType: env.PayloadType}
		for _, s := range env.Signatures {
			pe.Signatures = append(pe.Signatures, &protodsse.Signature{Sig: s.Sig, Keyid: s.KeyID})
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pe}
		st, digests, err := parseStatement(env.Payload)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		c.statement, c.signedFor = st, digests
	default:
		return nil, fmt.Errorf("%s: media type %q is neither a cosign simple-signing payload nor a DSSE envelope", source, l.MediaType)
	}
	vm, err := legacyMaterial(l.Annotations)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	pb.VerificationMaterial = vm
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	c.entity = b
	return c, nil
}

// legacyMaterial builds verification material from the certificate and Rekor bundle
// annotations; without a certificate the signature is checked against the policy's key.
func legacyMaterial(ann map[string]string) (*protobundle.VerificationMaterial, error) {
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}},
	}
	if certPEM := ann[annotationCertificate]; certPEM != "" {
		block, _ := pem.Decode([]byte(certPEM))
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("annotation %s is not a PEM certificate", annotationCertificate)
		}
		vm.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: block.Bytes}}
	}
	raw := ann[annotationRekorBundle]
	if raw == "" {
		return vm, nil
	}
	var rb rekorBundle
	if err := json.Unmarshal([]byte(raw), &rb); err != nil {
		return nil, fmt.Errorf("annotation %s is not a Rekor bundle: %w", annotationRekorBundle, err)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("annotation %s: body is not base64: %w", annotationRekorBundle, err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("annotation %s: logID is not hex: %w", annotationRekorBundle, err)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, errors.New("annotation " + annotationRekorBundle + ": the log entry names no kind and apiVersion")
	}
	vm.TlogEntries = []*protorekor.TransparencyLogEntry{{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}}
	return vm, nil
}
