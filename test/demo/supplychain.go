package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
	"github.com/promotion-gate/promotion-gate/test/internal/manifests"
)

// supplyChainPolicy is the policy document the demo installs next to examples/policy:
// prod images must be signed by the release pipeline's key.
const supplyChainPolicy = "examples/supply-chain/require-signatures.yaml"

// unsignedTag is the payments-api version that reaches the registry without the
// release pipeline, so unsigned.
const unsignedTag = "1.9.1"

// startRegistry starts the registry, pushes the payments-api images, and signs the
// ones the release pipeline built.
func (d *demo) startRegistry() error {
	var err error
	if d.registry, err = startRegistry(d.work); err != nil {
		return err
	}
	if d.signer, err = newReleaseSigner(); err != nil {
		return err
	}
	if err := d.dockerConfigs(); err != nil {
		return err
	}
	d.images = map[string]registrytest.Image{}
	d.field("OCI registry", "%s (go-containerregistry), standing in for ghcr.io/example:", d.registry.host)
	for _, tag := range []string{"1.9.0", "latest", unsignedTag} {
		img, err := d.registry.push("example/payments-api", tag)
		if err != nil {
			return err
		}
		d.images[tag], d.rep.Digests[tag] = img, img.Digest
		d.field("", "payments-api:%-6s %s", tag, img.Digest)
	}
	d.say("(a digest is the hash of the image's manifest: the same in whichever registry holds it)")
	for _, tag := range []string{"1.9.0", "latest"} {
		bundle, err := d.signer.sign(d.registry, d.images[tag])
		if err != nil {
			return err
		}
		d.rep.Signatures[tag] = bundle
	}
	d.field("signatures", "1.9.0 and latest: signed by the release pipeline's key, each a Sigstore bundle attached to the image as an OCI referrer (%s, %s)",
		d.rep.Signatures["1.9.0"], d.rep.Signatures["latest"])
	d.field("", "%s: unsigned (pushed by hand, not by the release pipeline)", unsignedTag)
	d.say("The release key (ECDSA P-256) was made for this run. The policy requires every signature to be in a " +
		"transparency log; the demo has no Rekor, so signatures are logged in an in-process test log " +
		"(sigstore-go's VirtualSigstore, through shared/registry/registrytest) whose trusted_root.json the policy gets with the public key.")
	d.say("flux-gate and the sidecar read ghcr.io/example/payments-api from this registry: they run with HTTPS_PROXY=%s, "+
		"the demo's proxy, which answers only for ghcr.io:443, and SSL_CERT_FILE naming a CA made for this run that "+
		"certifies ghcr.io. Nothing leaves the machine. Like a private repository, it wants credentials: user %s "+
		"and a password made for this run.", d.registry.proxyURL(), d.registry.user)
	return nil
}

// registryEnv is the environment flux-gate and the sidecar need for the registry:
// the proxy, its CA, and their docker config.
func (d *demo) registryEnv(dockerConfig string) []string {
	return append(d.registry.env(), "DOCKER_CONFIG="+dockerConfig)
}

// signatureReads counts the requests for the referrers of the image pushed as tag.
func (d *demo) signatureReads(tag string) int {
	return d.registry.reg.RequestsTo("GET", "/referrers/"+d.images[tag].Digest)
}

// unsigned is step 5: a digest-pinned proposal of an image nobody signed is held.
func (d *demo) unsigned(ctx context.Context) error {
	before, err := d.git.head(ctx, "main")
	if err != nil {
		return err
	}
	if err := d.git.deleteBranch(ctx, proposalBranch); err != nil {
		return err
	}
	d.say("First a platform engineer rejects the held proposal that brought the rolled-back 1.9.0 back: they delete "+
		"branch %s (git push origin --delete), so the automation builds its next proposal from main.", proposalBranch)
	digest := d.rep.Digests[unsignedTag]
	p, err := d.playIAC(ctx, "its ImagePolicy picked payments-api "+unsignedTag+" with its digest",
		"Update payments-api to "+unsignedTag, map[string]string{"tag": unsignedTag, "digest": digest})
	if err != nil {
		return err
	}
	d.field("change", "newTag: %s, digest: %s", unsignedTag, digest)
	g, event, heads, err := d.waitHeld(ctx, p)
	if err != nil {
		return err
	}
	h := newHold(g, p, heads, event)
	d.rep.SupplyChain.Unsigned = h
	if h.MainAfter != before || h.ProposalBranch != p {
		return fmt.Errorf("want main still at %s and %s at %s; Git has main at %s and %s at %s",
			short(before), proposalBranch, short(p), short(h.MainAfter), proposalBranch, short(h.ProposalBranch))
	}
	if !contains(h.FindingChecks, "signatures") {
		return fmt.Errorf("the gate held %s without a signatures finding: %v", short(p), h.FindingMessages)
	}
	ev := g.Status.LastEvaluation
	_, _, line := ready(g)
	d.say("The image is pinned by digest and comes from ghcr.io/example, so rule prod-immutable-images passes; "+
		"rule %s does not. flux-gate evaluated the commit: %s in environment %s. main stays at %s.",
		signedRule, ev.Verdict, envLabel(ev.Environment, ev.Protected), short(before))
	d.field("registry", "flux-gate looked for signatures of %s at ghcr.io: %d request(s) for its referrers; none found",
		short(strings.TrimPrefix(digest, "sha256:")), d.signatureReads(unsignedTag))
	d.field("Ready", "%s", line)
	d.findings(ev.Findings)
	return nil
}

// argoUnsigned is step 6: the sidecar refuses to render prod at the unsigned proposal.
func (d *demo) argoUnsigned(ctx context.Context) error {
	d.say("Someone points the prod Application at the held proposal (targetRevision %s); the demo plays the "+
		"repo-server again. The sidecar checks the signature itself, with the key and trusted root mounted from "+
		"ConfigMap %s/%s, and reads the registry as ghcr.io like flux-gate.", proposalBranch, argoCDNamespace, trustConfigMap)
	readsBefore := d.signatureReads(unsignedTag)
	rev, res, err := d.render(ctx, prodApplication(proposalBranch), "unsigned")
	if err != nil {
		return err
	}
	d.rep.SupplyChain.RefusalReads = d.signatureReads(unsignedTag) - readsBefore
	r := Refusal{Revision: rev, ExitCode: res.ExitCode, SidecarError: res.Error}
	if res.ExitCode == 0 {
		d.rep.SupplyChain.Refusal = r
		return fmt.Errorf("the sidecar rendered the unsigned proposal %s instead of refusing it", short(rev))
	}
	r.ComparisonError = comparisonError(res.Error)
	d.rep.SupplyChain.Refusal = r
	d.field("registry", "the sidecar looked for signatures of %s at ghcr.io: %d request(s) for its referrers",
		short(strings.TrimPrefix(d.images[unsignedTag].Digest, "sha256:")), d.rep.SupplyChain.RefusalReads)
	d.say("The sidecar refused to render it. The Application's ComparisonError, as the Argo CD UI shows it:")
	d.quote(r.ComparisonError)
	return nil
}

// signLate is step 7: the release key signs the held digest, and the same proposal
// is promoted without a new commit; Argo CD then renders it from main.
func (d *demo) signLate(ctx context.Context) error {
	img := d.images[unsignedTag]
	bundle, err := d.signer.sign(d.registry, img)
	if err != nil {
		return err
	}
	sc := &d.rep.SupplyChain
	sc.Bundle = bundle
	p := sc.Unsigned.Proposal
	d.say("The release pipeline signs payments-api %s with the release key, as cosign does: a Sigstore bundle, "+
		"logged in the transparency log, attached to the digest as an OCI referrer. Nothing changes in Git.", unsignedTag)
	d.field("bundle", "%s, subject %s", bundle, img.Digest)
	readsBefore := d.signatureReads(unsignedTag)
	if err := d.requestReconcile(ctx); err != nil {
		return err
	}
	d.say("The demo asks flux-gate to look again now rather than at its next interval: it sets the annotation " +
		"reconcile.fluxcd.io/requestedAt on the PromotionGate, as `kubectl annotate` would.")
	g, main, err := d.waitPromoted(ctx, p)
	if err != nil {
		return err
	}
	lp := g.Status.LastPromotion
	status, reason, line := ready(g)
	sc.Promoted = Promotion{Proposal: p, MainAfter: main, ReadyStatus: status, ReadyReason: reason, Images: lp.Images,
		SignatureReads: d.signatureReads(unsignedTag) - readsBefore}
	if main != p {
		return fmt.Errorf("the gate reports the promotion of %s, but main is at %s", p, main)
	}
	d.say("flux-gate evaluated the same commit again and read the image's referrers anew (%d request(s): a failed "+
		"check is never cached). The signature verifies, so it promoted the commit.", sc.Promoted.SignatureReads)
	d.field("main", "was %s, now %s: the proposal held in step 5", lp.PreviousCommit, main)
	d.field("images", "%s", strings.Join(lp.Images, ", "))
	d.field("Ready", "%s", line)

	readsBefore = d.signatureReads(unsignedTag)
	rev, res, err := d.render(ctx, prodApplication("main"), "signed")
	if err != nil {
		return err
	}
	sc.RenderReads = d.signatureReads(unsignedTag) - readsBefore
	sc.Render = Render{Revision: rev, Manifests: res.Manifests}
	if res.ExitCode != 0 {
		return fmt.Errorf("rendering prod from main at %s was refused:\n%s", short(rev), res.Error)
	}
	objs, err := manifests.Decode(res.Manifests)
	if err != nil {
		return fmt.Errorf("the sidecar's manifests: %w", err)
	}
	d.say("Argo CD renders prod from main again through the sidecar, which verified the signature too "+
		"(%d request(s) for the referrers):", sc.RenderReads)
	d.field("Application", "payments-api-prod, targetRevision main (%s): %s", short(rev), objectNames(objs))
	d.field("image", "%s", strings.Join(images(objs), ", "))
	return nil
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt on the gate, as `flux
// reconcile` does for Flux's own kinds.
func (d *demo) requestReconcile(ctx context.Context) error {
	g := &gatev1.PromotionGate{}
	key := client.ObjectKey{Namespace: fluxNamespace, Name: gateName}
	if err := d.cluster.k8s.Get(ctx, key, g); err != nil {
		return fmt.Errorf("read PromotionGate %s: %w", key, err)
	}
	before := g.DeepCopy()
	ann := g.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	g.SetAnnotations(ann)
	if err := d.cluster.k8s.Patch(ctx, g, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("annotate PromotionGate %s: %w", key, err)
	}
	return nil
}
