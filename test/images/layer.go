package images

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// entry is one file or directory of a layer.
type entry struct {
	path string // absolute, slash-separated
	data []byte
	mode int64
	dir  bool
}

// layer writes the entries as a reproducible tar: sorted, parent directories first,
// owned by root, every time the given one; gzip adds no time of its own.
func layer(entries []entry, created time.Time) (v1.Layer, error) {
	all := map[string]entry{}
	for _, e := range entries {
		for dir := path.Dir(e.path); dir != "/"; dir = path.Dir(dir) {
			if _, ok := all[dir]; !ok {
				all[dir] = entry{path: dir, mode: 0o755, dir: true}
			}
		}
		all[e.path] = e
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := all[n]
		h := &tar.Header{
			Name: strings.TrimPrefix(e.path, "/"), Mode: e.mode, ModTime: created,
			Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX,
		}
		if e.dir {
			h.Name += "/"
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.path, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// baseEntries are the whole base of an image: the CA certificates, and passwd and
// group files naming root and the image's user. No shell, no package manager; /tmp is
// there, empty and world-writable, for a container run without the charts' emptyDir.
func baseEntries(s Spec) ([]entry, error) {
	cas, err := caBundle()
	if err != nil {
		return nil, err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", s.UserName, s.UID, s.GID, s.UserName, s.Home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", s.UserName, s.GID)
	return []entry{
		{path: "/etc/ssl/certs/ca-certificates.crt", data: cas, mode: 0o644},
		{path: "/etc/passwd", data: []byte(passwd), mode: 0o644},
		{path: "/etc/group", data: []byte(group), mode: 0o644},
		{path: "/tmp", mode: 0o1777, dir: true},
	}, nil
}

// caBundle is the Mozilla NSS root store as golang.org/x/crypto/x509roots/fallback
// pins it (a module version in go.sum, so the same bytes on every machine), in PEM.
// Roots with a distrust-after constraint are left out: a PEM file cannot carry it.
func caBundle() ([]byte, error) {
	var out bytes.Buffer
	n := 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		if _, err := x509.ParseCertificate(r.Certificate); err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA bundle: no root certificates")
	}
	return out.Bytes(), nil
}
