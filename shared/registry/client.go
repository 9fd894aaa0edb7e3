// Package registry reads what the supply-chain checks need from an OCI registry: the
// digest a tag points at, the referrers of a digest (the OCI referrers API, or the
// referrers tag schema where the registry lacks it) and the legacy cosign
// "sha256-<hex>.sig" and ".att" tags. It is a thin layer over go-containerregistry's
// remote package that bounds every call by a timeout and says, in each error, which image
// could not be read and what to check.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultTimeout bounds one registry call when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// MaxLayerSize bounds what is read of one signature or attestation layer: bundles and
// statements are small, and a registry must not make us read without end.
const MaxLayerSize = 4 << 20

// MaxLayers bounds how many layers of one signature manifest are read.
const MaxLayers = 64

// Options configure a Client. The zero value reads anonymously with DefaultTimeout.
type Options struct {
	// Keychain provides credentials per registry; nil reads anonymously.
	Keychain authn.Keychain
	// Timeout bounds each call (one resolve, one referrers listing, one artifact
	// fetch); zero means DefaultTimeout.
	Timeout time.Duration
	// Transport is the HTTP transport; nil means go-containerregistry's default.
	Transport http.RoundTripper
	// UserAgent is sent with every request.
	UserAgent string
}

// Client reads images' digests and attached artifacts. It is safe for concurrent use; it
// keeps registry tokens and connections between calls, never tags or digests.
type Client struct {
	timeout time.Duration
	puller  *remote.Puller
}

// New returns a Client. It fails only when go-containerregistry rejects the options.
func New(o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	keychain := o.Keychain
	if keychain == nil {
		keychain = authn.NewMultiKeychain()
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(keychain),
		// A few quick retries for flaky registries; the per-call timeout still bounds them.
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 3}),
	}
	if o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, fmt.Errorf("set up registry client: %w", err)
	}
	return &Client{timeout: timeout, puller: p}, nil
}

// Timeout is the bound of one call.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Resolve returns the digest the reference points at now. A reference with a digest is
// returned as is, without a request; a tag is asked of the registry every time.
func (c *Client) Resolve(ctx context.Context, ref string) (name.Digest, error) {
	if d, err := name.NewDigest(ref); err == nil {
		return d, nil
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image %s: not a valid reference: %w", ref, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	desc, err := c.puller.Head(ctx, tag)
	if err != nil {
		// Some registries answer HEAD badly; GET is what a runtime does.
		var d *remote.Descriptor
		if d, err = c.puller.Get(ctx, tag); err == nil {
			desc = &d.Descriptor
		}
	}
	if err != nil {
		return name.Digest{}, c.wrap(ctx, "resolve the tag of image "+ref, tag.Context(), err)
	}
	return tag.Context().Digest(desc.Digest.String()), nil
}

// Referrers lists the manifests that name the digest as their subject, optionally only
// those of one artifact type. Registries without the referrers API are read through the
// referrers tag schema ("sha256-<hex>" index tag).
func (c *Client) Referrers(ctx context.Context, d name.Digest, artifactType string) ([]v1.Descriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	opts := []remote.Option{remote.Reuse(c.puller), remote.WithContext(ctx)}
	if artifactType != "" {
		opts = append(opts, remote.WithFilter("artifactType", artifactType))
	}
	idx, err := remote.Referrers(d, opts...)
	if err == nil {
		var m *v1.IndexManifest
		if m, err = idx.IndexManifest(); err == nil {
			return m.Manifests, nil
		}
	}
	return nil, c.wrap(ctx, "list the referrers (signatures, attestations) of image "+d.String(), d.Context(), err)
}

// Artifact is a small manifest and its layers, read whole: a signature or attestation.
type Artifact struct {
	// Digest is the manifest's digest.
	Digest       string
	ArtifactType string
	// Annotations are the manifest's annotations.
	Annotations map[string]string
	Layers      []Layer
}

// Layer is one layer of an Artifact, with its content.
type Layer struct {
	MediaType   string
	Annotations map[string]string
	Data        []byte
}

// Artifact fetches the manifest at ref and every layer of it (at most MaxLayers, each at
// most MaxLayerSize bytes).
func (c *Client) Artifact(ctx context.Context, ref name.Reference) (*Artifact, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a, err := c.artifact(ctx, ref)
	if err != nil {
		return nil, c.wrap(ctx, "read signature artifact "+ref.String(), ref.Context(), err)
	}
	return a, nil
}

// LegacyArtifact fetches the cosign tag "sha256-<hex>.<suffix>" (suffix "sig" or "att")
// of the digest; it returns nil and no error when there is no such tag.
func (c *Client) LegacyArtifact(ctx context.Context, d name.Digest, suffix string) (*Artifact, error) {
	tag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + "." + suffix)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a, err := c.artifact(ctx, tag)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, c.wrap(ctx, "read legacy signature tag "+tag.String(), d.Context(), err)
	}
	return a, nil
}

func (c *Client) artifact(ctx context.Context, ref name.Reference) (*Artifact, error) {
	desc, err := c.puller.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if len(m.Layers) > MaxLayers {
		return nil, fmt.Errorf("manifest %s has %d layers, more than the %d a signature may have", desc.Digest, len(m.Layers), MaxLayers)
	}
	a := &Artifact{Digest: desc.Digest.String(), ArtifactType: m.ArtifactType, Annotations: m.Annotations}
	if a.ArtifactType == "" && m.Config.MediaType != types.OCIConfigJSON {
		// OCI 1.1 artifacts written before artifactType existed carry it as config type.
		a.ArtifactType = string(m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.Size > MaxLayerSize {
			return nil, fmt.Errorf("layer %s is %d bytes, more than the %d a signature may have", l.Digest, l.Size, MaxLayerSize)
		}
		data, err := c.blob(ctx, ref.Context().Digest(l.Digest.String()))
		if err != nil {
			return nil, err
		}
		a.Layers = append(a.Layers, Layer{MediaType: string(l.MediaType), Annotations: l.Annotations, Data: data})
	}
	return a, nil
}

func (c *Client) blob(ctx context.Context, d name.Digest) ([]byte, error) {
	l, err := c.puller.Layer(ctx, d)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", d.DigestStr(), err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxLayerSize+1))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", d.DigestStr(), err)
	}
	if len(data) > MaxLayerSize {
		return nil, fmt.Errorf("layer %s is larger than the %d bytes a signature may have", d.DigestStr(), MaxLayerSize)
	}
	return data, nil
}

// wrap turns a registry error into one a person can act on: what was read, from where,
// and what to check.
func (c *Client) wrap(ctx context.Context, what string, repo name.Repository, err error) error {
	var terr *transport.Error
	var opErr *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: registry %s did not answer within %s; check that it is reachable from here and not overloaded: %w",
			what, repo.RegistryStr(), c.timeout, err)
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%s: registry %s refused access to %s; check the pull credentials (image pull secret or docker config) for it: %w",
			what, repo.RegistryStr(), repo.RepositoryStr(), err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%s: cannot connect to registry %s; check that it is up and reachable from here (network policy, proxy, DNS): %w",
			what, repo.RegistryStr(), err)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: not found in registry %s; check the image reference: %w", what, repo.RegistryStr(), err)
	}
	return fmt.Errorf("%s: registry %s: %w; check the network path to the registry and the pull credentials",
		what, repo.RegistryStr(), err)
}
