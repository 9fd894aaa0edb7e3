package images_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
	"github.com/promotion-gate/promotion-gate/test/images"
)

const (
	testVersion  = "v0.0.0-test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testSource   = "https://github.com/promotion-gate/promotion-gate"
)

var root = filepath.Join("..", "..")

// build builds both images for this machine's architecture only (cross-compiling
// arm64 as well doubles the time; `make images` builds both).
func build(t *testing.T, out string, key []byte) []images.Result {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := images.LoadKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := images.Build(context.Background(), images.Options{
		Root: root, Out: out, Platforms: []v1.Platform{images.HostPlatform()},
		Version: testVersion, Revision: testRevision, Source: testSource,
		Created: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Key: k,
	}, images.All...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestImages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the images: not in -short")
	}
	key, keyPEM, err := images.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	results := build(t, out, keyPEM)

	t.Run("reproducible", func(t *testing.T) {
		g := NewWithT(t)
		again := build(t, t.TempDir(), keyPEM)
		for i, r := range results {
			g.Expect(again[i].Index).To(Equal(r.Index), r.Spec.Name)
			g.Expect(again[i].Manifests).To(Equal(r.Manifests), r.Spec.Name)
			g.Expect(again[i].SBOM.Digest).To(Equal(r.SBOM.Digest), r.Spec.Name)
			g.Expect(again[i].Signature.Digest).To(Equal(r.Signature.Digest), r.Spec.Name)
		}
	})

	charts := chartsRun(t)
	for _, r := range results {
		t.Run(r.Spec.Name, func(t *testing.T) { checkLayout(t, r, charts[r.Spec.Name]) })
	}

	t.Run("our own gate passes our own images", func(t *testing.T) { gateOwnImages(t, results, key) })
}

// chartRun is how a chart runs an image.
type chartRun struct {
	uid, gid   int
	entrypoint []string // nil: the chart sets args only, the image's entrypoint runs
}

// chartsRun reads the user and command of each container from the charts.
func chartsRun(t *testing.T) map[string]chartRun {
	t.Helper()
	var values struct {
		PodSecurityContext struct {
			RunAsUser  int `json:"runAsUser"`
			RunAsGroup int `json:"runAsGroup"`
		} `json:"podSecurityContext"`
	}
	data, err := os.ReadFile(filepath.Join(root, "charts", "flux-gate", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	sidecar, err := os.ReadFile(filepath.Join(root, "charts", "argocd-promotion-gate", "templates", "_sidecar.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	uid := regexp.MustCompile(`runAsUser: (\d+)`).FindSubmatch(sidecar)
	command := regexp.MustCompile(`command: \[([^\]]+)\]`).FindSubmatch(sidecar)
	if uid == nil || command == nil {
		t.Fatal("charts/argocd-promotion-gate/templates/_sidecar.tpl: no runAsUser or command")
	}
	sidecarUID, _ := strconv.Atoi(string(uid[1]))
	return map[string]chartRun{
		"flux-gate":             {uid: values.PodSecurityContext.RunAsUser, gid: values.PodSecurityContext.RunAsGroup},
		"argocd-promotion-gate": {uid: sidecarUID, gid: sidecarUID, entrypoint: []string{string(command[1])}},
	}
}

func checkLayout(t *testing.T, r images.Result, chart chartRun) {
	g := NewWithT(t)
	p, err := layout.FromPath(r.Layout)
	g.Expect(err).NotTo(HaveOccurred())
	top, err := p.ImageIndex()
	g.Expect(err).NotTo(HaveOccurred())
	tm, err := top.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tm.Manifests).To(HaveLen(1), "`crane push` needs exactly one entry")
	g.Expect(tm.Manifests[0].Digest).To(Equal(r.Index))
	idx, err := top.ImageIndex(r.Index)
	g.Expect(err).NotTo(HaveOccurred())
	im, err := idx.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(im.Annotations).To(HaveKeyWithValue(images.LabelRevision, testRevision))
	g.Expect(im.Manifests).To(HaveLen(1))
	host := images.HostPlatform()
	g.Expect(im.Manifests[0].Platform.OS).To(Equal(host.OS))
	g.Expect(im.Manifests[0].Platform.Architecture).To(Equal(host.Architecture))

	img, err := idx.Image(im.Manifests[0].Digest)
	g.Expect(err).NotTo(HaveOccurred())
	cf, err := img.ConfigFile()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cf.OS).To(Equal("linux"))
	g.Expect(cf.Architecture).To(Equal(host.Architecture))
	g.Expect(cf.Config.User).To(Equal(strconv.Itoa(chart.uid)+":"+strconv.Itoa(chart.gid)), "the user the chart runs as")
	if chart.entrypoint != nil {
		g.Expect(cf.Config.Entrypoint).To(Equal(chart.entrypoint), "the chart's command")
	}
	g.Expect(cf.Config.Labels).To(Equal(map[string]string{
		images.LabelSource: testSource, images.LabelRevision: testRevision, images.LabelVersion: testVersion,
		images.LabelCreated: "2026-11-30T12:00:00Z", images.LabelTitle: r.Spec.Title, images.LabelDescription: r.Spec.Description,
	}))
	g.Expect(cf.Created.Time.Equal(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))).To(BeTrue())

	files := extract(t, img)
	passwd := string(files["etc/passwd"].data)
	g.Expect(passwd).To(ContainSubstring(":x:" + strconv.Itoa(chart.uid) + ":" + strconv.Itoa(chart.gid) + ":"))
	pool := 0
	for rest := files["etc/ssl/certs/ca-certificates.crt"].data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		_, err := x509.ParseCertificate(b.Bytes)
		g.Expect(err).NotTo(HaveOccurred())
		pool++
	}
	g.Expect(pool).To(BeNumerically(">", 100), "the CA bundle")
	for _, f := range []string{"etc/passwd", "etc/group", "etc/ssl/certs/ca-certificates.crt"} {
		g.Expect(files).To(HaveKey(f))
	}
	g.Expect(files).NotTo(HaveKey("bin/sh"), "no shell")

	// The programs: each is in the image, executable, and the main one runs here.
	for _, b := range r.Spec.Binaries {
		f, ok := files[strings.TrimPrefix(b.Path, "/")]
		g.Expect(ok).To(BeTrue(), "%s in the image", b.Path)
		g.Expect(f.mode & 0o111).NotTo(BeZero())
		if !b.Main {
			continue
		}
		bin := filepath.Join(t.TempDir(), filepath.Base(b.Path))
		g.Expect(os.WriteFile(bin, f.data, 0o755)).To(Succeed())
		version, err := exec.Command(bin, "--version").CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(version))
		g.Expect(strings.TrimSpace(string(version))).To(Equal(filepath.Base(b.Path) + " " + testVersion))
		help, err := exec.Command(bin, "--help").CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), string(help))
		if r.Spec.Name == "flux-gate" {
			// The scan-report plugin is where --plugin-dir looks by default.
			m := regexp.MustCompile(`--plugin-dir string .*\(default "([^"]+)"\)`).FindSubmatch(help)
			g.Expect(m).NotTo(BeNil(), string(help))
			g.Expect(files).To(HaveKey(strings.TrimPrefix(string(m[1]), "/") + "/promotion-gate-scan-report"))
		} else {
			g.Expect(string(help)).To(ContainSubstring("generate"))
			g.Expect(files).To(HaveKey("home/argocd/cmp-server/config/plugin.yaml"))
		}
	}

	// The referrers: an SPDX SBOM of the Go modules, and the signature.
	for _, ref := range []images.Referrer{r.SBOM, r.Signature} {
		art, err := onlyImage(ref.Layout)
		g.Expect(err).NotTo(HaveOccurred())
		m, err := art.Manifest()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(m.ArtifactType).To(Equal(ref.ArtifactType))
		g.Expect(m.Subject).NotTo(BeNil())
		g.Expect(m.Subject.Digest).To(Equal(r.Index))
		if ref.ArtifactType == images.SPDXMediaType {
			layers, err := art.Layers()
			g.Expect(err).NotTo(HaveOccurred())
			rc, err := layers[0].Uncompressed()
			g.Expect(err).NotTo(HaveOccurred())
			var doc struct {
				SPDXVersion string `json:"spdxVersion"`
				Packages    []struct {
					Name string `json:"name"`
				} `json:"packages"`
			}
			g.Expect(json.NewDecoder(rc).Decode(&doc)).To(Succeed())
			g.Expect(doc.SPDXVersion).To(Equal("SPDX-2.3"))
			var names []string
			for _, p := range doc.Packages {
				names = append(names, p.Name)
			}
			g.Expect(names).To(ContainElements(r.Spec.Name, "stdlib", "github.com/promotion-gate/promotion-gate/shared", "github.com/google/go-containerregistry"))
		}
	}
}

type file struct {
	mode int64
	data []byte
}

// extract reads the image's flattened file system.
func extract(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, tr); err != nil {
			t.Fatal(err)
		}
		files[h.Name] = file{mode: h.Mode, data: buf.Bytes()}
	}
}

func onlyImage(dir string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	return idx.Image(m.Manifests[0].Digest)
}

// ownPolicy is a prod policy that our own release would meet: digests, our registry,
// and the release key's signature (no transparency log: the key signs offline).
const ownPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: release}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["clusters/prod/**"]}
  rules:
    - name: prod-digests
      environments: [prod]
      requireDigest: true
      denyTags: [latest]
    - name: prod-signed
      environments: [prod]
      signatures:
        authorities:
          - name: promotion-gate-release
            key: {file: release.pub}
        transparencyLog: ignore
`

// gateOwnImages pushes the images with their referrers to an in-process registry and
// checks a prod manifest that runs them by digest with promotion-gate check.
func gateOwnImages(t *testing.T, results []images.Result, key *ecdsa.PrivateKey) {
	g := NewWithT(t)
	reg := registrytest.New(t)
	cli := filepath.Join(t.TempDir(), "promotion-gate")
	build := exec.Command("go", "build", "-o", cli, "./cmd/promotion-gate")
	build.Dir = filepath.Join(root, "shared")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build promotion-gate: %v\n%s", err, out)
	}
	var pinned, unsigned []string
	for _, r := range results {
		ref, err := name.NewTag(reg.Ref("promotion-gate/"+r.Spec.Name, ":"+testVersion))
		g.Expect(err).NotTo(HaveOccurred())
		d, err := images.Push(context.Background(), r.Layout, ref)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(Equal(r.Index))
		pinned = append(pinned, ref.String()+"@"+d.String())
		// The same index without its referrers, in another repository: unsigned there.
		bare, err := name.NewTag(reg.Ref("mirror/"+r.Spec.Name, ":"+testVersion))
		g.Expect(err).NotTo(HaveOccurred())
		p, err := layout.FromPath(r.Layout)
		g.Expect(err).NotTo(HaveOccurred())
		top, err := p.ImageIndex()
		g.Expect(err).NotTo(HaveOccurred())
		idx, err := top.ImageIndex(r.Index)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(remote.WriteIndex(bare, idx)).To(Succeed())
		unsigned = append(unsigned, bare.String()+"@"+d.String())
	}

	trust, policyDir := t.TempDir(), t.TempDir()
	pub, err := images.PublicKeyPEM(key)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(trust, "release.pub"), pub, 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(policyDir, "release.yaml"), []byte(ownPolicy), 0o644)).To(Succeed())

	tests := []struct {
		name     string
		images   []string
		wantCode int
		want     []string
	}{
		{"pinned and signed: allowed", pinned, 0, []string{"Allowed"}},
		{"by tag: denied", []string{strings.Split(pinned[0], "@")[0]}, 1, []string{"Denied", "prod-digests"}},
		{"the same digests without the signature: denied", unsigned, 1, []string{"Denied", "prod-signed", "is unsigned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			repo := t.TempDir()
			dir := filepath.Join(repo, "clusters", "prod", "promotion-gate")
			g.Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
			g.Expect(os.WriteFile(filepath.Join(dir, "deployment.yaml"), []byte(deployment(tt.images)), 0o644)).To(Succeed())
			cmd := exec.Command(cli, "check", dir, "--repo-root", repo, "--policy", policyDir, "--trust-dir", trust, "--registry-timeout", "5s")
			out, _ := cmd.CombinedOutput()
			g.Expect(cmd.ProcessState.ExitCode()).To(Equal(tt.wantCode), string(out))
			for _, w := range tt.want {
				g.Expect(string(out)).To(ContainSubstring(w))
			}
		})
	}
}

func deployment(imgs []string) string {
	var b strings.Builder
	b.WriteString("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: promotion-gate, namespace: promotion-gate}\nspec:\n  selector: {matchLabels: {app: pg}}\n  template:\n    metadata: {labels: {app: pg}}\n    spec:\n      containers:\n")
	for i, img := range imgs {
		b.WriteString("        - name: c" + strconv.Itoa(i) + "\n          image: " + img + "\n")
	}
	return b.String()
}
