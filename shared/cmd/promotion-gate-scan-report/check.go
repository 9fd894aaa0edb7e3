package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/promotion-gate/promotion-gate/shared/plugin/sdk"
)

const (
	// sarifType is the artifact type of a SARIF log (what `trivy referrer put` uses).
	sarifType = "application/sarif+json"
	// trivyType is the artifact type this plugin reads a Trivy JSON report under.
	trivyType = "application/vnd.aquasec.trivy.report+json"
	// maxReport bounds the report size read from the registry.
	maxReport = 32 << 20
	// listed is how many vulnerability IDs a finding names before it summarises.
	listed = 5
)

// createdAnnotations say when a referrer was made; the newest report wins.
var createdAnnotations = []string{"org.opencontainers.image.created", "org.opencontainers.artifact.created"}

// params are the plugin's parameters from the policy.
type params struct {
	threshold     severity
	artifactTypes []string
	ignore        map[string]bool
	nameOpts      []name.Option
}

func parseParams(p map[string]string) (params, error) {
	out := params{threshold: high, artifactTypes: []string{sarifType, trivyType}, ignore: map[string]bool{}}
	for k, v := range p {
		switch k {
		case "severity":
			s, err := parseSeverity(v)
			if err != nil {
				return params{}, fmt.Errorf("parameter severity: %w", err)
			}
			out.threshold = s
		case "artifactTypes":
			out.artifactTypes = splitList(v)
			if len(out.artifactTypes) == 0 {
				return params{}, fmt.Errorf("parameter artifactTypes is empty: list the artifact types of the reports, e.g. %s", sarifType)
			}
		case "ignore":
			for _, id := range splitList(v) {
				out.ignore[id] = true
			}
		case "insecure":
			if v == "true" {
				out.nameOpts = append(out.nameOpts, name.Insecure)
			}
		default:
			return params{}, fmt.Errorf("unknown parameter %q: use severity, artifactTypes, ignore or insecure", k)
		}
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checker is the plugin: it finds the image's newest scan report and counts what is at
// or above the threshold.
type checker struct{}

// Check implements sdk.Checker.
func (c *checker) Check(ctx context.Context, req sdk.Request) ([]sdk.Finding, error) {
	p, err := parseParams(req.Parameters)
	if err != nil {
		return nil, err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	subject, err := digest(req, p, opts)
	if err != nil {
		return nil, err
	}
	descs, err := reports(subject, p, opts)
	if err != nil {
		return nil, err
	}
	if len(descs) == 0 {
		return []sdk.Finding{{
			Message: fmt.Sprintf("no scan report (artifact type %s) is attached to %s", strings.Join(p.artifactTypes, " or "), subject),
			Fix:     "scan the image and attach the report as an OCI referrer, e.g. `trivy image -f sarif IMAGE | trivy referrer put --subject IMAGE`",
		}}, nil
	}
	var findings []sdk.Finding
	for _, d := range descs {
		r, err := fetch(subject.Digest(d.Digest.String()), opts)
		if err != nil {
			return nil, err
		}
		if f, bad := judge(r, d.Digest.String(), p); bad {
			findings = append(findings, f)
		}
	}
	return findings, nil
}

// digest is the image's digest reference: the one the request carries, or its tag
// resolved at the registry now.
func digest(req sdk.Request, p params, opts []remote.Option) (name.Digest, error) {
	ref, err := name.ParseReference(req.Image, p.nameOpts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image %q: %w", req.Image, err)
	}
	if req.Digest != "" {
		return ref.Context().Digest(req.Digest), nil
	}
	if d, ok := ref.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("resolve %s at the registry: %w (check network and credentials)", ref, err)
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

// reports lists the referrers of the image that are scan reports, newest only: when
// their creation times are annotated, the newest; otherwise all of them.
func reports(subject name.Digest, p params, opts []remote.Option) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(subject, opts...)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w (check network and credentials)", subject, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read referrers of %s: %w", subject, err)
	}
	var found []v1.Descriptor
	newest := ""
	for _, d := range im.Manifests {
		if !slices.Contains(p.artifactTypes, d.ArtifactType) {
			continue
		}
		found = append(found, d)
		if t := created(d); t > newest {
			newest = t
		}
	}
	if newest == "" {
		return found, nil
	}
	// RFC 3339 times in UTC compare as strings; a report without a time loses.
	return slices.DeleteFunc(found, func(d v1.Descriptor) bool { return created(d) != newest }), nil
}

func created(d v1.Descriptor) string {
	for _, k := range createdAnnotations {
		if t := d.Annotations[k]; t != "" {
			return t
		}
	}
	return ""
}

// fetch reads and parses the report artifact: the first layer that parses.
func fetch(ref name.Digest, opts []remote.Option) (report, error) {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return report{}, fmt.Errorf("fetch scan report %s: %w", ref, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return report{}, fmt.Errorf("fetch scan report %s: %w", ref, err)
	}
	var firstErr error
	for _, l := range layers {
		r, err := readLayer(l)
		if err == nil {
			return r, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("it has no layers")
	}
	return report{}, fmt.Errorf("scan report %s: %w (attach the Trivy JSON or SARIF file as the artifact's layer)", ref, firstErr)
}

func readLayer(l v1.Layer) (report, error) {
	rc, err := l.Compressed()
	if err != nil {
		return report{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxReport+1))
	if err != nil {
		return report{}, err
	}
	if len(b) > maxReport {
		return report{}, fmt.Errorf("report larger than %d bytes", maxReport)
	}
	return parseReport(b)
}
