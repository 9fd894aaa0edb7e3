package check

import (
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// What a door needs of the engine's parts, named here so that a door imports the
// engine alone: the render settings it sets, and the image and location types the
// engine's outcome carries.

// Image is an image reference found in a document, with where it was found.
type Image = extract.Image

// Source says where an image or a finding was found.
type Source = extract.Source

// RenderOptions bound and cache every render the engine does for a door (MaxMemory,
// Cache); the engine fills in what to render.
type RenderOptions = render.Options

// RenderCache keeps renders by everything they read (render.Cache).
type RenderCache = render.Cache

// DefaultMaxMemory is a render's memory budget when a door sets none.
const DefaultMaxMemory = render.DefaultMaxMemory

// NewRenderCache opens, creating, a private render cache directory bounded to
// maxBytes; warn gets the one warning a cache that cannot be written gives.
func NewRenderCache(dir string, maxBytes int64, warn func(error)) (*RenderCache, error) {
	return render.NewCache(dir, maxBytes, warn)
}

// PrestartRender starts the render worker of the next render now, so that its start
// overlaps what the door does before it renders (render.Prestart): for a door that
// renders once and exits.
func PrestartRender() { render.Prestart() }

// ServeWorker lets this program serve as the engine's render worker: every door calls
// it first thing in main (and every test binary that checks, in TestMain).
func ServeWorker() { render.ServeWorker() }

// KeychainFromDockerConfigs reads registry credentials from docker config.json
// documents, such as the pull secrets of Flux ImageRepositories.
func KeychainFromDockerConfigs(configs ...[]byte) (authn.Keychain, error) {
	return registry.KeychainFromDockerConfigs(configs...)
}
