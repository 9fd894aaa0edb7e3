package controller_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	fluxssh "github.com/fluxcd/pkg/ssh"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// serverRecord is a record tag as the server has it.
type serverRecord struct {
	tag git.Tag
	rec record.Record
}

// records reads every record tag of the fleet from the server, through a fresh clone.
func (h *harness) records(f *fleet) []serverRecord {
	h.t.Helper()
	out, err := h.tryRecords(f)
	h.g.Expect(err).NotTo(HaveOccurred())
	return out
}

// tryRecords is records for Eventually: a fetch racing a push is tried again.
func (h *harness) tryRecords(f *fleet) ([]serverRecord, error) {
	auth, err := git.NewAuth(f.url, f.data)
	if err != nil {
		return nil, err
	}
	auth.AllowInsecureHTTP = true
	s, err := git.NewCache(h.t.TempDir()).Open(h.ctx, f.url, auth)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if _, err = s.Fetch(h.ctx); err != nil {
		return nil, err
	}
	tags, err := s.Tags("")
	if err != nil {
		return nil, err
	}
	var out []serverRecord
	for _, t := range tags {
		rec, err := record.Parse([]byte(t.Message))
		if err != nil {
			return nil, fmt.Errorf("tag %s holds no record that parses: %w", t.Name, err)
		}
		out = append(out, serverRecord{tag: t, rec: rec})
	}
	return out, nil
}

// recordOn waits for a record tag of kind on commit and returns it.
func (h *harness) recordOn(f *fleet, kind record.Kind, commit string) serverRecord {
	h.t.Helper()
	var found serverRecord
	h.g.Eventually(func() bool {
		recs, err := h.tryRecords(f)
		if err != nil {
			return false
		}
		for _, r := range recs {
			if r.rec.Kind == kind && r.tag.Commit == commit {
				found = r
				return true
			}
		}
		return false
	}).Should(BeTrue(), "a %s record tag on %s", kind, commit)
	return found
}

// deleteBranch deletes a branch on the server, as a person (or the gate's stale
// handling) would, so that the automation's next push starts from main again.
func (h *harness) deleteBranch(f *fleet, branch string) {
	h.t.Helper()
	auth, err := git.NewAuth(f.url, f.data)
	h.g.Expect(err).NotTo(HaveOccurred())
	auth.AllowInsecureHTTP = true
	s, err := git.NewCache(h.t.TempDir()).Open(h.ctx, f.url, auth)
	h.g.Expect(err).NotTo(HaveOccurred())
	defer s.Close()
	_, err = s.Fetch(h.ctx)
	h.g.Expect(err).NotTo(HaveOccurred())
	head, err := s.Head(branch)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(s.DeleteBranch(h.ctx, branch, head)).To(Succeed())
}

// signingKey makes an OpenPGP key, puts its private half in a Secret of the policy
// namespace and returns the armored public key.
func (h *harness) signingKey(name string) string {
	h.t.Helper()
	key := commitsigtest.NewOpenPGPKey(h.t, "Promotion Records", "records@example.com")
	var priv bytes.Buffer
	w, err := armor.Encode(&priv, "PGP PRIVATE KEY BLOCK", nil)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(key.Entity.SerializePrivate(w, nil)).To(Succeed())
	h.g.Expect(w.Close()).To(Succeed())
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Data: map[string][]byte{"git.asc": priv.Bytes()}}
	h.g.Expect(k8s.Create(h.ctx, secret)).To(Succeed())
	return string(key.Public)
}

func withSigningKey(name string) func(*gatev1.PromotionGate) {
	return func(g *gatev1.PromotionGate) {
		g.Spec.Record = &gatev1.RecordSpec{SigningKeyRef: &meta.LocalObjectReference{Name: name}}
	}
}

// The whole story of records and rollbacks on one gate: a promotion writes a signed, parseable
// record tag; a person reverts it on main; the automation proposes the same digest
// again and the gate holds it RolledBack (a Warning event names the revert commit,
// the digest and the release); a different digest promotes without release; the
// annotation releases the rolled-back digest. The server never sees a
// non-fast-forward update nor a tag rewrite.
func TestRecordsRollbackHoldAndRelease(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	pub := h.signingKey("record-signing-key")
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name, withSigningKey("record-signing-key"))
	before := h.head(f, "main")

	// 1. A promotion and its record.
	p1 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(g.Status.LastPromotion.Commit).To(Equal(p1), "the last-promotion status stays")
	r1 := h.recordOn(f, record.Promotion, p1)
	h.g.Expect(r1.tag.Name).To(MatchRegexp(`^prod-\d{4}-\d{2}-\d{2}-001$`))
	h.g.Expect(r1.rec.Commit).To(Equal(p1))
	h.g.Expect(r1.rec.RollbackCommit).To(Equal(before))
	h.g.Expect(r1.rec.Environment).To(Equal("prod"))
	h.g.Expect(r1.rec.Images).To(ConsistOf(record.Image{Reference: "ghcr.io/example/payments-api:1.9.0@" + digestB, Digest: digestB}))
	h.g.Expect(r1.rec.Files).To(ConsistOf(overlayPath("payments-api")))
	h.g.Expect(r1.rec.Verdict.Result).To(Equal("Allowed"))
	h.g.Expect(r1.rec.Verdict.PolicyRevision).To(HavePrefix("sha256:"))
	h.g.Expect(r1.rec.Verdict.RulesPassed).To(ContainElement("prod-immutable-images"))
	h.g.Expect(r1.rec.Approval.Gate).To(Equal(h.ns + "/payments-api-prod"))
	h.g.Expect(r1.rec.Approval.Proposal).To(Equal("automation/payments-api-prod"))
	h.g.Expect(r1.rec.Approval.Identity).To(Equal("system:serviceaccount:"+h.ns+":flux-gate"), "the gate's --identity")
	h.g.Expect(r1.tag.Message).To(ContainSubstring("acting as system:serviceaccount:"+h.ns+":flux-gate"), "the prose names it too")
	h.g.Expect(r1.tag.Signature).To(HavePrefix("-----BEGIN PGP SIGNATURE-----"))
	signer, err := r1.tag.Object.Verify(pub)
	h.g.Expect(err).NotTo(HaveOccurred(), "the record tag verifies with the public key")
	h.g.Expect(signer.PrimaryIdentity().UserId.Email).To(Equal("records@example.com"))
	h.g.Eventually(func() *gatev1.RecordRef { return h.getGate("payments-api-prod").Status.LastRecord }).
		Should(Equal(&gatev1.RecordRef{Tag: r1.tag.Name, Kind: "promotion", Commit: p1, Signed: true}))

	// 2. A person reverts it on main: the gate records the rollback.
	revert, err := f.human.Commit(h.ctx, "main", "main", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.8.3", digestA)}, `Revert "Update image"`)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("payments-api-prod")
	rb := h.recordOn(f, record.Rollback, revert)
	h.g.Expect(rb.rec.Rollback.Digests).To(Equal([]string{digestB}))
	h.g.Expect(rb.rec.Rollback.Author).To(Equal(humanName + " <" + humanEmail + ">"))
	h.g.Expect(rb.rec.Rollback.Promotion).To(Equal(r1.tag.Name))
	h.g.Expect(rb.rec.RollbackCommit).To(Equal(p1))
	h.g.Expect(rb.tag.Name).To(MatchRegexp(`^prod-\d{4}-\d{2}-\d{2}-002$`))
	h.g.Eventually(func() []gatev1.RolledBackDigest { return h.getGate("payments-api-prod").Status.RolledBack }).
		Should(ConsistOf(gatev1.RolledBackDigest{Digest: digestB, Image: "ghcr.io/example/payments-api:1.9.0@" + digestB,
			RevertCommit: revert, Author: humanName + " <" + humanEmail + ">", Tag: rb.tag.Name}))

	// 3. The automation proposes the same digest again: held as rolled back.
	h.deleteBranch(f, "automation/payments-api-prod")
	p2 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	g = h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(g.Status.Proposal.Commit).To(Equal(p2))
	h.g.Expect(h.head(f, "main")).To(Equal(revert), "nothing promoted")
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.RolledBackReason, revert, digestB,
		"kubectl -n "+h.ns+" annotate --overwrite promotiongate payments-api-prod "+gatev1.ReleaseRollbackAnnotation+"="+digestB)
	h.conformant("payments-api-prod")

	// 4. A different digest promotes as usual, without release.
	p3 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC)})
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p3))
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.recordOn(f, record.Promotion, p3)

	// 5. The rolled-back digest comes back: held again, until the annotation releases it.
	h.deleteBranch(f, "automation/payments-api-prod")
	p4 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(h.head(f, "main")).To(Equal(p3))
	cur := h.getGate("payments-api-prod")
	patched := cur.DeepCopy()
	patched.Annotations = map[string]string{gatev1.ReleaseRollbackAnnotation: digestB}
	h.g.Expect(k8s.Patch(h.ctx, patched, client.MergeFrom(cur))).To(Succeed())
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p4))
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.recordOn(f, record.Promotion, p4)
	h.g.Eventually(func() []gatev1.RolledBackDigest { return h.getGate("payments-api-prod").Status.RolledBack }).Should(BeEmpty(),
		"a promotion after the rollback ends the hold")

	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty(), "the server never saw a non-fast-forward update nor a tag rewrite")
}

// A tag push that fails after the branch moved leaves the record pending in status;
// the gate writes it once tags are accepted again — on its own retries, and across a
// restart of the controller.
func TestRecordPendingCompletes(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			h := newHarness(t)
			srv := gittest.NewGuardedHTTP(t)
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(basePolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)

			srv.RefuseTags(t, "fleet.git", true)
			p := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
			h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p), "the branch moved")
			h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RecordPendingReason)
			// The patcher writes conditions and the rest of the status in two patches:
			// wait for the second rather than read between them.
			h.g.Eventually(func() string {
				pr := h.getGate("payments-api-prod").Status.PendingRecord
				if pr == nil {
					return ""
				}
				return pr.Commit + " " + pr.Error
			}).Should(And(HavePrefix(p+" "), ContainSubstring("tag")))
			g := h.getGate("payments-api-prod")
			h.g.Expect(g.Status.LastPromotion.Commit).To(Equal(p))
			h.g.Expect(h.records(f)).To(BeEmpty())
			h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.RecordPendingReason, p)

			if restart {
				h.stopManager()
				srv.RefuseTags(t, "fleet.git", false)
				h.startManager()
			} else {
				srv.RefuseTags(t, "fleet.git", false)
			}
			r := h.recordOn(f, record.Promotion, p)
			h.g.Expect(r.rec.RollbackCommit).NotTo(BeEmpty())
			h.g.Eventually(func() *gatev1.PendingRecord { return h.getGate("payments-api-prod").Status.PendingRecord }).Should(BeNil())
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
			h.g.Expect(h.records(f)).To(HaveLen(1), "written once")
			h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
		})
	}
}

// With an SSH key in the signing Secret, the record tag carries an SSH signature (git's
// format, namespace git) that verifies with the public key.
func TestRecordSignedWithSSHKey(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	kp, err := fluxssh.GenerateKeyPair(fluxssh.ED25519)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(k8s.Create(h.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ssh-records", Namespace: h.ns},
		Data: map[string][]byte{"identity": kp.PrivateKey}})).To(Succeed())
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name, withSigningKey("ssh-records"))
	p := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	r := h.recordOn(f, record.Promotion, p)
	h.g.Expect(r.tag.Signature).To(HavePrefix("-----BEGIN SSH SIGNATURE-----"))
	ring, err := commitsig.ParseKeys([]commitsig.Key{{Name: "records", SSH: kp.PublicKey}})
	h.g.Expect(err).NotTo(HaveOccurred())
	signer, err := ring.VerifyTag(r.tag.Object)
	h.g.Expect(err).NotTo(HaveOccurred(), "the record tag verifies with the public key")
	h.g.Expect(signer).To(Equal("records"))
	stranger, err := fluxssh.GenerateKeyPair(fluxssh.ED25519)
	h.g.Expect(err).NotTo(HaveOccurred())
	other, err := commitsig.ParseKeys([]commitsig.Key{{Name: "stranger", SSH: stranger.PublicKey}})
	h.g.Expect(err).NotTo(HaveOccurred())
	_, err = other.VerifyTag(r.tag.Object)
	h.g.Expect(err).To(MatchError(ContainSubstring("unknown key")), "another key does not verify it")
}

// Three gates promoting to one repository at once never take the same record name:
// the records number 001, 002, 003 in the order the promotions landed.
func TestConcurrentGatesRecordsNeverCollide(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	apps := []string{"payments-api", "orders-api", "billing-api"}
	f := h.newFleet(srv.URL("fleet.git"), nil, apps...)
	h.setPolicy(basePolicy)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	for i, app := range apps {
		a := h.automation(f, app+"-prod", app)
		h.gate(app+"-prod", a.Name)
		files := func() map[string]string {
			return map[string]string{overlayPath(app): prodOverlay(app, "ghcr.io/example/"+app, fmt.Sprintf("2.0.%d", i), digestC)}
		}
		h.runIAC(ctx, f, a, files)
		h.iacPush(f, a, files())
	}
	h.g.Eventually(func() (int, error) {
		recs, err := h.tryRecords(f)
		return len(recs), err
	}, 2*time.Minute).Should(Equal(len(apps)))
	var seqs, gates []string
	for _, r := range h.records(f) {
		seqs = append(seqs, r.tag.Name[len(r.tag.Name)-3:])
		gates = append(gates, r.rec.Approval.Gate)
	}
	h.g.Expect(seqs).To(ConsistOf("001", "002", "003"))
	h.g.Expect(gates).To(ConsistOf(h.ns+"/payments-api-prod", h.ns+"/orders-api-prod", h.ns+"/billing-api-prod"))
	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
}

// Two writers with separate clones (two controller processes) that pick the same
// record name race at the server: the second is refused with ErrTagExists, never
// overwrites, and takes the next name.
func TestRecordTagRaceAcrossClones(t *testing.T) {
	srv := gittest.NewGuardedHTTP(t)
	ctx := context.Background()
	w := gittest.Writer{URL: srv.URL("fleet.git"), AuthorName: humanName, AuthorEmail: humanEmail}
	head, err := w.Init(ctx, "main", map[string]string{"README.md": "x\n"})
	if err != nil {
		t.Fatal(err)
	}
	open := func() *git.Session {
		auth, _ := git.NewAuth(w.URL, nil)
		s, err := git.NewCache(t.TempDir()).Open(ctx, w.URL, auth)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if _, err := s.Fetch(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	name := func(s *git.Session, taken ...string) string {
		names, err := s.TagNames()
		if err != nil {
			t.Fatal(err)
		}
		n, err := record.NextTag("", record.TagVars{Env: "prod", Time: day}, append(names, taken...))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	na, nb := name(a), name(b)
	if na != nb || na != "prod-2026-06-01-001" {
		t.Fatalf("both writers should pick prod-2026-06-01-001, got %s and %s", na, nb)
	}
	tag := func(n, by string) git.NewTag {
		return git.NewTag{Name: n, Commit: head, Message: "record by " + by, Tagger: object.Signature{Name: "flux-gate", Email: "flux-gate@example.com", When: day}}
	}
	if err := a.PushTag(ctx, tag(na, "a")); err != nil {
		t.Fatal(err)
	}
	err = b.PushTag(ctx, tag(nb, "b"))
	if err == nil || !strings.Contains(err.Error(), git.ErrTagExists.Error()) {
		t.Fatalf("second push of %s: %v, want ErrTagExists", nb, err)
	}
	if next := name(b, nb); next != "prod-2026-06-01-002" {
		t.Fatalf("next name %s, want prod-2026-06-01-002", next)
	}
	if err := b.PushTag(ctx, tag("prod-2026-06-01-002", "b")); err != nil {
		t.Fatal(err)
	}
	if log := srv.NonFastForwards(t, "fleet.git"); strings.Contains(log, "refs/heads/") || strings.Contains(log, "002") {
		t.Fatalf("unexpected refusals: %s", log)
	}
}

// Rollback detection looks at every digest the gate promoted on the target, not only
// its last promotion, and tells the gate's own replacements from a person's revert:
// 1.9.1 replacing 1.9.0 is no rollback of 1.9.0; a person reverting 1.9.1 after the
// gate promoted another app is a rollback of 1.9.1 (1.9.0 coming back is fine), and
// it is recorded once.
func TestRollbackOfAnyPromotionNotOnlyTheLast(t *testing.T) {
	const digestD = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api", "orders-api")
	h.setPolicy(basePolicy)
	a := h.automation(f, "apps-prod", "payments-api", func(a *imagev1.ImageUpdateAutomation) {
		a.Spec.Update.Path = "./apps"
	})
	h.gate("apps-prod", a.Name)
	payments := func(tag, digest string) map[string]string {
		return map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", tag, digest)}
	}

	// The gate promotes 1.9.0, then replaces it with 1.9.1: 1.9.0 left main by the
	// gate's own promotion, which is no rollback.
	p1 := h.iacPush(f, a, payments("1.9.0", digestB))
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p1))
	r1 := h.recordOn(f, record.Promotion, p1)
	p2 := h.iacPush(f, a, payments("1.9.1", digestC))
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p2))
	r2 := h.recordOn(f, record.Promotion, p2)
	h.waitHandled("apps-prod", h.poke("apps-prod"))
	h.g.Expect(kinds(h.records(f))).To(ConsistOf(record.Promotion, record.Promotion), "no rollback of 1.9.0")
	h.g.Expect(h.getGate("apps-prod").Status.RolledBack).To(BeEmpty())

	// Then another app: the gate's last promotion is no longer the payments one.
	p3 := h.iacPush(f, a, map[string]string{overlayPath("orders-api"): prodOverlay("orders-api", "ghcr.io/example/orders-api", "2.0.0", digestD)})
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p3))
	h.recordOn(f, record.Promotion, p3)

	// A person reverts 1.9.1 on main: 1.9.1 is rolled back, 1.9.0 is back and fine.
	revert, err := f.human.Commit(h.ctx, "main", "main", payments("1.9.0", digestB), `Revert "Update image" (1.9.1)`)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("apps-prod")
	rb := h.recordOn(f, record.Rollback, revert)
	h.g.Expect(rb.rec.Rollback.Digests).To(Equal([]string{digestC}))
	h.g.Expect(rb.rec.Rollback.Promotion).To(Equal(r2.tag.Name))
	h.g.Expect(rb.rec.Rollback.PromotedCommit).To(Equal(p2))
	h.g.Expect(rb.rec.Rollback.Author).To(Equal(humanName + " <" + humanEmail + ">"))
	h.g.Expect(rb.rec.RollbackCommit).To(Equal(p3), "the rollback record's rollback commit is the head the revert replaced")
	h.g.Expect(rb.rec.Images).To(ConsistOf(record.Image{Reference: "ghcr.io/example/payments-api:1.9.1@" + digestC, Digest: digestC}))
	h.g.Eventually(func() []string {
		var out []string
		for _, d := range h.getGate("apps-prod").Status.RolledBack {
			out = append(out, d.Digest)
		}
		return out
	}).Should(Equal([]string{digestC}), "only 1.9.1 is held; 1.9.0 (%s) is not", r1.tag.Name)

	// Recorded once, whatever the number of runs.
	h.waitHandled("apps-prod", h.poke("apps-prod"))
	h.g.Expect(kinds(h.records(f))).To(ConsistOf(record.Promotion, record.Promotion, record.Promotion, record.Rollback))

	// 1.9.1 proposed again is held; the orders app's digest was never touched.
	h.deleteBranch(f, "automation/apps-prod")
	h.iacPush(f, a, payments("1.9.1", digestC))
	h.waitReady("apps-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(h.head(f, "main")).To(Equal(revert), "nothing promoted")
	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
}

func kinds(recs []serverRecord) []record.Kind {
	out := make([]record.Kind, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.rec.Kind)
	}
	return out
}

// The platform team releases a rolled-back digest with a policy exemption from rule
// rolled-back naming it: an exemption naming another digest releases nothing; one
// naming the digest promotes it, and the promotion record says what released it.
func TestRollbackReleasedByPolicyExemption(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name)
	p1 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p1))
	revert, err := f.human.Commit(h.ctx, "main", "main", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.8.3", digestA)}, `Revert "Update image"`)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("payments-api-prod")
	h.recordOn(f, record.Rollback, revert)
	h.deleteBranch(f, "automation/payments-api-prod")
	p2 := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)})
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(apimeta.FindStatusCondition(g.Status.Conditions, meta.ReadyCondition).Message).
		To(ContainSubstring("or a policy exemption from rule rolled-back naming the digest"))

	exemption := func(digest string) string {
		return basePolicy + "  exemptions:\n    - rule: rolled-back\n" +
			"      images: [\"ghcr.io/example/payments-api@" + digest + "\"]\n" +
			"      reason: the crash was a config error, fixed in place\n      owner: team-payments\n"
	}
	h.setPolicy(exemption(digestC))
	h.waitHandled("payments-api-prod", h.poke("payments-api-prod"))
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(h.head(f, "main")).To(Equal(revert), "an exemption naming another digest releases nothing")

	h.setPolicy(exemption(digestB))
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p2))
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	r := h.recordOn(f, record.Promotion, p2)
	h.g.Expect(r.rec.Verdict.Warnings).To(ContainElement(
		"rolled-back " + digestB + " released by policy exemption from rolled-back (owner team-payments: the crash was a config error, fixed in place)"))
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.PromotedReason, p2[:12], "released by policy exemption")
	h.g.Eventually(func() []gatev1.RolledBackDigest { return h.getGate("payments-api-prod").Status.RolledBack }).Should(BeEmpty())
	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
}
