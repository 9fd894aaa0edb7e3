package images

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// OCI annotation and label keys the images carry.
const (
	LabelSource      = "org.opencontainers.image.source"
	LabelRevision    = "org.opencontainers.image.revision"
	LabelVersion     = "org.opencontainers.image.version"
	LabelCreated     = "org.opencontainers.image.created"
	LabelTitle       = "org.opencontainers.image.title"
	LabelDescription = "org.opencontainers.image.description"
	refName          = "org.opencontainers.image.ref.name"
)

// Platforms are the platforms `make images` builds.
var Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

// HostPlatform is the linux platform of this machine's architecture.
func HostPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

// Options are the inputs of a build. The same options on the same commit give the same
// digests.
type Options struct {
	// Root is the repository root.
	Root string
	// Out is the output directory: <Out>/<name> is the image's OCI layout, <Out>/<name>.sbom
	// and <Out>/<name>.sig the layouts of its referrers.
	Out       string
	Platforms []v1.Platform
	// Version, Revision and Source become the OCI labels and annotations; Version is
	// also each program's --version and the layout's ref.name.
	Version, Revision, Source string
	// Created is every timestamp of the image: the commit's time makes builds of one
	// commit identical.
	Created time.Time
	// Key signs each image index; nil builds unsigned images.
	Key *ecdsa.PrivateKey
	// Log receives progress; nil discards it.
	Log io.Writer
}

// Result is one image built.
type Result struct {
	Spec   Spec
	Layout string
	// Index is the digest of the image index: what the charts pin.
	Index v1.Hash
	// Manifests are the platform images' digests, by "os/arch".
	Manifests map[string]v1.Hash
	// SBOM and Signature are the referrers of the index; Signature is empty unsigned.
	SBOM, Signature Referrer
}

// Referrer is an OCI artifact whose subject is the image index, in its own layout.
type Referrer struct {
	Layout       string
	Digest       v1.Hash
	ArtifactType string
}

// Build builds every spec into opts.Out.
func Build(ctx context.Context, opts Options, specs ...Spec) ([]Result, error) {
	if len(opts.Platforms) == 0 {
		return nil, fmt.Errorf("build images: no platforms")
	}
	if opts.Created.IsZero() {
		return nil, fmt.Errorf("build images: no creation time; pass the commit time (SOURCE_DATE_EPOCH) so that builds are reproducible")
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	opts.Created = opts.Created.UTC()
	bins, err := os.MkdirTemp("", "promotion-gate-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bins)
	var out []Result
	for _, s := range specs {
		r, err := buildOne(ctx, opts, s, bins)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.Name, err)
		}
		fmt.Fprintf(opts.Log, "%s: %s@%s\n", s.Name, r.Layout, r.Index)
		out = append(out, r)
	}
	return out, nil
}

func buildOne(ctx context.Context, opts Options, s Spec, bins string) (Result, error) {
	res := Result{Spec: s, Layout: filepath.Join(opts.Out, s.Name), Manifests: map[string]v1.Hash{}}
	baseFiles, err := baseEntries(s)
	if err != nil {
		return res, err
	}
	base, err := layer(baseFiles, opts.Created)
	if err != nil {
		return res, err
	}
	labels := map[string]string{
		LabelSource: opts.Source, LabelRevision: opts.Revision, LabelVersion: opts.Version,
		LabelCreated: opts.Created.Format(time.RFC3339), LabelTitle: s.Title, LabelDescription: s.Description,
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var sbomBinaries []string
	for i, p := range opts.Platforms {
		dir := filepath.Join(bins, s.Name, p.OS+"-"+p.Architecture)
		var files []entry
		for _, b := range s.Binaries {
			file, err := goBuild(ctx, opts, b, p, dir)
			if err != nil {
				return res, err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return res, err
			}
			files = append(files, entry{path: b.Path, data: data, mode: 0o755})
			if i == 0 {
				sbomBinaries = append(sbomBinaries, file)
			}
		}
		for _, f := range s.Files {
			data, err := os.ReadFile(filepath.Join(opts.Root, f.Source))
			if err != nil {
				return res, err
			}
			files = append(files, entry{path: f.Path, data: data, mode: 0o644})
		}
		app, err := layer(files, opts.Created)
		if err != nil {
			return res, err
		}
		img, err := image(s, p, labels, opts.Created, base, app)
		if err != nil {
			return res, err
		}
		d, err := img.Digest()
		if err != nil {
			return res, err
		}
		res.Manifests[p.OS+"/"+p.Architecture] = d
		plat := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &plat}})
	}
	idx = mutate.Annotations(idx, labels).(v1.ImageIndex)
	if res.Index, err = idx.Digest(); err != nil {
		return res, err
	}
	if err := writeLayout(res.Layout, idx, opts.Version); err != nil {
		return res, err
	}
	subject, err := descriptorOf(idx)
	if err != nil {
		return res, err
	}
	sbom, err := spdx(s, opts, res.Index, sbomBinaries)
	if err != nil {
		return res, fmt.Errorf("SBOM: %w", err)
	}
	if res.SBOM, err = writeReferrer(res.Layout+".sbom", SPDXMediaType, sbom, subject, opts.Created); err != nil {
		return res, err
	}
	if opts.Key != nil {
		raw, err := idx.RawManifest()
		if err != nil {
			return res, err
		}
		bundle, err := signBundle(opts.Key, raw)
		if err != nil {
			return res, fmt.Errorf("sign: %w", err)
		}
		if res.Signature, err = writeReferrer(res.Layout+".sig", BundleMediaType, bundle, subject, opts.Created); err != nil {
			return res, err
		}
	} else if err := os.RemoveAll(res.Layout + ".sig"); err != nil {
		return res, err
	}
	return res, nil
}

// image is one platform's image: the base layer, the programs' layer, and a config
// whose user and entrypoint are what the charts run.
func image(s Spec, p v1.Platform, labels map[string]string, created time.Time, base, app v1.Layer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "promotion-gate images: base (CA certificates, passwd and group)", Comment: "promotion-gate-images"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "promotion-gate images: " + s.Name + " programs", Comment: "promotion-gate-images"}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User:       s.User(),
		Entrypoint: s.Entrypoint,
		Env:        append([]string{"PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}, s.Env...),
		WorkingDir: "/",
		Labels:     labels,
	}
	return mutate.ConfigFile(img, cf)
}

// goBuild builds one static binary for p, as its module's go.mod and go.sum say (not
// the workspace's versions): what a user building that module gets.
func goBuild(ctx context.Context, opts Options, b Binary, p v1.Platform, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(b.Path))
	ldflags := "-s -w"
	if b.Version {
		ldflags += " -X main.version=" + opts.Version
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags="+ldflags, "-o", out, b.Package)
	cmd.Dir = filepath.Join(opts.Root, b.Module)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture, "GOFLAGS=-mod=readonly")
	if p.Variant != "" && p.Architecture == "arm" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	fmt.Fprintf(opts.Log, "go build %s (%s/%s) in %s\n", b.Package, p.OS, p.Architecture, b.Module)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s for %s/%s: %w\n%s", b.Package, b.Module, p.OS, p.Architecture, err, msg)
	}
	return out, nil
}

// writeLayout replaces dir with an OCI layout holding only idx, so that `crane push
// dir ref` pushes exactly the index.
func writeLayout(dir string, idx v1.ImageIndex, version string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write layout %s: %w", dir, err)
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refName: version}))
}

func descriptorOf(idx v1.ImageIndex) (v1.Descriptor, error) {
	raw, err := idx.RawManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := idx.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: d, Size: int64(len(raw))}, nil
}
