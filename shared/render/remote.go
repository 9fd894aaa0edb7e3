package render

import (
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
)

// kustomizationRef is one path-like entry of a kustomization. local says that the
// entry is always a path when it is not a URL (other entries may be inline YAML).
type kustomizationRef struct {
	field, value string
	local        bool
}

// kustomizationFiles lists every entry of k that kustomize may load from a file, a
// directory or a URL.
func kustomizationFiles(k *types.Kustomization) []kustomizationRef {
	var refs []kustomizationRef
	add := func(field string, local bool, values ...string) {
		for _, v := range values {
			if v != "" {
				refs = append(refs, kustomizationRef{field: field, value: v, local: local})
			}
		}
	}
	add("resources", true, k.Resources...)
	add("bases", true, k.Bases...)
	add("components", true, k.Components...)
	add("crds", true, k.Crds...)
	add("configurations", true, k.Configurations...)
	add("generators", false, k.Generators...)
	add("transformers", false, k.Transformers...)
	add("validators", false, k.Validators...)
	add("openapi", true, k.OpenAPI["path"])
	for _, p := range k.PatchesStrategicMerge {
		add("patchesStrategicMerge", false, string(p))
	}
	for _, p := range k.Patches {
		add("patches", true, p.Path)
	}
	for _, p := range k.PatchesJson6902 {
		add("patchesJson6902", true, p.Path)
	}
	for _, r := range k.Replacements {
		add("replacements", true, r.Path)
	}
	sources := func(field string, s types.KvPairSources) {
		for _, f := range s.FileSources {
			if key, file, ok := strings.Cut(f, "="); ok {
				// key=path, unless the "=" belongs to a URL's query.
				add(field, false, f)
				if !strings.Contains(key, "/") {
					add(field, true, file)
				}
				continue
			}
			add(field, true, f)
		}
		add(field, true, s.EnvSources...)
		add(field, true, s.EnvSource)
	}
	for _, g := range k.ConfigMapGenerator {
		sources("configMapGenerator", g.KvPairSources)
	}
	for _, g := range k.SecretGenerator {
		sources("secretGenerator", g.KvPairSources)
	}
	return refs
}

// scpUser is the user@ of an scp-style git address (git@github.com:org/repo).
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would clone or download ref rather than read
// it from the repository: the URL forms kustomize's git and HTTP loaders accept.
// A local path that merely does not exist is not remote: kustomize says it is missing.
func isRemote(ref string) bool {
	s := strings.ToLower(strings.TrimSpace(ref))
	s = strings.TrimPrefix(s, "git::")
	for _, scheme := range []string{"https://", "http://", "ssh://", "file://"} {
		if strings.HasPrefix(s, scheme) {
			return true
		}
	}
	return strings.HasPrefix(s, "github.com/") || strings.HasPrefix(s, "github.com:") || scpUser.MatchString(s)
}

func kustomizationFileNames() []string {
	return konfig.RecognizedKustomizationFileNames()
}
