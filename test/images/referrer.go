package images

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// Media types of the referrers.
const (
	// BundleMediaType is a Sigstore bundle v0.3, as cosign attaches it.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// SPDXMediaType is an SPDX JSON document.
	SPDXMediaType  = "application/spdx+json"
	emptyMediaType = "application/vnd.oci.empty.v1+json"
)

var emptyJSON = []byte("{}")

// writeReferrer writes an OCI artifact manifest (empty config, one layer holding data,
// the index as subject) as the only entry of its own layout at dir.
func writeReferrer(dir, artifactType string, data []byte, subject v1.Descriptor, created time.Time) (Referrer, error) {
	blob := func(b []byte, mt string) v1.Descriptor {
		h, _, _ := v1.SHA256(bytes.NewReader(b))
		return v1.Descriptor{MediaType: types.MediaType(mt), Digest: h, Size: int64(len(b))}
	}
	cfg, content := blob(emptyJSON, emptyMediaType), blob(data, artifactType)
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType,
		Config: cfg, Layers: []v1.Descriptor{content}, Subject: &subject,
		Annotations: map[string]string{LabelCreated: created.Format(time.RFC3339)},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Referrer{}, err
	}
	desc := blob(raw, string(types.OCIManifestSchema1))
	desc.ArtifactType = artifactType
	if err := os.RemoveAll(dir); err != nil {
		return Referrer{}, err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return Referrer{}, fmt.Errorf("write layout %s: %w", dir, err)
	}
	for _, b := range []struct {
		d    v1.Descriptor
		data []byte
	}{{cfg, emptyJSON}, {content, data}, {desc, raw}} {
		if err := p.WriteBlob(b.d.Digest, io.NopCloser(bytes.NewReader(b.data))); err != nil {
			return Referrer{}, fmt.Errorf("write %s: %w", dir, err)
		}
	}
	if err := p.AppendDescriptor(desc); err != nil {
		return Referrer{}, err
	}
	return Referrer{Layout: dir, Digest: desc.Digest, ArtifactType: artifactType}, nil
}

// signBundle signs the index manifest as `cosign sign --key` does without a transparency
// log: a Sigstore bundle with a message signature over the manifest, whose digest is the
// image digest. The signature is deterministic (RFC 6979), so a rebuild signs alike.
func signBundle(key *ecdsa.PrivateKey, manifest []byte) ([]byte, error) {
	b, err := sign.Bundle(&sign.PlainData{Data: manifest}, keypair{key}, sign.BundleOptions{})
	if err != nil {
		return nil, err
	}
	raw, err := protojson.Marshal(b)
	if err != nil {
		return nil, err
	}
	// protojson varies its spacing on purpose; canonical JSON keeps rebuilds identical.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// keypair is sigstore-go's sign.Keypair over an ECDSA P-256 key.
type keypair struct{ priv *ecdsa.PrivateKey }

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k keypair) GetHint() []byte                { return nil }
func (k keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k keypair) GetPublicKey() crypto.PublicKey { return &k.priv.PublicKey }
func (k keypair) GetPublicKeyPem() (string, error) {
	b, err := PublicKeyPEM(k.priv)
	return string(b), err
}

func (k keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	h := sha256.Sum256(data)
	sig, err := k.priv.Sign(nil, h[:], crypto.SHA256) // nil rand: RFC 6979
	return sig, h[:], err
}

// PublicKeyPEM is the PEM public key that a policy's signatures authority names.
func PublicKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// NewKey makes an ECDSA P-256 signing key and its PEM (PKCS #8, unencrypted: keep it
// in a secret store).
func NewKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LoadKey reads an unencrypted ECDSA P-256 private key in PEM: PKCS #8 ("PRIVATE KEY",
// e.g. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`) or SEC 1 ("EC
// PRIVATE KEY").
func LoadKey(file string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: no PEM block; give an unencrypted ECDSA P-256 key in PEM (cosign's encrypted keys are not read: export one with openssl)", file)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("signing key %s: PEM block %q; give an unencrypted ECDSA P-256 key (PRIVATE KEY or EC PRIVATE KEY)", file, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", file, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s: not an ECDSA P-256 key; the gate verifies ECDSA P-256 signatures", file)
	}
	return ec, nil
}

// Push publishes the layout at dir to ref (a tag), and then each referrer layout beside
// it (dir.sbom, dir.sig) by digest into the same repository: the registry lists them as
// referrers of the index. It returns the index digest.
func Push(ctx context.Context, dir string, ref name.Reference, opts ...remote.Option) (v1.Hash, error) {
	opts = append(opts, remote.WithContext(ctx))
	idx, err := onlyIndex(dir)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s to %s: %w", dir, ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, suffix := range []string{".sbom", ".sig"} {
		p, err := layout.FromPath(dir + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return v1.Hash{}, fmt.Errorf("read %s: %w", dir+suffix, err)
		}
		li, err := p.ImageIndex()
		if err != nil {
			return v1.Hash{}, err
		}
		m, err := li.IndexManifest()
		if err != nil {
			return v1.Hash{}, err
		}
		for _, desc := range m.Manifests {
			art, err := li.Image(desc.Digest)
			if err != nil {
				return v1.Hash{}, err
			}
			if err := remote.Write(ref.Context().Digest(desc.Digest.String()), art, opts...); err != nil {
				return v1.Hash{}, fmt.Errorf("push %s to %s: %w", dir+suffix, ref.Context(), err)
			}
		}
	}
	return d, nil
}

// onlyIndex is the one image index of the layout at dir.
func onlyIndex(dir string) (v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read layout %s: %w", dir, err)
	}
	li, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := li.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() {
		return nil, fmt.Errorf("layout %s holds %d entries; an image layout of `make images` holds one image index", dir, len(m.Manifests))
	}
	return li.ImageIndex(m.Manifests[0].Digest)
}
