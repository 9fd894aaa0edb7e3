package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// maxRollbackWalk bounds the first-parent walk from the target head back to the
// last promotion when looking for the commit that removed a digest.
const maxRollbackWalk = 500

// maxRecordFileBytes bounds a file read to look for a digest.
const maxRecordFileBytes = 4 << 20

// reconcileRecords brings the records up to date before anything else happens on
// the target: it finishes a pending promotion record, records a rollback of the
// gate's last promotion when its digests left the target branch, and lists in status
// the digests held as rolled back.
func (r *PromotionGateReconciler) reconcileRecords(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target string) error {
	if err := r.finishPendingRecord(ctx, gate, auto, sess, target); err != nil {
		return err
	}
	recs, err := readRecords(sess)
	if err != nil {
		return &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	written, err := r.detectRollback(ctx, gate, auto, sess, target, recs)
	if err != nil {
		return err
	}
	if written != nil {
		recs = append(recs, *written)
	}
	gate.Status.RolledBack = activeRollbacks(gateName(gate), auto.target, recs)
	return nil
}

// detectRollback looks at the gate's last promotion on the target: when a digest it
// promoted is no longer in the files it changed, a person rolled it back. The commit
// that removed it is found on the first-parent history, and the rollback is written
// as a record on it (once).
func (r *PromotionGateReconciler) detectRollback(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target string, recs []taggedRecord) (*taggedRecord, error) {
	name := gateName(gate)
	var last *taggedRecord
	for i := range recs {
		t := &recs[i]
		if t.rec.Kind == record.Promotion && t.rec.Branch == auto.target && recordGate(t.rec) == name && (last == nil || newer(t, last)) {
			last = t
		}
	}
	if last == nil || last.rec.Commit == target || len(last.rec.Digests()) == 0 {
		return nil, nil
	}
	for _, t := range recs {
		if t.rec.Kind == record.Rollback && recordGate(t.rec) == name && t.rec.Rollback.PromotedCommit == last.rec.Commit {
			return nil, nil // recorded already
		}
	}
	if ok, err := sess.IsAncestor(last.rec.Commit, target); err != nil || !ok {
		// History was rewritten past the promotion: there is no commit to name.
		return nil, nil
	}
	missing, err := absent(sess, target, last.rec.Files, last.rec.Digests())
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	chain, err := sess.FirstParents(target, last.rec.Commit, maxRollbackWalk)
	if err != nil {
		return nil, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	var removal *object.Commit
	for i := len(chain) - 1; i >= 0 && removal == nil; i-- {
		if chain[i].Hash.String() == last.rec.Commit {
			continue
		}
		gone, err := absent(sess, chain[i].Hash.String(), last.rec.Files, missing)
		if err != nil {
			return nil, err
		}
		if len(gone) > 0 {
			removal = chain[i]
		}
	}
	if removal == nil {
		return nil, nil // beyond the walk's bound: nothing to name
	}
	rec := record.Record{
		Kind:        record.Rollback,
		Environment: last.rec.Environment,
		Protected:   last.rec.Protected,
		Repository:  git.Redact(auto.url),
		Branch:      auto.target,
		Commit:      removal.Hash.String(),
		Files:       last.rec.Files,
		Rollback: &record.RollbackInfo{
			Gate:           name,
			Author:         fmt.Sprintf("%s <%s>", removal.Author.Name, removal.Author.Email),
			Subject:        strings.SplitN(removal.Message, "\n", 2)[0],
			Digests:        missing,
			Promotion:      last.tag.Name,
			PromotedCommit: last.rec.Commit,
		},
		Time: r.now(),
	}
	if removal.NumParents() > 0 {
		rec.RollbackCommit = removal.ParentHashes[0].String()
	}
	for _, img := range last.rec.Images {
		if slices.Contains(missing, img.Digest) {
			rec.Images = append(rec.Images, img)
		}
	}
	tag, signed, err := r.writeRecord(ctx, gate, auto, sess, rec)
	if err != nil {
		return nil, &reasonError{reason: gatev1.RecordPendingReason, err: fmt.Errorf("record the rollback of %s by %s: %w", last.tag.Name, short(rec.Commit), err)}
	}
	gate.Status.LastRecord = &gatev1.RecordRef{Tag: tag, Kind: string(rec.Kind), Commit: rec.Commit, Signed: signed}
	r.event(gate, corev1.EventTypeWarning, gatev1.RolledBackReason, rec.Commit,
		"%s rolled back on %s by %s (%s): %s; recorded as %s. The gate holds proposals bringing it back until released: %s",
		strings.Join(missing, ", "), auto.target, short(rec.Commit), rec.Rollback.Author, last.tag.Name, tag, releaseHint(gate, missing))
	return &taggedRecord{tag: git.Tag{Name: tag, Commit: rec.Commit}, rec: rec}, nil
}

// newer orders records by time, then by tag name (names sort by number).
func newer(a, b *taggedRecord) bool {
	if !a.rec.Time.Equal(b.rec.Time) {
		return a.rec.Time.After(b.rec.Time)
	}
	return a.tag.Name > b.tag.Name
}

// absent returns the digests none of files holds at commit; a file that is gone
// holds nothing.
func absent(sess *git.Session, commit string, files, digests []string) ([]string, error) {
	var contents [][]byte
	for _, f := range files {
		b, err := sess.ReadFile(commit, f, maxRecordFileBytes)
		if errors.Is(err, git.ErrFileNotFound) {
			continue
		}
		if err != nil {
			return nil, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
		}
		contents = append(contents, b)
	}
	var out []string
	for _, d := range digests {
		if !slices.ContainsFunc(contents, func(b []byte) bool { return bytes.Contains(b, []byte(d)) }) {
			out = append(out, d)
		}
	}
	return out, nil
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
				return p.rec.Kind == record.Promotion && p.rec.Branch == branch && recordGate(p.rec) == gate &&
					p.rec.Time.After(rb.rec.Time) && slices.Contains(p.rec.Digests(), d)
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

// rolledBack returns the rolled-back digests a proposal brings back that the gate's
// annotation does not release.
func rolledBack(gate *gatev1.PromotionGate, res evaluate.Result) []gatev1.RolledBackDigest {
	released := map[string]bool{}
	for _, d := range strings.Split(gate.GetAnnotations()[gatev1.ReleaseRollbackAnnotation], ",") {
		released[strings.TrimSpace(d)] = true
	}
	var out []gatev1.RolledBackDigest
	for _, img := range imageList(res) {
		d := record.ImageOf(img).Digest
		for _, rb := range gate.Status.RolledBack {
			if rb.Digest == d && !released[d] && !slices.Contains(out, rb) {
				out = append(out, rb)
			}
		}
	}
	return out
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
	return fmt.Sprintf("kubectl -n %s annotate --overwrite promotiongate %s %s=%s",
		gate.Namespace, gate.Name, gatev1.ReleaseRollbackAnnotation, strings.Join(digests, ","))
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
