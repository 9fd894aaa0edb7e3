package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// maxRollbackWalk bounds the first-parent history of the target read to find the
// gate's promotions still on it and the commits that removed their digests; the walk
// ends sooner, at the oldest promotion it needs.
const maxRollbackWalk = 500

// maxRollbackPromotions bounds the promotions whose digests are checked: the newest
// ones of this gate still on the target's first-parent history.
const maxRollbackPromotions = 20

// maxRecordFileBytes bounds a file read to look for a digest.
const maxRecordFileBytes = 4 << 20

// reconcileRecords brings the records up to date before anything else happens on
// the target: it finishes a pending record, records rollbacks of the digests the gate
// promoted that left the target branch, and lists in status the digests held as
// rolled back.
func (r *PromotionGateReconciler) reconcileRecords(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target string) error {
	if err := r.finishPendingRecord(ctx, gate, auto, sess, target); err != nil {
		return err
	}
	recs, err := readRecords(sess)
	if err != nil {
		return &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	written, err := r.detectRollbacks(ctx, gate, auto, sess, target, recs)
	if err != nil {
		return err
	}
	recs = append(recs, written...)
	gate.Status.RolledBack = activeRollbacks(gateName(gate), auto.target, recs)
	return nil
}

// history is the target's first-parent history, newest first, with each commit's
// position. Every promotion the gate recorded is on it at record.Landed: the gate
// fast-forwards in push mode; in pullRequest mode a person's fast-forward merge puts
// the promoted commit on it, and a merge commit (whose second parent is the promoted
// commit) is on it itself.
type history struct {
	commits []*object.Commit
	at      map[string]int
	files   map[string][]byte // "commit\x00path" → content, nil when absent
}

// readHistory walks the target's first parents from its head until it has passed
// the newest maxRollbackPromotions of the promoted commits (or all of them), at most
// maxRollbackWalk commits: nothing older is checked.
func readHistory(sess *git.Session, target string, promoted map[string]bool) (*history, error) {
	h := &history{at: map[string]int{}, files: map[string][]byte{}}
	c, err := sess.Commit(target)
	for seen := 0; err == nil && len(h.commits) < maxRollbackWalk; {
		h.at[c.Hash.String()] = len(h.commits)
		h.commits = append(h.commits, c)
		if promoted[c.Hash.String()] {
			seen++
		}
		if seen == len(promoted) || seen == maxRollbackPromotions || c.NumParents() == 0 {
			break
		}
		c, err = c.Parent(0)
	}
	if err != nil {
		return nil, &reasonError{reason: gatev1.GitOperationFailedReason, err: fmt.Errorf("walk the first parents of %s: %w", short(target), err)}
	}
	return h, nil
}

// pos is a commit's position (0 is the head); -1 when it is not on the history read.
func (h *history) pos(commit string) int {
	if i, ok := h.at[commit]; ok {
		return i
	}
	return -1
}

// carries reports whether one of files holds digest at commit; a file that is gone
// holds nothing.
func (h *history) carries(sess *git.Session, commit string, files []string, digest string) (bool, error) {
	for _, f := range files {
		key := commit + "\x00" + f
		b, ok := h.files[key]
		if !ok {
			var err error
			b, err = sess.ReadFile(commit, f, maxRecordFileBytes)
			if errors.Is(err, git.ErrFileNotFound) {
				b, err = nil, nil
			}
			if err != nil {
				return false, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
			}
			h.files[key] = b
		}
		if bytes.Contains(b, []byte(digest)) {
			return true, nil
		}
	}
	return false, nil
}

// promised is a digest the target should still carry: the gate promoted it, and
// promoted nothing newer for the same image in the same files since.
type promised struct {
	promo *taggedRecord
	image record.Image
}

// promisedDigests are the digests of the gate's newest promotions on the target's
// history, less those the gate itself replaced: a promotion of the same image in a
// file of an older one supersedes it (1.9.1 replacing 1.9.0 is no rollback of 1.9.0).
func promisedDigests(name, branch string, recs []taggedRecord, h *history) (promos []*taggedRecord, out []promised) {
	for i := range recs {
		t := &recs[i]
		if t.rec.Kind == record.Promotion && t.rec.Branch == branch && recordGate(t.rec) == name && h.pos(t.rec.Landed()) >= 0 {
			promos = append(promos, t)
		}
	}
	// Newest first by place in the history; records of one commit by time.
	sort.SliceStable(promos, func(i, j int) bool {
		pi, pj := h.pos(promos[i].rec.Landed()), h.pos(promos[j].rec.Landed())
		if pi != pj {
			return pi < pj
		}
		return newer(promos[i], promos[j])
	})
	if len(promos) > maxRollbackPromotions {
		promos = promos[:maxRollbackPromotions]
	}
	claimed := map[string]bool{} // file + "\x00" + image repository
	for _, p := range promos {
		var keys []string
		for _, img := range p.rec.Images {
			if img.Digest == "" {
				continue
			}
			superseded := false
			for _, f := range p.rec.Files {
				k := f + "\x00" + imageRepository(img.Reference)
				superseded = superseded || claimed[k]
				keys = append(keys, k)
			}
			if !superseded && !slices.ContainsFunc(out, func(x promised) bool { return x.image.Digest == img.Digest }) {
				out = append(out, promised{promo: p, image: img})
			}
		}
		for _, k := range keys {
			claimed[k] = true
		}
	}
	return promos, out
}

// imageRepository is a reference without its tag and digest: the image a newer
// promotion replaces.
func imageRepository(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// recordedRollback reports whether a rollback record of the gate already names
// digest as removed after promotion p.
func recordedRollback(name, branch string, recs []taggedRecord, h *history, p *taggedRecord, digest string) bool {
	return slices.ContainsFunc(recs, func(t taggedRecord) bool {
		if t.rec.Kind != record.Rollback || t.rec.Branch != branch || recordGate(t.rec) != name || !slices.Contains(t.rec.Rollback.Digests, digest) {
			return false
		}
		if t.rec.Rollback.PromotedCommit == p.rec.Commit {
			return true
		}
		at := h.pos(t.rec.Commit)
		return at >= 0 && at < h.pos(p.rec.Landed())
	})
}

// removal is a commit that took digests the gate promoted off the target.
type removal struct {
	commit  *object.Commit
	removed []promised
}

// detectRollbacks checks every digest the gate promoted that the target should still
// carry (promisedDigests): when one is gone, the newest commit that removed it is
// found on the first-parent history. A removal inside one of the gate's own
// promotions (a branch promotion carrying a revert from its source) is the gate's
// change; any other is a rollback by a person, written as a record on that commit
// (once), with a Warning event.
func (r *PromotionGateReconciler) detectRollbacks(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target string, recs []taggedRecord) ([]taggedRecord, error) {
	name := gateName(gate)
	promoted := map[string]bool{}
	for _, t := range recs {
		if t.rec.Kind == record.Promotion && t.rec.Branch == auto.target && recordGate(t.rec) == name {
			promoted[t.rec.Landed()] = true
		}
	}
	if len(promoted) == 0 {
		return nil, nil // nothing promoted here, nothing to roll back
	}
	h, err := readHistory(sess, target, promoted)
	if err != nil {
		return nil, err
	}
	promos, promisedList := promisedDigests(name, auto.target, recs, h)
	var found []removal
	for _, pd := range promisedList {
		if recordedRollback(name, auto.target, recs, h, pd.promo, pd.image.Digest) {
			continue
		}
		c, err := h.removedBy(sess, pd)
		if err != nil {
			return nil, err
		}
		if c == nil || byGate(h, promos, c) {
			continue
		}
		i := slices.IndexFunc(found, func(x removal) bool { return x.commit.Hash == c.Hash })
		if i < 0 {
			found = append(found, removal{commit: c})
			i = len(found) - 1
		}
		found[i].removed = append(found[i].removed, pd)
	}
	var written []taggedRecord
	for _, rm := range found {
		t, err := r.recordRollback(ctx, gate, auto, sess, rm)
		if err != nil {
			return written, err
		}
		written = append(written, *t)
	}
	return written, nil
}

// removedBy returns the newest commit of the history that removed pd's digest from
// its promotion's files, when the target no longer carries it; nil when it does,
// or when the removal lies beyond the history read.
func (h *history) removedBy(sess *git.Session, pd promised) (*object.Commit, error) {
	files, digest := pd.promo.rec.Files, pd.image.Digest
	if ok, err := h.carries(sess, h.commits[0].Hash.String(), files, digest); err != nil || ok {
		return nil, err
	}
	stop := h.pos(pd.promo.rec.Landed())
	for i := 1; i <= stop; i++ {
		ok, err := h.carries(sess, h.commits[i].Hash.String(), files, digest)
		if err != nil {
			return nil, err
		}
		if ok {
			return h.commits[i-1], nil
		}
	}
	return nil, nil // the promoted commit itself lacks it: nothing to name
}

// byGate reports whether commit c came onto the target inside one of the gate's
// promotions: after the head it replaced, up to the commit it promoted.
func byGate(h *history, promos []*taggedRecord, c *object.Commit) bool {
	at := h.pos(c.Hash.String())
	return slices.ContainsFunc(promos, func(p *taggedRecord) bool {
		end := h.pos(p.rec.RollbackCommit)
		if end < 0 {
			end = len(h.commits)
		}
		return h.pos(p.rec.Landed()) <= at && at < end
	})
}

// recordRollback writes the rollback record of one removal commit and sends the
// Warning event naming it, the digests and the release.
func (r *PromotionGateReconciler) recordRollback(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, rm removal) (*taggedRecord, error) {
	newest := rm.removed[0].promo
	var digests, files []string
	var images []record.Image
	for _, pd := range rm.removed {
		if h := pd.promo; h != newest && newer(h, newest) {
			newest = h
		}
		digests = append(digests, pd.image.Digest)
		images = append(images, pd.image)
		for _, f := range pd.promo.rec.Files {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	c := rm.commit
	rec := record.Record{
		Kind:        record.Rollback,
		Environment: newest.rec.Environment,
		Protected:   newest.rec.Protected,
		Repository:  git.Redact(auto.url),
		Branch:      auto.target,
		Commit:      c.Hash.String(),
		Files:       files,
		Images:      images,
		Rollback: &record.RollbackInfo{
			Gate:           gateName(gate),
			Author:         fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
			Subject:        strings.SplitN(c.Message, "\n", 2)[0],
			Digests:        digests,
			Promotion:      newest.tag.Name,
			PromotedCommit: newest.rec.Commit,
		},
		Time: r.now(),
	}
	if c.NumParents() > 0 {
		rec.RollbackCommit = c.ParentHashes[0].String()
	}
	tag, signed, err := r.writeRecord(ctx, gate, auto, sess, rec)
	if err != nil {
		return nil, &reasonError{reason: gatev1.RecordPendingReason, err: fmt.Errorf("record the rollback of %s by %s: %w", newest.tag.Name, short(rec.Commit), err)}
	}
	gate.Status.LastRecord = &gatev1.RecordRef{Tag: tag, Kind: string(rec.Kind), Commit: rec.Commit, Signed: signed}
	r.event(gate, corev1.EventTypeWarning, gatev1.RolledBackReason, rec.Commit,
		"%s rolled back on %s by %s (%s): %s; recorded as %s. The gate holds proposals bringing it back until released: %s",
		strings.Join(digests, ", "), auto.target, short(rec.Commit), rec.Rollback.Author, newest.tag.Name, tag, releaseHint(gate, digests))
	return &taggedRecord{tag: git.Tag{Name: tag, Commit: rec.Commit}, rec: rec}, nil
}

// newer orders records by time, then by tag name (names sort by number).
func newer(a, b *taggedRecord) bool {
	if !a.rec.Time.Equal(b.rec.Time) {
		return a.rec.Time.After(b.rec.Time)
	}
	return a.tag.Name > b.tag.Name
}

// activeRollbacks are the digests rolled back on branch under gate and not promoted
// again since (a promotion after the rollback, once released, ends the hold).
func activeRollbacks(gate, branch string, recs []taggedRecord) []gatev1.RolledBackDigest {
	var out []gatev1.RolledBackDigest
	for _, rb := range recs {
		if rb.rec.Kind != record.Rollback || rb.rec.Branch != branch || recordGate(rb.rec) != gate {
			continue
		}
		for _, d := range rb.rec.Rollback.Digests {
			again := slices.ContainsFunc(recs, func(p taggedRecord) bool {
				// newer, not Time.After: record times are whole seconds, and a release
				// promoted within the second of its rollback still ends the hold.
				return p.rec.Kind == record.Promotion && p.rec.Branch == branch && recordGate(p.rec) == gate &&
					newer(&p, &rb) && slices.Contains(p.rec.Digests(), d)
			})
			if again || slices.ContainsFunc(out, func(x gatev1.RolledBackDigest) bool { return x.Digest == d }) {
				continue
			}
			item := gatev1.RolledBackDigest{Digest: d, RevertCommit: rb.rec.Commit, Author: rb.rec.Rollback.Author, Tag: rb.tag.Name}
			for _, img := range rb.rec.Images {
				if img.Digest == d {
					item.Image = img.Reference
				}
			}
			out = append(out, item)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out
}

// rolledBack returns the rolled-back digests a proposal brings back that neither the
// gate's annotation nor a live policy exemption from policy.RolledBackRule releases,
// and one line per release, for the event and the promotion record.
func rolledBack(gate *gatev1.PromotionGate, set *policy.Set, images []string, now time.Time) (held []gatev1.RolledBackDigest, releases []string) {
	annotated := map[string]bool{}
	for _, d := range strings.Split(gate.GetAnnotations()[gatev1.ReleaseRollbackAnnotation], ",") {
		annotated[strings.TrimSpace(d)] = true
	}
	for _, img := range images {
		d := record.ImageOf(img).Digest
		for _, rb := range gate.Status.RolledBack {
			if rb.Digest != d || slices.Contains(held, rb) {
				continue
			}
			var line string
			if ex, ok := set.RolledBackRelease(img, d, now); ok {
				line = fmt.Sprintf("rolled-back %s released by policy exemption from %s (owner %s: %s)", d, policy.RolledBackRule, ex.Owner, ex.Reason)
			} else if annotated[d] {
				line = fmt.Sprintf("rolled-back %s released by annotation %s", d, gatev1.ReleaseRollbackAnnotation)
			} else {
				held = append(held, rb)
				continue
			}
			if !slices.Contains(releases, line) {
				releases = append(releases, line)
			}
		}
	}
	return held, releases
}

// rolledBackMessage is the Ready message and Warning event of a proposal held
// because it brings back a rolled-back digest.
func rolledBackMessage(gate *gatev1.PromotionGate, auto *automation, proposal string, held []gatev1.RolledBackDigest) string {
	parts := make([]string, 0, len(held))
	digests := make([]string, 0, len(held))
	for _, rb := range held {
		parts = append(parts, fmt.Sprintf("%s (%s) was rolled back on %s by commit %s of %s, record %s",
			rb.Digest, rb.Image, auto.target, rb.RevertCommit, rb.Author, rb.Tag))
		digests = append(digests, rb.Digest)
	}
	return fmt.Sprintf("holding %s on %s: it brings back a rolled-back digest: %s. To promote it again: %s",
		short(proposal), auto.proposal, strings.Join(parts, "; "), releaseHint(gate, digests))
}

func releaseHint(gate *gatev1.PromotionGate, digests []string) string {
	return fmt.Sprintf("kubectl -n %s annotate --overwrite promotiongate %s %s=%s (or a policy exemption from rule %s naming the digest)",
		gate.Namespace, gate.Name, gatev1.ReleaseRollbackAnnotation, strings.Join(digests, ","), policy.RolledBackRule)
}

// releaseAnnotationChanged lets a change of the release annotation (which does not
// change the generation) trigger the gate at once.
type releaseAnnotationChanged struct{ predicate.Funcs }

func (releaseAnnotationChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return false
	}
	return e.ObjectOld.GetAnnotations()[gatev1.ReleaseRollbackAnnotation] != e.ObjectNew.GetAnnotations()[gatev1.ReleaseRollbackAnnotation]
}
