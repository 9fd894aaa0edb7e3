package evaluate_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// digest is a well-formed sha256 digest for test references.
const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// day is a fixed evaluation time: exemptions in tests expire around it.
var day = time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)

// mustPolicy parses a policy whose spec is the given YAML (indented by four spaces
// under spec:), with a protected prod and an unprotected dev environment.
func mustPolicy(t testing.TB, spec string) *policy.Set {
	t.Helper()
	doc := `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: test
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
    - name: dev
      match: {paths: ["dev/**"]}
` + spec
	set, err := policy.Parse(policy.Source{Name: "policy/test.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatalf("parse test policy: %v\n%s", err, doc)
	}
	return set
}

// image builds an extracted image the way the extractor does: parsed, or with
// ParseError set.
func image(raw, file string, doc int, container string) extract.Image {
	img := extract.Image{
		Raw: raw,
		Source: extract.Source{
			File: file, Document: doc, APIVersion: "apps/v1", Kind: "Deployment",
			Namespace: "payments", Name: "payments-api", Container: container,
			FieldPath: "spec.template.spec.containers[" + strings.TrimPrefix(container, "c") + "].image",
		},
	}
	ref, err := imageref.Parse(raw)
	if err != nil {
		img.ParseError = err.Error()
		return img
	}
	img.Ref = &ref
	return img
}

// images builds one image per reference, each in its own container of one document.
func images(raws ...string) []extract.Image {
	out := make([]extract.Image, len(raws))
	for i, raw := range raws {
		out[i] = image(raw, "prod/deployment.yaml", 0, "c"+strconv.Itoa(i))
	}
	return out
}

var (
	prod = policy.Classification{Environment: "prod", Protected: true, MatchedBy: []string{"path prod/**"}}
	dev  = policy.Classification{Environment: "dev", MatchedBy: []string{"path dev/**"}}
)
