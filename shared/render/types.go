// Package render turns an application path into Kubernetes documents: a kustomization
// through kustomize's krusty, a Helm chart through the Helm SDK, or plain YAML files.
// Every input is bounded and confined to the repository root.
//
// The choices, in one place:
//
//   - Detection: a kustomization file (kustomization.yaml, kustomization.yml,
//     Kustomization) makes a kustomize application, else Chart.yaml a Helm chart, else
//     the directory's *.yaml, *.yml and *.json files are read, not its subdirectories
//     (Argo CD's directory source default), in name order.
//   - Offline: a remote kustomize base, resource or component, kustomize helmCharts, an
//     unvendored Helm dependency and a values file URL are refused with ErrRemote and
//     the fix; nothing is cloned or downloaded.
//   - Confined: every path, symlinks resolved, must stay under Options.RepoRoot;
//     kustomize may read any file of the repository (../../base files included), which
//     is kustomize's LoadRestrictionsRootOnly with the repository as the root.
//   - Bounded: Limits apply to every file read, to alias expansion before any parser
//     expands aliases, and to the output. Errors wrap ErrLimit.
//   - Helm is rendered like `helm template --include-crds`: CRDs, manifests in install
//     order, then hooks (they run in the cluster too); NOTES.txt is dropped;
//     values.schema.json is not validated (its $refs could reach the network).
//   - Documents: empty, comments-only and non-mapping documents are skipped; aliases
//     and merge keys are expanded; duplicate keys are refused. Document.File is the
//     repository-relative file: the YAML file, the chart template, or — kustomize keeps
//     no source per resource — the kustomization's directory.
//   - What is checked is what is deployed: Result.YAML is written from the same nodes
//     as Result.Documents.
package render

import (
	"errors"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Document is one rendered Kubernetes document.
type Document struct {
	// File is the repository-relative source file when known, else the application path.
	File string
	// Index is the zero-based position of the document in the rendered stream.
	Index int
	// Node is the document's root mapping node.
	Node *yaml.Node
	// Origin says where the resource was written (kustomize) or which values files
	// rendered it (Helm); nil for plain YAML.
	Origin *Origin
}

// Renderer names, as reported in Result.Renderer.
const (
	RendererKustomize = "kustomize"
	RendererHelm      = "helm"
	RendererYAML      = "yaml"
)

// Options says what to render and within which bounds.
type Options struct {
	// Path is the application directory. A kustomization file, Chart.yaml or plain
	// YAML file given instead is rendered as its directory (or as that one file).
	Path string
	// RepoRoot is the confinement root; "" means Path. Nothing outside it is read:
	// symlinks and values files that escape it are refused.
	RepoRoot string
	// ValuesFiles are Helm values files, merged in order (later wins), relative to
	// Path, or to RepoRoot when they start with "/".
	ValuesFiles []string
	// ReleaseName is the Helm release name; "" means "release-name", as helm template.
	ReleaseName string
	// Namespace is the Helm release namespace; "" means "default", as helm template.
	Namespace string
	// KubeVersion is the Kubernetes version templates see (.Capabilities.KubeVersion);
	// "" means the Helm SDK default.
	KubeVersion string
	// APIVersions are extra API versions for .Capabilities.APIVersions.
	APIVersions []string
	// Limits bound the work; a zero field takes its DefaultLimits value.
	Limits Limits
	// MaxMemory is the memory budget of the render in bytes; 0 means DefaultMaxMemory.
	MaxMemory int64
	// Origins asks kustomize where each resource and image was set (Document.Origin),
	// so that findings name the file to edit. It costs a large kustomization several
	// times its time and memory; the output is the same with or without it.
	Origins bool
	// InProcess renders in this process instead of a sandboxed child process (see
	// Sandbox). It is for tests and benchmarks of the renderers themselves: in-process
	// renders have no memory budget, and the network is not cut off by construction.
	InProcess bool
	// Stats, when set, receives what the render cost.
	Stats *Stats `json:"-"`
	// Cache, when set, serves a render whose inputs have not changed and keeps each
	// successful render (see Cache).
	Cache *Cache `json:"-"`
}

// Stats is what one render cost, as the operating system measured it.
type Stats struct {
	// PeakRSS is the sandboxed render's peak resident memory in bytes; 0 in process
	// and for a render served from the cache.
	PeakRSS int64
	// CacheHit says the render was served from Options.Cache.
	CacheHit bool
}

// Limits bound what a render reads and produces, so that a hostile repository cannot
// exhaust the memory or time of the controller or the Argo CD sidecar.
type Limits struct {
	// MaxFileBytes caps the size of each input file (and of each rendered Helm template).
	MaxFileBytes int64
	// MaxTotalBytes caps the bytes read from all input files together, and the size
	// of the rendered output.
	MaxTotalBytes int64
	// MaxDocuments caps the number of documents in a file and in the rendered output.
	MaxDocuments int
	// MaxAliases caps YAML alias expansion per file: the number of nodes that all
	// aliases of a file stand for once expanded. A "billion laughs" file has few
	// aliases but expands to billions of nodes; this counts the expansion without
	// doing it.
	MaxAliases int
}

// DefaultLimits are generous for real repositories and small enough to keep a render
// within a sidecar's memory: 5 MiB per file, 64 MiB in total, 10,000 documents,
// 100,000 nodes of alias expansion per file.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:  5 << 20,
		MaxTotalBytes: 64 << 20,
		MaxDocuments:  10000,
		MaxAliases:    100000,
	}
}

// withDefaults fills every zero field from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = d.MaxDocuments
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = d.MaxAliases
	}
	return l
}

// Result is a rendered application.
type Result struct {
	// Renderer is "kustomize", "helm" or "yaml".
	Renderer string
	// Documents are the rendered documents, in stream order: Documents[i] is the
	// i-th document of YAML.
	Documents []Document
	// YAML is the stream Argo CD gets. Documents are parsed back from exactly these
	// bytes, so that what is evaluated is what is deployed.
	YAML []byte
	// Inputs is everything the render depended on: each file it read, each directory
	// it listed and each path it probed and found missing, repository-relative and
	// sorted. A render's environment is classified by them, and they key the render
	// cache.
	Inputs []Input
}

// InputKind says how a render depended on a path.
type InputKind int

// Input kinds, weakest first: a file read outranks a listing of the same path, which
// outranks a probe.
const (
	// InputMissing is a path the render looked for and did not find.
	InputMissing InputKind = iota + 1
	// InputLink is a path the render reached through a symlink; Sum is the
	// repository-relative path it resolved to.
	InputLink
	// InputDir is a directory whose listing the render read.
	InputDir
	// InputLoaded is a file loaded with a Helm chart that no template reads: a chart
	// file only reachable through .Files, when no template uses .Files or tpl (such as
	// a values-prod.yaml the application does not select). It counts for the render
	// cache, not for classification.
	InputLoaded
	// InputFile is a file whose bytes the render read.
	InputFile
)

// String names the kind.
func (k InputKind) String() string {
	switch k {
	case InputMissing:
		return "missing"
	case InputLink:
		return "link"
	case InputDir:
		return "dir"
	case InputLoaded:
		return "loaded"
	case InputFile:
		return "file"
	}
	return "unknown"
}

// Input is one path a render depended on.
type Input struct {
	// Path is repository-relative and slash-separated; "." is the root.
	Path string
	Kind InputKind
	// Sum is what the render saw there, taken when it read it: the sha256 of a file's
	// bytes or of a directory's listing, a link's resolved path, "" for a missing path.
	Sum string
}

// Files returns the paths of the files among inputs that the render read, in order.
func Files(inputs []Input) []string {
	var out []string
	for _, in := range inputs {
		if in.Kind == InputFile {
			out = append(out, in.Path)
		}
	}
	return out
}

// ErrLimit is wrapped by every error about an input or output over one of the Limits.
var ErrLimit = errors.New("render limit exceeded")

// ErrOutsideRoot is wrapped by every error about a path or symlink that leaves the
// repository root.
var ErrOutsideRoot = errors.New("outside the repository root")

// ErrMemory is wrapped by the error of a render that needed more than its memory
// budget (Options.MaxMemory).
var ErrMemory = errors.New("render memory budget exceeded")

// ErrRemote is wrapped by every error about an input that would need the network
// (a remote kustomize base or resource, an unvendored Helm dependency).
var ErrRemote = errors.New("remote input needs the network")
