package evaluate_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const baseline = `  rules:
    - name: prod-immutable-images
      environments: [prod]
      requireDigest: true
      denyTags: ["latest"]
    - name: approved-registry
      enforcement: warn
      allowedRegistries: ["ghcr.io/example/**"]
  exemptions:
    - rule: prod-immutable-images
      images: ["ghcr.io/example/legacy-batch:*"]
      reason: "vendor image, digest pinning tracked in PLAT-123"
      owner: team-batch
      expires: "2027-01-31"
    - rule: prod-immutable-images
      images: ["nginx:*", "ghcr.io/example/old:*"]
      reason: "old exemption"
      owner: team-web
      expires: "2026-12-31"
    - rule: approved-registry
      images: ["quay.io/vendor/**"]
      reason: "vendor registry under review"
      owner: platform
`

// TestVerdicts covers enforcement by environment, rule scoping, exemptions and notices.
func TestVerdicts(t *testing.T) {
	pinned := "ghcr.io/example/payments-api:1.8.3@" + digest
	tests := []struct {
		name         string
		env          policy.Classification
		now          time.Time
		images       []string
		wantVerdict  evaluate.Verdict
		wantFindings []string
		wantEnforce  []policy.Enforcement
		wantExempted []string
		wantNotices  []string
	}{
		{
			name: "pinned image from the approved registry is allowed", env: prod,
			images: []string{pinned}, wantVerdict: evaluate.Allowed,
		},
		{
			name: "deny rule denies in a protected environment", env: prod,
			images:       []string{"ghcr.io/example/payments-api:1.8.3"},
			wantVerdict:  evaluate.Denied,
			wantFindings: []string{"ghcr.io/example/payments-api:1.8.3 prod-immutable-images/requireDigest"},
			wantEnforce:  []policy.Enforcement{policy.Deny},
		},
		{
			name: "warn rule only warns in a protected environment", env: prod,
			images:       []string{"quay.io/other/app:1@" + digest},
			wantVerdict:  evaluate.Warned,
			wantFindings: []string{"quay.io/other/app:1@" + digest + " approved-registry/allowedRegistries"},
			wantEnforce:  []policy.Enforcement{policy.Warn},
		},
		{
			name: "rules scoped to prod do not apply in dev; unprotected only warns", env: dev,
			images:       []string{"quay.io/other/app:latest"},
			wantVerdict:  evaluate.Warned,
			wantFindings: []string{"quay.io/other/app:latest approved-registry/allowedRegistries"},
			wantEnforce:  []policy.Enforcement{policy.Warn},
		},
		{
			name: "unclassified target gets only the rules for every environment, and warns", env: policy.Classification{},
			images:       []string{"ghcr.io/example/app:latest", "quay.io/x/app:latest"},
			wantVerdict:  evaluate.Warned,
			wantFindings: []string{"quay.io/x/app:latest approved-registry/allowedRegistries"},
			wantEnforce:  []policy.Enforcement{policy.Warn},
		},
		{
			name: "live exemption moves the finding to exempted", env: prod, now: day,
			images:       []string{"ghcr.io/example/legacy-batch:7"},
			wantVerdict:  evaluate.Allowed,
			wantExempted: []string{"ghcr.io/example/legacy-batch:7 prod-immutable-images/requireDigest"},
		},
		{
			name: "exemption lasts to the end of its day, UTC", env: prod,
			now:          time.Date(2027, 1, 31, 23, 59, 0, 0, time.UTC),
			images:       []string{"ghcr.io/example/legacy-batch:7"},
			wantVerdict:  evaluate.Allowed,
			wantExempted: []string{"ghcr.io/example/legacy-batch:7 prod-immutable-images/requireDigest"},
		},
		{
			name: "expired exemption is ignored and noted", env: prod,
			now:          time.Date(2027, 2, 1, 0, 0, 1, 0, time.UTC),
			images:       []string{"ghcr.io/example/legacy-batch:7"},
			wantVerdict:  evaluate.Denied,
			wantFindings: []string{"ghcr.io/example/legacy-batch:7 prod-immutable-images/requireDigest"},
			wantEnforce:  []policy.Enforcement{policy.Deny},
			wantNotices: []string{"exemption for rule prod-immutable-images on images ghcr.io/example/legacy-batch:* " +
				"expired on 2027-01-31 (owner team-batch); ignored"},
		},
		{
			name: "expired exemption matched through a familiar spelling, noted once", env: prod, now: day,
			images:      []string{"docker.io/library/nginx:latest", "nginx:latest"},
			wantVerdict: evaluate.Denied,
			wantFindings: []string{
				"docker.io/library/nginx:latest approved-registry/allowedRegistries",
				"docker.io/library/nginx:latest prod-immutable-images/denyTags",
				"docker.io/library/nginx:latest prod-immutable-images/requireDigest",
				"nginx:latest approved-registry/allowedRegistries",
				"nginx:latest prod-immutable-images/denyTags",
				"nginx:latest prod-immutable-images/requireDigest",
			},
			wantEnforce: []policy.Enforcement{policy.Warn, policy.Deny, policy.Deny, policy.Warn, policy.Deny, policy.Deny},
			wantNotices: []string{"exemption for rule prod-immutable-images on images ghcr.io/example/old:*, nginx:* " +
				"expired on 2026-12-31 (owner team-web); ignored"},
		},
		{
			name: "an exemption covers only its own rule; no expiry means no end", env: prod, now: day,
			images:       []string{"quay.io/vendor/tool:1"},
			wantVerdict:  evaluate.Denied,
			wantFindings: []string{"quay.io/vendor/tool:1 prod-immutable-images/requireDigest"},
			wantEnforce:  []policy.Enforcement{policy.Deny},
			wantExempted: []string{"quay.io/vendor/tool:1 approved-registry/allowedRegistries"},
		},
		{
			name: "unparsable image denies in a protected environment", env: prod,
			images:       []string{"Not A Ref"},
			wantVerdict:  evaluate.Denied,
			wantFindings: []string{"Not A Ref valid-image-reference/validImageReference"},
			wantEnforce:  []policy.Enforcement{policy.Deny},
		},
		{
			name: "unparsable image warns in an unprotected environment", env: dev,
			images:       []string{"Not A Ref"},
			wantVerdict:  evaluate.Warned,
			wantFindings: []string{"Not A Ref valid-image-reference/validImageReference"},
			wantEnforce:  []policy.Enforcement{policy.Warn},
		},
	}
	set := mustPolicy(t, baseline)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			now := tt.now
			if now.IsZero() {
				now = day
			}
			res := evaluate.Evaluate(context.Background(), evaluate.Request{
				Policy: set, Environment: tt.env, Images: images(tt.images...), Now: now,
			})
			g.Expect(res.Error).To(BeEmpty())
			g.Expect(res.Verdict).To(Equal(tt.wantVerdict))
			g.Expect(res.Environment).To(Equal(tt.env.Environment))
			g.Expect(res.Protected).To(Equal(tt.env.Protected))
			g.Expect(res.PolicyRevision).To(Equal(set.Revision))
			g.Expect(res.Images).To(HaveLen(len(tt.images)))
			g.Expect(summary(res.Findings)).To(Equal(nonNil(tt.wantFindings)))
			g.Expect(summary(res.Exempted)).To(Equal(nonNil(tt.wantExempted)))
			g.Expect(res.Notices).To(Equal(nonNil(tt.wantNotices)))
			var enforce []policy.Enforcement
			for _, f := range res.Findings {
				g.Expect(f.Exemption).To(BeNil())
				enforce = append(enforce, f.Enforcement)
			}
			g.Expect(enforce).To(Equal(tt.wantEnforce))
			for _, f := range res.Exempted {
				g.Expect(f.Exemption).NotTo(BeNil())
				g.Expect(f.Exemption.Reason).NotTo(BeEmpty())
				g.Expect(f.Exemption.Owner).NotTo(BeEmpty())
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestExemptionUse(t *testing.T) {
	g := NewWithT(t)
	res := evaluate.Evaluate(context.Background(), evaluate.Request{
		Policy: mustPolicy(t, baseline), Environment: prod, Now: day,
		Images: images("ghcr.io/example/legacy-batch:7"),
	})
	g.Expect(res.Exempted).To(HaveLen(1))
	g.Expect(*res.Exempted[0].Exemption).To(Equal(evaluate.ExemptionUse{
		Reason:  "vendor image, digest pinning tracked in PLAT-123",
		Owner:   "team-batch",
		Expires: "2027-01-31",
		Images:  "ghcr.io/example/legacy-batch:*",
	}))
}

// TestOrder checks that findings come out sorted by file, document, field path (numbers
// by value) and rule, whatever order the images came in.
func TestOrder(t *testing.T) {
	g := NewWithT(t)
	set := mustPolicy(t, "  rules:\n    - {name: b, requireDigest: true}\n    - {name: a, denyTags: [latest]}\n")
	in := []extract.Image{
		image("app:latest", "prod/b.yaml", 0, "c2"),
		image("app:latest", "prod/a.yaml", 1, "c0"),
		image("app:latest", "prod/a.yaml", 0, "c10"),
		image("app:latest", "prod/a.yaml", 0, "c2"),
	}
	res := evaluate.Evaluate(context.Background(), evaluate.Request{Policy: set, Environment: prod, Images: in, Now: day})
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Source.File+" "+strconv.Itoa(f.Source.Document)+" "+f.Source.Container+" "+f.Rule)
	}
	g.Expect(got).To(Equal([]string{
		"prod/a.yaml 0 c2 a", "prod/a.yaml 0 c2 b",
		"prod/a.yaml 0 c10 a", "prod/a.yaml 0 c10 b",
		"prod/a.yaml 1 c0 a", "prod/a.yaml 1 c0 b",
		"prod/b.yaml 0 c2 a", "prod/b.yaml 0 c2 b",
	}))
	// The input is left as given.
	g.Expect(res.Images[0].Source.File).To(Equal("prod/b.yaml"))
}

func TestFailure(t *testing.T) {
	tests := []struct {
		name string
		cls  policy.Classification
		want evaluate.Verdict
	}{
		{"protected fails closed", prod, evaluate.Denied},
		{"unprotected warns", dev, evaluate.Warned},
		{"unclassifiable callers pass protected", policy.Classification{Protected: true}, evaluate.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res := evaluate.Failure(tt.cls, "sha256:abc", errors.New("render apps/x: boom"))
			g.Expect(res.Verdict).To(Equal(tt.want))
			g.Expect(res.Error).To(Equal("render apps/x: boom"))
			g.Expect(res.PolicyRevision).To(Equal("sha256:abc"))
			g.Expect(res.Environment).To(Equal(tt.cls.Environment))
			g.Expect(res.Findings).NotTo(BeNil())
			g.Expect(res.Notices).NotTo(BeNil())
		})
	}
	g := NewWithT(t)
	g.Expect(evaluate.Failure(prod, "", nil).Error).NotTo(BeEmpty())
}

func TestFailClosed(t *testing.T) {
	g := NewWithT(t)
	// No policy at all.
	res := evaluate.Evaluate(context.Background(), evaluate.Request{Environment: prod, Images: images("app:1")})
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Error).To(ContainSubstring("no policy"))

	// A cancelled evaluation never allows.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	set := mustPolicy(t, baseline)
	res = evaluate.Evaluate(ctx, evaluate.Request{Policy: set, Environment: prod, Images: images("ghcr.io/example/a@" + digest)})
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Error).To(ContainSubstring("context canceled"))
	res = evaluate.Evaluate(ctx, evaluate.Request{Policy: set, Environment: dev})
	g.Expect(res.Verdict).To(Equal(evaluate.Warned))
}

func TestUnparsedRefIsParsed(t *testing.T) {
	g := NewWithT(t)
	set := mustPolicy(t, "  rules:\n    - {name: r, requireDigest: true}\n")
	in := []extract.Image{{Raw: "ghcr.io/example/app:1"}, {Raw: "::bad::"}}
	res := evaluate.Evaluate(context.Background(), evaluate.Request{Policy: set, Environment: prod, Images: in, Now: day})
	g.Expect(summary(res.Findings)).To(ConsistOf("ghcr.io/example/app:1 r/requireDigest",
		"::bad:: valid-image-reference/validImageReference"))
}

func TestChecks(t *testing.T) {
	g := NewWithT(t)
	g.Expect(evaluate.Checks()).To(Equal([]string{"requireDigest", "denyTags", "allowedRegistries", "tagPattern",
		"signatures", "attestations", "plugins", "validImageReference", "commitSignatures", "changeScope"}))
	for _, c := range evaluate.Checks() {
		g.Expect(evaluate.DescribeCheck(c)).NotTo(BeEmpty(), c)
	}
	g.Expect(evaluate.DescribeCheck("nope")).To(BeEmpty())
}
