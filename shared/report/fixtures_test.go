package report_test

import (
	"errors"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

const (
	digest   = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	revision = "sha256:9f1c0d5e8a7b6c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
	prodDir  = "apps/payments-api/overlays/prod"
)

func ref(registry, repository, tag, dg string) *imageref.Ref {
	r := &imageref.Ref{Registry: registry, Repository: repository, Tag: tag, Digest: dg}
	r.Original = registry + "/" + repository
	if tag != "" {
		r.Original += ":" + tag
	}
	if dg != "" {
		r.Original += "@" + dg
	}
	return r
}

func workload(file string, line int, kind, name, container, fieldPath string) extract.Source {
	return extract.Source{
		File: file, Line: line, APIVersion: "apps/v1", Kind: kind, Namespace: "payments", Name: name,
		Container: container, FieldPath: fieldPath,
	}
}

// fixture builds the results the golden files show: a denied prod overlay with an
// unparsable image, an exemption and an expired-exemption notice; a warned dev
// HelmRelease; an allowed staging overlay; and a render failure in prod.
func fixture() []report.Target {
	apiSrc := workload(prodDir+"/deployment.yaml", 21, "Deployment", "payments-api", "api",
		"spec.template.spec.containers[0].image")
	migrateSrc := workload(prodDir+"/deployment.yaml", 30, "Deployment", "payments-api", "migrate",
		"spec.template.spec.initContainers[0].image")
	proxySrc := workload(prodDir+"/deployment.yaml", 0, "Deployment", "payments-api", "proxy",
		"spec.template.spec.containers[1].image")
	batchSrc := workload(prodDir+"/cronjob.yaml", 9, "CronJob", "legacy-batch", "batch",
		"spec.jobTemplate.spec.template.spec.containers[0].image")
	batchSrc.APIVersion = "batch/v1"
	batchSrc.Document = 1

	prod := evaluate.Result{
		Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: revision,
		Findings: []evaluate.Finding{
			{
				Rule: "prod-immutable-images", Check: "requireDigest", Enforcement: policy.Deny,
				Image: "ghcr.io/example/payments-api:1.8.3", Source: apiSrc,
				Message: `not pinned by digest: tag "1.8.3" can be moved to other content`,
				Fix:     "pin the image by digest: ghcr.io/example/payments-api:1.8.3@sha256:<digest> (crane digest ghcr.io/example/payments-api:1.8.3)",
			},
			{
				Rule: evaluate.RuleValidImageReference, Check: "validImageReference", Enforcement: policy.Deny,
				Image: "ghcr.io/example/proxy|v2", Source: proxySrc,
				Message: "not a valid image reference: could not parse reference: ghcr.io/example/proxy|v2",
				Fix:     "write a reference the runtime can pull: [registry/]repository[:tag][@sha256:<digest>]",
			},
			{
				Rule: "prod-immutable-images", Check: "denyTags", Enforcement: policy.Deny,
				Image: "ghcr.io/example/payments-api:latest", Source: migrateSrc,
				Message: `tag "latest" is denied (denyTags "latest")`,
				Fix:     `use a release tag instead of "latest": ghcr.io/example/payments-api:<version>`,
			},
		},
		Exempted: []evaluate.Finding{{
			Rule: "prod-immutable-images", Check: "requireDigest", Enforcement: policy.Deny,
			Image: "ghcr.io/example/legacy-batch:7", Source: batchSrc,
			Message:   `not pinned by digest: tag "7" can be moved to other content`,
			Fix:       "pin the image by digest: ghcr.io/example/legacy-batch:7@sha256:<digest> (crane digest ghcr.io/example/legacy-batch:7)",
			Exemption: &evaluate.ExemptionUse{Reason: "vendor image, digest pinning tracked in PLAT-123", Owner: "team-batch", Expires: "2027-01-31", Images: "ghcr.io/example/legacy-batch:*"},
		}},
		Notices: []string{"exemption for rule prod-immutable-images on images ghcr.io/example/old:* expired on 2026-12-31 (owner team-web); ignored"},
		Images: []extract.Image{
			{Raw: "ghcr.io/example/payments-api:1.8.3", Ref: ref("ghcr.io", "example/payments-api", "1.8.3", ""), Source: apiSrc},
			{Raw: "ghcr.io/example/payments-api:latest", Ref: ref("ghcr.io", "example/payments-api", "latest", ""), Source: migrateSrc},
			{Raw: "ghcr.io/example/proxy|v2", ParseError: "could not parse reference: ghcr.io/example/proxy|v2", Source: proxySrc},
			{Raw: "ghcr.io/example/legacy-batch:7", Ref: ref("ghcr.io", "example/legacy-batch", "7", ""), Source: batchSrc},
		},
	}

	helmSrc := extract.Source{
		File: "clusters/dev/payments-api.yaml", Line: 12, APIVersion: "helm.toolkit.fluxcd.io/v2",
		Kind: "HelmRelease", Namespace: "flux-system", Name: "payments-api", FieldPath: "spec.values.image",
	}
	dev := evaluate.Result{
		Verdict: evaluate.Warned, Environment: "dev", PolicyRevision: revision,
		Findings: []evaluate.Finding{{
			Rule: "approved-registry", Check: "allowedRegistries", Enforcement: policy.Warn,
			Image: "docker.io/example/payments-api:main", Source: helmSrc,
			Message: "repository index.docker.io/example/payments-api is not in an allowed registry (allowed: ghcr.io/example/**)",
			Fix:     "copy the image to an allowed registry (ghcr.io/example/**) and reference it from there",
		}},
		Images: []extract.Image{{
			Raw: "docker.io/example/payments-api:main", Ref: ref("index.docker.io", "example/payments-api", "main", ""), Source: helmSrc,
		}},
	}

	stagingSrc := workload("apps/payments-api/overlays/staging/deployment.yaml", 21, "Deployment", "payments-api", "api",
		"spec.template.spec.containers[0].image")
	staging := evaluate.Result{
		Verdict: evaluate.Allowed, Environment: "staging", PolicyRevision: revision,
		Images: []extract.Image{{
			Raw:    "ghcr.io/example/payments-api:1.8.3@" + digest,
			Ref:    ref("ghcr.io", "example/payments-api", "1.8.3", digest),
			Source: stagingSrc,
		}},
	}

	broken := evaluate.Failure(policy.Classification{Environment: "prod", Protected: true}, revision,
		errors.New("render apps/broken/overlays/prod: kustomization.yaml: resource deployment.yaml: file not found; add the file or remove it from resources"))

	return []report.Target{
		{Path: prodDir, Result: prod},
		{Path: "clusters/dev", Result: dev},
		{Path: "apps/payments-api/overlays/staging", Result: staging},
		{Path: "apps/broken/overlays/prod", Result: broken},
	}
}
