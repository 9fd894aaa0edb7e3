package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// RolledBackRule is the rule an exemption names to release a rolled-back digest. It
// is not a rule of the policy: flux-gate holds a digest a person rolled back on the
// target branch (docs/flux.md), and the platform team, who owns the policy, may let it
// through again here as well as with an annotation on the gate. No document may
// define a rule of this name.
const RolledBackRule = "rolled-back"

// pinnedImage is an image glob of a rolled-back exemption: anything, then exactly
// one digest. A release names digests, so that it never lets a tag through wholesale.
var pinnedImage = regexp.MustCompile(`@(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// validateRolledBackExemption checks the images of an exemption from RolledBackRule:
// each ends with the digest it releases.
func validateRolledBackExemption(fail func(path, format string, args ...any) error, p string, x Exemption) error {
	for j, img := range x.Images {
		if !pinnedImage.MatchString(img) {
			return fail(fmt.Sprintf("%s.images[%d]", p, j),
				"%q names no digest; an exemption from %s releases rolled-back digests: end each image with @sha256:<digest>, e.g. ghcr.io/example/payments-api@sha256:…",
				img, RolledBackRule)
		}
	}
	return nil
}

// RolledBackRelease returns the live exemption from RolledBackRule that releases
// digest of image ref (a reference as written, with or without tag and digest): one
// of its images is a glob, then "@" and the digest, whose glob matches the reference's
// repository, or its repository and tag ("**@sha256:…" releases the digest in any
// image).
func (s *Set) RolledBackRelease(ref, digest string, now time.Time) (Exemption, bool) {
	repo, tag := splitReference(ref)
	names := []string{repo}
	if tag != "" {
		names = append(names, repo+":"+tag)
	}
	for _, ex := range s.ExemptionsFor(RolledBackRule) {
		if ex.Expired(now) {
			continue
		}
		for _, img := range ex.Images {
			i := strings.LastIndex(img, "@")
			if i < 0 || img[i+1:] != digest {
				continue
			}
			for _, n := range names {
				if MatchImage(img[:i], n) {
					return ex, true
				}
			}
		}
	}
	return Exemption{}, false
}

// splitReference splits "repo:tag@digest" into its repository and tag.
func splitReference(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}
