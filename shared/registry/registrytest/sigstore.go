package registrytest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
)

// Sigstore is an in-process Sigstore for tests: sigstore-go's VirtualSigstore provides a
// Fulcio-style CA, a timestamp authority and the key of a Rekor-style transparency log.
// Entries are logged as Rekor v1 entries with a signed entry timestamp and an inclusion
// proof, as the public-good Rekor returns them.
type Sigstore struct {
	vs *ca.VirtualSigstore
	mu sync.Mutex
}

// NewSigstore starts a new CA and log with fresh keys.
func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatalf("virtual sigstore: %v", err)
	}
	return &Sigstore{vs: vs}
}

// TrustedRoot is the Sigstore trusted_root.json of this instance: its CA, timestamp
// authority and transparency log. It lists no certificate transparency log: the test CA
// issues certificates without SCTs.
func (s *Sigstore) TrustedRoot(t testing.TB) []byte {
	t.Helper()
	// The virtual log's ID is its hex key hash spelled as text; a trusted root holds the
	// raw hash, which is what log entries name.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range s.vs.RekorLogs() {
		raw, err := hex.DecodeString(id)
		if err != nil {
			t.Fatal(err)
		}
		c := *l
		c.ID = raw
		logs[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		s.vs.FulcioCertificateAuthorities(), nil, s.vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	return data
}

// WriteTrustedRoot writes TrustedRoot to path, for policies that name it as a file.
func (s *Sigstore) WriteTrustedRoot(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, s.TrustedRoot(t), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logEntry implements sigstore-go's sign.Transparency: it logs a bundle's signature as a
// Rekor v1 hashedrekord (message signatures) or dsse (envelopes) entry.
type logEntry struct{ s *Sigstore }

// GetTransparencyLogEntry appends the entry to the bundle's verification material.
func (l logEntry) GetTransparencyLogEntry(_ context.Context, keyOrCertPEM []byte, b *protobundle.Bundle) error {
	body, kind, err := rekorBody(keyOrCertPEM, b)
	if err != nil {
		return err
	}
	tle, err := l.s.entry(body, kind, time.Now())
	if err != nil {
		return err
	}
	b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, tle)
	return nil
}

// entry signs an entry timestamp and an inclusion proof for the canonical body.
func (s *Sigstore) entry(body []byte, kind string, at time.Time) (*protorekor.TransparencyLogEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	logID, err := s.vs.RekorLogID()
	if err != nil {
		return nil, err
	}
	rawID, err := hex.DecodeString(logID)
	if err != nil {
		return nil, err
	}
	// Every entry is alone in a one-leaf tree at index 0: that is what the virtual log's
	// inclusion proofs describe.
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: at.Unix(), LogIndex: 0, LogID: logID,
	})
	if err != nil {
		return nil, err
	}
	proof, err := s.vs.GetInclusionProof(body)
	if err != nil {
		return nil, err
	}
	rootHash, err := hex.DecodeString(*proof.RootHash)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, 0, len(proof.Hashes))
	for _, h := range proof.Hashes {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, b)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          0,
		LogId:             &protocommon.LogId{KeyId: rawID},
		KindVersion:       &protorekor.KindVersion{Kind: kind, Version: "0.0.1"},
		IntegratedTime:    at.Unix(),
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		CanonicalizedBody: body,
		InclusionProof: &protorekor.InclusionProof{
			LogIndex: *proof.LogIndex, RootHash: rootHash, TreeSize: *proof.TreeSize, Hashes: hashes,
			Checkpoint: &protorekor.Checkpoint{Envelope: *proof.Checkpoint},
		},
	}, nil
}

// rekorBody is the canonical JSON body of the Rekor v1 entry for the bundle's signature.
// Maps marshal with sorted keys, and the values hold no characters that JSON escapes
// differently, so json.Marshal gives the canonical form.
func rekorBody(keyOrCertPEM []byte, b *protobundle.Bundle) ([]byte, string, error) {
	pemB64 := base64.StdEncoding.EncodeToString(keyOrCertPEM)
	if ms := b.GetMessageSignature(); ms != nil {
		body := map[string]any{
			"apiVersion": "0.0.1", "kind": "hashedrekord",
			"spec": map[string]any{
				"data": map[string]any{"hash": map[string]any{
					"algorithm": "sha256", "value": hex.EncodeToString(ms.GetMessageDigest().GetDigest()),
				}},
				"signature": map[string]any{
					"content":   base64.StdEncoding.EncodeToString(ms.GetSignature()),
					"publicKey": map[string]any{"content": pemB64},
				},
			},
		}
		data, err := json.Marshal(body)
		return data, "hashedrekord", err
	}
	env := b.GetDsseEnvelope()
	if env == nil || len(env.GetSignatures()) == 0 {
		return nil, "", fmt.Errorf("bundle has neither a message signature nor a signed envelope")
	}
	envJSON, err := json.Marshal(map[string]any{
		"payload":     base64.StdEncoding.EncodeToString(env.GetPayload()),
		"payloadType": env.GetPayloadType(),
		"signatures":  []map[string]any{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(env.GetSignatures()[0].GetSig())}},
	})
	if err != nil {
		return nil, "", err
	}
	envHash := sha256.Sum256(envJSON)
	payloadHash := sha256.Sum256(env.GetPayload())
	body := map[string]any{
		"apiVersion": "0.0.1", "kind": "dsse",
		"spec": map[string]any{
			"envelopeHash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(envHash[:])},
			"payloadHash":  map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(payloadHash[:])},
			"signatures": []map[string]any{{
				"signature": base64.StdEncoding.EncodeToString(env.GetSignatures()[0].GetSig()),
				"verifier":  pemB64,
			}},
		},
	}
	data, err := json.Marshal(body)
	return data, "dsse", err
}
