package images

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// spdx is the SBOM of an image: an SPDX 2.3 document listing the image and the Go
// modules (and toolchain) linked into its programs, read from their build information.
// Its time and namespace come from the build's inputs, so a rebuild writes the same bytes.
func spdx(s Spec, opts Options, index v1.Hash, binaries []string) ([]byte, error) {
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		SPDXID           string `json:"SPDXID"`
		Name             string `json:"name"`
		Version          string `json:"versionInfo"`
		DownloadLocation string `json:"downloadLocation"`
		FilesAnalyzed    bool   `json:"filesAnalyzed"`
		Purpose          string `json:"primaryPackagePurpose,omitempty"`
		ExternalRefs     []ref  `json:"externalRefs,omitempty"`
	}
	type rel struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	}
	modules := map[string]string{} // path -> version
	for _, b := range binaries {
		info, err := buildinfo.ReadFile(b)
		if err != nil {
			return nil, fmt.Errorf("read build information of %s: %w", b, err)
		}
		modules["stdlib"] = strings.TrimPrefix(info.GoVersion, "go")
		add := func(path, version string) {
			if version == "" || version == "(devel)" {
				version = opts.Version // the project's own modules, built from this commit
			}
			modules[path] = version
		}
		add(info.Main.Path, info.Main.Version)
		for _, d := range info.Deps {
			if d.Replace != nil {
				add(d.Path, d.Replace.Version)
			} else {
				add(d.Path, d.Version)
			}
		}
	}
	image := pkg{
		SPDXID: "SPDXRef-Image", Name: s.Name, Version: opts.Version, DownloadLocation: "NOASSERTION", Purpose: "CONTAINER",
		ExternalRefs: []ref{{"PACKAGE-MANAGER", "purl", fmt.Sprintf("pkg:oci/%s@%s", s.Name, strings.Replace(index.String(), ":", "%3A", 1))}},
	}
	doc := struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages      []pkg `json:"packages"`
		Relationships []rel `json:"relationships"`
	}{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              s.Name + "-" + opts.Version,
		DocumentNamespace: fmt.Sprintf("%s/spdx/%s/%s", strings.TrimSuffix(opts.Source, "/"), s.Name, index.Hex),
		Packages:          []pkg{image},
		Relationships:     []rel{{"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"}},
	}
	doc.CreationInfo.Created = opts.Created.UTC().Format(time.RFC3339)
	doc.CreationInfo.Creators = []string{"Organization: promotion-gate", "Tool: promotion-gate-images"}
	for i, path := range slices.Sorted(maps.Keys(modules)) {
		id := fmt.Sprintf("SPDXRef-Go-%d", i)
		purl := fmt.Sprintf("pkg:golang/%s@%s", path, modules[path])
		if path == "stdlib" {
			purl = "pkg:golang/stdlib@" + modules[path]
		}
		doc.Packages = append(doc.Packages, pkg{SPDXID: id, Name: path, Version: modules[path], DownloadLocation: "NOASSERTION",
			Purpose: "LIBRARY", ExternalRefs: []ref{{"PACKAGE-MANAGER", "purl", purl}}})
		doc.Relationships = append(doc.Relationships, rel{"SPDXRef-Image", "CONTAINS", id})
	}
	return json.MarshalIndent(doc, "", "  ")
}
