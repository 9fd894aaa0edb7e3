package profile

import (
	"fmt"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const (
	fixProvenance = "Attach SLSA provenance (https://slsa.dev/provenance/v1, or v0.2) written by the " +
		"image's builder, signed by an authority the rule allows"
	fixBuilder = "Promote an image built by a builder matching slsaProvenance.builderID, or add this " +
		"builder to the policy if it is trusted"
	fixRepository = "Promote an image built from a repository matching slsaProvenance.sourceRepository, " +
		"or correct the policy if this repository is trusted"
	fixRef = "Promote an image built from a ref matching slsaProvenance.sourceRef (for example a " +
		"release tag), or correct the policy"
)

// SLSA checks a SLSA provenance predicate, v1 or v0.2 (told apart by their fields),
// against the rule's slsaProvenance globs. An empty glob checks nothing. The contract
// gives no error return, so a predicate that is not a provenance document at all is a
// violation too: a signed statement that says nothing readable proves nothing.
func SLSA(predicate []byte, want policy.SLSAProvenance) []evaluate.Violation {
	p, err := decodeTree(predicate)
	if err != nil {
		return []evaluate.Violation{violation(fixProvenance, "provenance predicate is not JSON: %v", err)}
	}
	var prov provenance
	switch {
	case has(p, "buildDefinition") || has(p, "runDetails"):
		prov = provenanceV1(p)
	case has(p, "builder") || has(p, "invocation") || has(p, "materials"):
		prov = provenanceV02(p)
	default:
		return []evaluate.Violation{violation(fixProvenance,
			"predicate is not SLSA provenance: it has neither buildDefinition/runDetails (v1) nor builder/invocation (v0.2)")}
	}
	return prov.check(want)
}

// provenance is what the profile reads from either version.
type provenance struct {
	builder     string
	builderPath string
	// sources in order of preference: what the build was asked to build (external
	// parameters, config source) before what it happened to fetch (dependencies).
	sources []source
	// lookedIn names where sources are searched, for "names no source" messages.
	lookedIn string
}

// source is one place a provenance names the code it was built from.
type source struct {
	repo, ref string
	from      string // field path, for messages
}

func provenanceV1(p any) provenance {
	ext := field(p, "buildDefinition", "externalParameters")
	const extPath = "buildDefinition.externalParameters"
	var srcs []source
	// GitHub Actions workflow build type, and Google Cloud Build's config source.
	for _, key := range []string{"workflow", "buildConfigSource"} {
		repo, _ := str(ext, key, "repository")
		ref, _ := str(ext, key, "ref")
		srcs = append(srcs, gitSource(repo, ref, extPath+"."+key))
	}
	// A "source" given as a git URI string, or as an object.
	if uri, ok := str(ext, "source"); ok {
		srcs = append(srcs, gitSource(uri, "", extPath+".source"))
	} else if src, ok := field(ext, "source").(map[string]any); ok {
		ref, _ := str(src, "ref")
		srcs = append(srcs, gitSource(firstString(src, "uri", "repository", "url"), ref, extPath+".source"))
	}
	repo, _ := str(ext, "repository")
	ref, _ := str(ext, "ref")
	srcs = append(srcs, gitSource(repo, ref, extPath))
	srcs = append(srcs, gitDependencies(field(p, "buildDefinition", "resolvedDependencies"),
		"buildDefinition.resolvedDependencies")...)
	builder, _ := str(p, "runDetails", "builder", "id")
	return provenance{
		builder: builder, builderPath: "runDetails.builder.id", sources: srcs,
		lookedIn: extPath + " and buildDefinition.resolvedDependencies",
	}
}

func provenanceV02(p any) provenance {
	uri, _ := str(p, "invocation", "configSource", "uri")
	srcs := []source{gitSource(uri, "", "invocation.configSource.uri")}
	srcs = append(srcs, gitDependencies(field(p, "materials"), "materials")...)
	builder, _ := str(p, "builder", "id")
	return provenance{
		builder: builder, builderPath: "builder.id", sources: srcs,
		lookedIn: "invocation.configSource and materials",
	}
}

// gitDependencies returns the resource descriptors that name a git repository: a
// "git+" URI, or a digest by git commit.
func gitDependencies(deps any, path string) []source {
	list, _ := deps.([]any)
	var out []source
	for i, d := range list {
		uri, _ := str(d, "uri")
		_, commit := str(d, "digest", "gitCommit")
		_, sha1 := str(d, "digest", "sha1")
		if hasPrefixFold(uri, "git+") || (uri != "" && (commit || sha1)) {
			out = append(out, gitSource(uri, "", fmt.Sprintf("%s[%d].uri", path, i)))
		}
	}
	return out
}

func (p provenance) check(want policy.SLSAProvenance) []evaluate.Violation {
	var out []evaluate.Violation
	if want.BuilderID != "" {
		switch {
		case p.builder == "":
			out = append(out, violation(fixProvenance, "provenance names no builder (%s)", p.builderPath))
		case !matchGlob(want.BuilderID, p.builder):
			out = append(out, violation(fixBuilder, "builder %s", mismatch(p.builder, want.BuilderID)))
		}
	}
	repo, ref := p.source()
	if want.SourceRepository != "" {
		switch {
		case repo.repo == "":
			out = append(out, violation(fixProvenance, "provenance names no source repository (looked in %s)", p.lookedIn))
		case !matchGlob(want.SourceRepository, repo.repo):
			out = append(out, violation(fixRepository, "source repository %s (from %s)",
				mismatch(repo.repo, want.SourceRepository), repo.from))
		}
	}
	if want.SourceRef != "" {
		switch {
		case ref.ref == "":
			out = append(out, violation(fixProvenance, "provenance names no source ref (looked in %s)", p.lookedIn))
		case !matchGlob(want.SourceRef, ref.ref):
			out = append(out, violation(fixRef, "source ref %s (from %s)", mismatch(ref.ref, want.SourceRef), ref.from))
		}
	}
	return out
}

// source picks the repository from the most preferred source that names one, and the
// ref from the same source or, when it gives none, from another source of the same
// repository (GitLab names the repository in its parameters and the ref in its dependencies).
func (p provenance) source() (repo, ref source) {
	for _, s := range p.sources {
		if s.repo != "" {
			repo = s
			break
		}
	}
	if repo.ref != "" {
		return repo, repo
	}
	for _, s := range p.sources {
		if s.ref != "" && (s.repo == "" || s.repo == repo.repo || repo.repo == "") {
			return repo, s
		}
	}
	return repo, source{}
}
