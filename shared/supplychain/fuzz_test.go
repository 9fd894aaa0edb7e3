package supplychain

import (
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/registry"
)

// Seeds for the fuzz targets live in testdata/fuzz/<target>: real legacy layers and
// bundles written by the registrytest signers (see TestWriteFuzzSeeds).

// FuzzLegacyCandidate feeds a legacy cosign tag layer — payload, signature, certificate
// and Rekor bundle annotation, all read from the registry — to the decoder that shapes
// it into a bundle. It must never panic, and what it accepts must be a usable candidate.
func FuzzLegacyCandidate(f *testing.F) {
	f.Add(simpleSigningMediaType, []byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"}}`),
		"MEUCIQ==", "", `{"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":0,"logID":"00"}}`)
	f.Add(dsseMediaType, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`), "", "", "")
	f.Fuzz(func(t *testing.T, mediaType string, data []byte, sig, cert, rekor string) {
		l := registry.Layer{MediaType: mediaType, Data: data, Annotations: map[string]string{
			annotationSignature: sig, annotationCertificate: cert, annotationRekorBundle: rekor,
		}}
		c, err := legacyCandidate("fuzz", l)
		if err != nil {
			return
		}
		if c.entity == nil {
			t.Fatal("accepted a layer without making a bundle of it")
		}
		if c.statement == nil && len(c.signedFor) != 1 {
			t.Fatalf("a simple-signing candidate must name one digest, got %v", c.signedFor)
		}
	})
}

// FuzzBundle feeds a referrer's layer — a Sigstore bundle as JSON — to the decoder.
func FuzzBundle(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := fromBundle("fuzz", data)
		if err != nil {
			return
		}
		if c.entity == nil {
			t.Fatal("accepted a bundle without keeping it")
		}
	})
}
