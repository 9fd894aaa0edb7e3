package registrytest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BundleMediaType is the media type (and artifact type) of a Sigstore bundle v0.3.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Media types and annotations of cosign's legacy signature and attestation tags.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType          = "application/vnd.dsse.envelope.v1+json"
	AnnotationSignature    = "dev.cosignproject.cosign/signature"
	AnnotationCertificate  = "dev.sigstore.cosign/certificate"
	AnnotationChain        = "dev.sigstore.cosign/chain"
	AnnotationRekorBundle  = "dev.sigstore.cosign/bundle"
)

const emptyJSONMediaType = "application/vnd.oci.empty.v1+json"

// Image is an image pushed to the registry.
type Image struct {
	// Repository is "<host>/<repo>".
	Repository string
	// Tag is the tag it was pushed with.
	Tag string
	// Digest is "sha256:<hex>" of Manifest.
	Digest   string
	Manifest []byte
	// MediaType is the manifest's media type.
	MediaType string
}

// TagRef is "<repository>:<tag>".
func (i Image) TagRef() string { return i.Repository + ":" + i.Tag }

// DigestRef is "<repository>@<digest>".
func (i Image) DigestRef() string { return i.Repository + "@" + i.Digest }

// Name is the image's digest reference in go-containerregistry's form.
func (i Image) Name() name.Digest {
	d, err := name.NewDigest(i.DigestRef())
	if err != nil {
		panic(err)
	}
	return d
}

// PushImage pushes a small random image as repo:tag.
func (r *Registry) PushImage(t testing.TB, repo, tag string) Image {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatalf("random image: %v", err)
	}
	ref, err := name.NewTag(r.Ref(repo, ":"+tag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	return Image{Repository: ref.Context().String(), Tag: tag, Digest: d.String(), Manifest: raw, MediaType: string(mt)}
}

// rawManifest is a manifest pushed as written.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// PushBundle attaches a Sigstore bundle (JSON) to the image as an OCI 1.1 artifact whose
// subject is the image, the way cosign stores bundles, and returns the artifact's digest.
func (r *Registry) PushBundle(t testing.TB, subject Image, bundleJSON []byte) string {
	t.Helper()
	return r.pushArtifact(t, subject, BundleMediaType, []layer{{mediaType: BundleMediaType, data: bundleJSON}}, nil)
}

// LegacyLayer is one layer of a legacy cosign signature or attestation tag.
type LegacyLayer struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// PushLegacy writes the cosign tag "sha256-<hex>.<suffix>" (suffix "sig" or "att") of
// the image with the given layers.
func (r *Registry) PushLegacy(t testing.TB, subject Image, suffix string, layers ...LegacyLayer) {
	t.Helper()
	var ls []layer
	for _, l := range layers {
		ls = append(ls, layer{mediaType: l.MediaType, data: l.Data, annotations: l.Annotations})
	}
	tag := strings.Replace(subject.Digest, ":", "-", 1) + "." + suffix
	r.pushManifest(t, subject.Repository+":"+tag, "", ls, nil)
}

type layer struct {
	mediaType   string
	data        []byte
	annotations map[string]string
}

func (r *Registry) pushArtifact(t testing.TB, subject Image, artifactType string, layers []layer, ann map[string]string) string {
	t.Helper()
	s := &v1.Descriptor{MediaType: types.MediaType(subject.MediaType), Size: int64(len(subject.Manifest))}
	h, err := v1.NewHash(subject.Digest)
	if err != nil {
		t.Fatal(err)
	}
	s.Digest = h
	return r.pushManifest(t, "", artifactType, layers, s, withRepo(subject.Repository), withAnnotations(ann))
}

type pushOpt func(*pushConfig)

type pushConfig struct {
	repo string
	ann  map[string]string
}

func withRepo(repo string) pushOpt                { return func(c *pushConfig) { c.repo = repo } }
func withAnnotations(a map[string]string) pushOpt { return func(c *pushConfig) { c.ann = a } }

// pushManifest uploads the layers and an OCI image manifest over them. With an empty
// ref the manifest is pushed by digest into the repository given by withRepo.
func (r *Registry) pushManifest(t testing.TB, ref, artifactType string, layers []layer, subject *v1.Descriptor, opts ...pushOpt) string {
	t.Helper()
	var cfg pushConfig
	for _, o := range opts {
		o(&cfg)
	}
	if ref != "" {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		cfg.repo = tag.Context().String()
	}
	repo, err := name.NewRepository(cfg.repo)
	if err != nil {
		t.Fatal(err)
	}
	config := static.NewLayer([]byte("{}"), emptyJSONMediaType)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        r.upload(t, repo, config, nil),
		Subject:       subject,
		Annotations:   cfg.ann,
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, r.upload(t, repo, static.NewLayer(l.data, types.MediaType(l.mediaType)), l.annotations))
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var target name.Reference = repo.Digest(h.String())
	if ref != "" {
		target, _ = name.NewTag(ref)
	}
	if err := remote.Put(target, rawManifest{raw: raw, mt: types.OCIManifestSchema1}); err != nil {
		t.Fatalf("push %s: %v", target, err)
	}
	return h.String()
}

func (r *Registry) upload(t testing.TB, repo name.Repository, l v1.Layer, ann map[string]string) v1.Descriptor {
	t.Helper()
	if err := remote.WriteLayer(repo, l); err != nil {
		t.Fatalf("push layer to %s: %v", repo, err)
	}
	d, _ := l.Digest()
	size, _ := l.Size()
	mt, _ := l.MediaType()
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size, Annotations: ann}
}
