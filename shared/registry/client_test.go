package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

func newClient(t *testing.T, timeout time.Duration) *registry.Client {
	t.Helper()
	c, err := registry.New(registry.Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolve(t *testing.T) {
	g := NewWithT(t)
	reg := registrytest.New(t)
	img := reg.PushImage(t, "app", "1.0")
	c := newClient(t, 0)
	g.Expect(c.Timeout()).To(Equal(registry.DefaultTimeout))

	reg.ResetCounts()
	d, err := c.Resolve(context.Background(), img.DigestRef())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.DigestStr()).To(Equal(img.Digest))
	g.Expect(reg.Requests()).To(Equal(0), "a digest reference needs no request")

	d, err = c.Resolve(context.Background(), img.TagRef())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.DigestStr()).To(Equal(img.Digest))

	moved := reg.PushImage(t, "app", "1.0")
	d, err = c.Resolve(context.Background(), img.TagRef())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.DigestStr()).To(Equal(moved.Digest), "a tag is resolved again every time")

	_, err = c.Resolve(context.Background(), reg.Ref("app", ":missing"))
	g.Expect(err).To(MatchError(And(ContainSubstring("resolve the tag of image "+reg.Ref("app", ":missing")), ContainSubstring("check the image reference"))))
}

func TestReferrersAndArtifacts(t *testing.T) {
	for _, opts := range [][]registrytest.Option{nil, {registrytest.WithoutReferrersAPI()}} {
		g := NewWithT(t)
		reg := registrytest.New(t, opts...)
		img := reg.PushImage(t, "app", "1.0")
		c := newClient(t, 0)
		d := img.Name()

		descs, err := c.Referrers(context.Background(), d, "")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(descs).To(BeEmpty())

		digest := reg.PushBundle(t, img, []byte(`{"mediaType":"x"}`))
		descs, err = c.Referrers(context.Background(), d, "")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(descs).To(HaveLen(1))
		g.Expect(descs[0].Digest.String()).To(Equal(digest))

		art, err := c.Artifact(context.Background(), d.Context().Digest(digest))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(art.ArtifactType).To(Equal(registrytest.BundleMediaType))
		g.Expect(art.Layers).To(HaveLen(1))
		g.Expect(string(art.Layers[0].Data)).To(Equal(`{"mediaType":"x"}`))

		legacy, err := c.LegacyArtifact(context.Background(), d, "sig")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(legacy).To(BeNil(), "no legacy tag is not an error")

		reg.PushLegacy(t, img, "sig", registrytest.LegacyLayer{MediaType: registrytest.SimpleSigningMediaType, Data: []byte("{}"),
			Annotations: map[string]string{registrytest.AnnotationSignature: "c2ln"}})
		legacy, err = c.LegacyArtifact(context.Background(), d, "sig")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(legacy.Layers).To(HaveLen(1))
		g.Expect(legacy.Layers[0].Annotations).To(HaveKeyWithValue(registrytest.AnnotationSignature, "c2ln"))
	}
}

func TestErrorsNameImageAndFix(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		g := NewWithT(t)
		reg := registrytest.New(t)
		img := reg.PushImage(t, "app", "1.0")
		reg.Close()
		_, err := newClient(t, time.Second).Resolve(context.Background(), img.TagRef())
		g.Expect(err).To(MatchError(And(ContainSubstring(img.TagRef()), ContainSubstring("cannot connect to registry "+reg.Host), ContainSubstring("reachable from here"))))
	})
	t.Run("slow", func(t *testing.T) {
		g := NewWithT(t)
		reg := registrytest.New(t)
		img := reg.PushImage(t, "app", "1.0")
		reg.SetDelay(10 * time.Second)
		d, err := name.NewDigest(img.DigestRef())
		g.Expect(err).NotTo(HaveOccurred())
		_, err = newClient(t, 100*time.Millisecond).Referrers(context.Background(), d, "")
		g.Expect(err).To(MatchError(And(ContainSubstring(img.DigestRef()), ContainSubstring("did not answer within 100ms"),
			ContainSubstring("reachable"))))
	})
}
