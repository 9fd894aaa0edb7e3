package registrytest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Signer signs images and statements with a key pair or, keyless, with a fresh
// certificate from the Sigstore's CA for each signature.
type Signer struct {
	s *Sigstore
	// key is the long-lived key of a keyed signer; nil for keyless.
	key              *ecdsa.PrivateKey
	identity, issuer string
	noLog            bool
}

// NewKey returns a keyed signer with a new ECDSA P-256 key; its signatures are logged.
func (s *Sigstore) NewKey(t testing.TB) *Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{s: s, key: k}
}

// Keyless returns a signer whose certificates name the OIDC identity (an e-mail
// subject alternative name) and issuer; its signatures are logged.
func (s *Sigstore) Keyless(identity, issuer string) *Signer {
	return &Signer{s: s, identity: identity, issuer: issuer}
}

// WithoutLog returns a copy of the signer whose signatures are not logged. Keyless
// signatures then carry an RFC 3161 timestamp instead, so the certificate's validity can
// still be checked.
func (sg *Signer) WithoutLog() *Signer {
	c := *sg
	c.noLog = true
	return &c
}

// PublicKeyPEM is the PEM public key of a keyed signer.
func (sg *Signer) PublicKeyPEM(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&sg.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SignImage signs the image's manifest: a bundle with a message signature whose digest
// is the image digest.
func (sg *Signer) SignImage(t testing.TB, img Image) []byte {
	t.Helper()
	return sg.bundleJSON(t, &sign.PlainData{Data: img.Manifest})
}

// Attest signs an in-toto statement: a bundle with a DSSE envelope.
func (sg *Signer) Attest(t testing.TB, statement []byte) []byte {
	t.Helper()
	return sg.bundleJSON(t, &sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType})
}

func (sg *Signer) bundleJSON(t testing.TB, content sign.Content) []byte {
	t.Helper()
	b := sg.bundle(t, content)
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (sg *Signer) bundle(t testing.TB, content sign.Content) *protobundle.Bundle {
	t.Helper()
	opts := sign.BundleOptions{}
	kp := &keypair{priv: sg.key}
	if sg.key == nil {
		cert, priv, err := sg.s.vs.GenerateLeafCert(sg.identity, sg.issuer)
		if err != nil {
			t.Fatal(err)
		}
		kp.priv = priv.(*ecdsa.PrivateKey)
		opts.CertificateProvider = certificate(cert.Raw)
	}
	if !sg.noLog {
		opts.TransparencyLogs = []sign.Transparency{logEntry{s: sg.s}}
	}
	b, err := sign.Bundle(content, kp, opts)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	if sg.noLog && sg.key == nil {
		sig := b.GetMessageSignature().GetSignature()
		if env := b.GetDsseEnvelope(); env != nil {
			sig = env.GetSignatures()[0].GetSig()
		}
		ts, err := sg.s.vs.TimestampResponse(sig)
		if err != nil {
			t.Fatal(err)
		}
		b.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}},
		}
	}
	return b
}

// LegacySignature signs the image the way cosign did before bundles: a simple-signing
// payload naming the image digest, with the signature, certificate and Rekor bundle as
// annotations of the layer. Push it with Registry.PushLegacy(t, img, "sig", layer).
func (sg *Signer) LegacySignature(t testing.TB, img Image) LegacyLayer {
	t.Helper()
	return sg.LegacySignatureFor(t, img.Repository, img.Digest)
}

// LegacySignatureFor is LegacySignature for any repository and digest.
func (sg *Signer) LegacySignatureFor(t testing.TB, repository, digest string) LegacyLayer {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]any{"docker-reference": repository},
			"image":    map[string]any{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	b := sg.bundle(t, &sign.PlainData{Data: payload})
	ann := map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(b.GetMessageSignature().GetSignature())}
	sg.legacyMaterial(t, b, ann)
	return LegacyLayer{MediaType: SimpleSigningMediaType, Data: payload, Annotations: ann}
}

// LegacyAttestation signs the statement the way cosign's ".att" tag stores it: the DSSE
// envelope as the layer, with certificate and Rekor bundle as annotations.
func (sg *Signer) LegacyAttestation(t testing.TB, statement []byte) LegacyLayer {
	t.Helper()
	b := sg.bundle(t, &sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType})
	env := b.GetDsseEnvelope()
	data, err := json.Marshal(map[string]any{
		"payloadType": env.GetPayloadType(),
		"payload":     base64.StdEncoding.EncodeToString(env.GetPayload()),
		"signatures":  []map[string]any{{"keyid": "", "sig": base64.StdEncoding.EncodeToString(env.GetSignatures()[0].GetSig())}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{}
	sg.legacyMaterial(t, b, ann)
	return LegacyLayer{MediaType: DSSEMediaType, Data: data, Annotations: ann}
}

// legacyMaterial adds the certificate and the Rekor bundle annotations.
func (sg *Signer) legacyMaterial(t testing.TB, b *protobundle.Bundle, ann map[string]string) {
	t.Helper()
	if c := b.GetVerificationMaterial().GetCertificate(); c != nil {
		ann[AnnotationCertificate] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.GetRawBytes()}))
	}
	if es := b.GetVerificationMaterial().GetTlogEntries(); len(es) > 0 {
		e := es[0]
		rb, err := json.Marshal(map[string]any{
			"SignedEntryTimestamp": base64.StdEncoding.EncodeToString(e.GetInclusionPromise().GetSignedEntryTimestamp()),
			"Payload": map[string]any{
				"body":           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
				"integratedTime": e.GetIntegratedTime(),
				"logIndex":       e.GetLogIndex(),
				"logID":          hex.EncodeToString(e.GetLogId().GetKeyId()),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ann[AnnotationRekorBundle] = string(rb)
	}
}

// keypair is sigstore-go's sign.Keypair over an ECDSA P-256 key.
type keypair struct{ priv *ecdsa.PrivateKey }

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte                { return nil }
func (k *keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey { return &k.priv.PublicKey }
func (k *keypair) GetPublicKeyPem() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	return sig, h[:], err
}

// certificate is a sign.CertificateProvider that returns a certificate issued beforehand.
type certificate []byte

func (c certificate) GetCertificate(context.Context, sign.Keypair, *sign.CertificateProviderOptions) ([]byte, error) {
	return c, nil
}
