package main

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testRegistry is the in-process go-containerregistry registry on loopback, with the
// OCI referrers API.
type testRegistry struct {
	*httptest.Server
	host string
}

func newRegistry(t *testing.T) *testRegistry {
	t.Helper()
	srv := httptest.NewServer(registry.New(
		registry.WithReferrersSupport(true),
		registry.Logger(log.New(io.Discard, "", 0)),
	))
	t.Cleanup(srv.Close)
	return &testRegistry{Server: srv, host: strings.TrimPrefix(srv.URL, "http://")}
}

// pushImage pushes a random image under repo:tag and returns its digest reference.
func (r *testRegistry) pushImage(t *testing.T, repo, tag string) name.Digest {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(r.host + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}

// attach pushes a report file as an OCI artifact whose subject is the image: one layer
// holding the file, the artifact type as the config media type (which every registry's
// referrers API reports), and a creation time when given.
func attach(t *testing.T, subject name.Digest, artifactType, file, created string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(subject)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(b, types.MediaType(artifactType)))
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(artifactType))
	if created != "" {
		img = mutate.Annotations(img, map[string]string{"org.opencontainers.image.created": created}).(v1.Image)
	}
	img = mutate.Subject(img, *desc).(v1.Image)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(subject.Context().Digest(d.String()), img); err != nil {
		t.Fatalf("attach %s to %s: %v", file, subject, err)
	}
}
