// Package images assembles the project's container images without a container engine,
// the way ko does: static Go binaries on a minimal base the build writes itself (CA
// certificates and a passwd entry for the non-root user the charts run as), one OCI image
// index per image over linux/amd64 and linux/arm64, written as an OCI image layout that
// `crane push` publishes. Builds are reproducible: every timestamp is the commit's, so
// building the same commit twice gives the same digests. With a key, each index is
// signed (a Sigstore bundle, keyed, as `cosign sign --key` writes it) and carries an SPDX
// SBOM of its Go modules; both are OCI referrers of the index, each in a layout of its
// own beside the image's.
package images

import "strconv"

// Binary is one Go program built into an image.
type Binary struct {
	// Module is the directory of the Go module, relative to the repository root.
	Module string
	// Package is the package to build, relative to Module or a full import path.
	Package string
	// Path is where the binary goes in the image.
	Path string
	// Version stamps main.version with the build's version.
	Version bool
	// Main marks the image's own program: it answers --version and --help, and its
	// modules make the SBOM.
	Main bool
}

// File is a file of the repository copied into an image.
type File struct {
	// Source is relative to the repository root.
	Source string
	Path   string
}

// Spec describes one image.
type Spec struct {
	// Name names the image, its layout directory and its repository.
	Name  string
	Title string
	// Description is the org.opencontainers.image.description label.
	Description string
	Entrypoint  []string
	// UID and GID are the non-root user the charts run the container as; the image's
	// passwd and group files name it UserName.
	UID, GID int
	UserName string
	Home     string
	Env      []string
	Binaries []Binary
	Files    []File
}

// User is the config's user, "uid:gid".
func (s Spec) User() string { return strconv.Itoa(s.UID) + ":" + strconv.Itoa(s.GID) }

// pluginDir is where flux-gate's --plugin-dir and the sidecar's policies expect the
// first-party plugins.
const pluginDir = "/usr/local/lib/promotion-gate/plugins"

// scanReport is the first-party go-plugin check, shipped in both images.
var scanReport = Binary{Module: "shared", Package: "./cmd/promotion-gate-scan-report", Path: pluginDir + "/promotion-gate-scan-report"}

// FluxGate is the controller image, as charts/flux-gate runs it: uid 65532, the
// binary as entrypoint.
var FluxGate = Spec{
	Name:        "flux-gate",
	Title:       "flux-gate",
	Description: "promotion-gate's Flux controller: holds image-automation pushes on a proposal branch until the promotion policy passes",
	Entrypoint:  []string{"/usr/local/bin/flux-gate"},
	UID:         65532, GID: 65532, UserName: "nonroot", Home: "/home/nonroot",
	Binaries: []Binary{
		{Module: "flux-gate", Package: "./cmd/flux-gate", Path: "/usr/local/bin/flux-gate", Version: true, Main: true},
		scanReport,
	},
}

// ArgoCDPlugin is the config-management-plugin sidecar image, as the argo-cd chart runs
// it with the values of charts/argocd-promotion-gate: uid 999 like the repo-server, and
// Argo CD's own argocd-cmp-server (shared by the repo-server through the var-files
// volume) as entrypoint, which runs argocd-promotion-gate for each render.
var ArgoCDPlugin = Spec{
	Name:        "argocd-promotion-gate",
	Title:       "argocd-promotion-gate",
	Description: "promotion-gate's Argo CD config management plugin sidecar: refuses to render mutable or unsigned images into protected environments",
	Entrypoint:  []string{"/var/run/argocd/argocd-cmp-server"},
	UID:         999, GID: 999, UserName: "argocd", Home: "/home/argocd",
	Env: []string{"HOME=/tmp"},
	Binaries: []Binary{
		{Module: "argocd-plugin", Package: "./cmd/argocd-promotion-gate", Path: "/usr/local/bin/argocd-promotion-gate", Version: true, Main: true},
		// Built against the plugin module's go.sum, so a policy can name it in this image.
		{Module: "argocd-plugin", Package: "github.com/promotion-gate/promotion-gate/shared/cmd/promotion-gate-scan-report", Path: scanReport.Path},
	},
	Files: []File{{Source: "argocd-plugin/plugin.yaml", Path: "/home/argocd/cmp-server/config/plugin.yaml"}},
}

// All are the images `make images` builds.
var All = []Spec{FluxGate, ArgoCDPlugin}
