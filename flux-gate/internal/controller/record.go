package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/fluxcd/pkg/git/signature"
	"github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

// maxTagAttempts bounds the retries of a record tag whose name another writer took
// first; each attempt takes the next number.
const maxTagAttempts = 5

// Tagger is who the record tags are written by.
var tagger = object.Signature{Name: ControllerName, Email: ControllerName + "@promotion-gate.io"}

// promotionRecord builds the record of promoting proposal over target: what, which
// files, the verdict and who approved, and the rollback commit.
func (r *PromotionGateReconciler) promotionRecord(gate *gatev1.PromotionGate, auto *automation, sess *git.Session,
	set *policy.Set, out check.PromotionOutcome, target, proposal string) record.Record {
	res := out.Result
	rec := record.Record{
		Kind:           record.Promotion,
		Environment:    res.Environment,
		Protected:      res.Protected,
		Repository:     git.Redact(auto.url),
		Branch:         auto.target,
		Commit:         proposal,
		RollbackCommit: target,
		Files:          out.Files,
		Verdict: &record.Verdict{
			Result:         string(res.Verdict),
			PolicyRevision: res.PolicyRevision,
			RulesPassed:    rulesPassed(set, res),
		},
		Approval: &record.Approval{
			Gate:     gate.Namespace + "/" + gate.Name,
			Identity: r.identity(),
		},
		Time: r.now(),
	}
	if set != nil {
		rec.Verdict.Policy = set.Sources
	}
	for _, img := range imageList(res) {
		rec.Images = append(rec.Images, record.ImageOf(img))
	}
	for _, f := range res.Findings {
		if f.Enforcement == policy.Warn {
			rec.Verdict.Warnings = append(rec.Verdict.Warnings, fmt.Sprintf("%s: %s (%s)", f.Rule, f.Message, f.Source.File))
		}
	}
	r.approvalSource(rec.Approval, auto, sess, proposal)
	return rec
}

// approvalSource says what the gate promoted from: the source branch head (with its
// author and what signed it) for a branch promotion, the proposal branch otherwise.
func (r *PromotionGateReconciler) approvalSource(a *record.Approval, auto *automation, sess *git.Session, proposal string) {
	if !auto.branchSource {
		a.Proposal = auto.proposal
		return
	}
	src := &record.Source{Branch: auto.proposal, Commit: proposal}
	if c, err := sess.Commit(proposal); err == nil {
		src.Author = fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email)
		src.Signer = signerOf(c.PGPSignature)
	}
	a.Source = src
}

// evaluationRecord builds the promotion record of the proposal the gate last judged
// (status.lastEvaluation), in pullRequest mode, where a person's merge promotes it
// after the verdict: the pull request body shows it before the merge, the record
// tag holds it after. The rollback commit is the target head the proposal was
// judged against; recordMerge makes it exact when the forge made a merge commit.
func (r *PromotionGateReconciler) evaluationRecord(gate *gatev1.PromotionGate, auto *automation, sess *git.Session,
	set *policy.Set, ev *gatev1.Evaluation, pr *record.PullRequest) record.Record {
	rec := record.Record{
		Kind:           record.Promotion,
		Environment:    ev.Environment,
		Protected:      ev.Protected,
		Repository:     git.Redact(auto.url),
		Branch:         auto.target,
		Commit:         ev.Commit,
		RollbackCommit: ev.TargetCommit,
		Files:          ev.Files,
		Verdict:        &record.Verdict{Result: ev.Verdict, PolicyRevision: ev.PolicyRevision},
		Approval:       &record.Approval{Gate: gateName(gate), Identity: r.identity(), PullRequest: pr},
		Time:           r.now(),
	}
	r.approvalSource(rec.Approval, auto, sess, ev.Commit)
	for _, img := range ev.Images {
		rec.Images = append(rec.Images, record.ImageOf(img))
	}
	var failed []string
	for _, f := range ev.Findings {
		failed = append(failed, f.Rule)
		if f.Enforcement == string(policy.Warn) {
			rec.Verdict.Warnings = append(rec.Verdict.Warnings, fmt.Sprintf("%s: %s (%s)", f.Rule, f.Message, f.File))
		}
	}
	// The rules passed are named only from the policy that judged, and only when
	// status kept every finding: a guess would tell an auditor a rule passed.
	if set != nil && set.Revision == ev.PolicyRevision {
		rec.Verdict.Policy = set.Sources
		if len(ev.Findings) < maxStatusFindings {
			for _, rule := range set.RulesFor(ev.Environment) {
				if !slices.Contains(failed, rule.Name) {
					rec.Verdict.RulesPassed = append(rec.Verdict.RulesPassed, rule.Name)
				}
			}
		}
	}
	return rec
}

// signerOf says what signed a commit when the gate has no key to verify it with: the
// signature's kind. The policy's commitSignatures rules are where signers are
// verified; the record keeps what the commit claims.
func signerOf(sig string) string {
	switch t := signature.GetSignatureType(sig); t {
	case "empty", "unknown":
		return ""
	default:
		return t + " signature (verify with the policy's commitSignatures rule)"
	}
}

// rulesPassed are the rules of the result's environment with no finding.
func rulesPassed(set *policy.Set, res evaluate.Result) []string {
	if set == nil {
		return nil
	}
	var out []string
	for _, rule := range set.RulesFor(res.Environment) {
		if !slices.ContainsFunc(res.Findings, func(f evaluate.Finding) bool { return f.Rule == rule.Name }) {
			out = append(out, rule.Name)
		}
	}
	return out
}

func (r *PromotionGateReconciler) identity() string {
	if r.Identity != "" {
		return r.Identity
	}
	return ControllerName
}

// setPendingRecord writes the record to status before the branch push, so that a
// restart between the push and the tag finishes it.
func setPendingRecord(gate *gatev1.PromotionGate, rec record.Record) error {
	msg, err := record.Marshal(rec)
	if err != nil {
		return fmt.Errorf("write promotion record: %w", err)
	}
	gate.Status.PendingRecord = &gatev1.PendingRecord{Commit: rec.Commit, PreviousCommit: rec.RollbackCommit, Message: string(msg)}
	return nil
}

// finishPendingRecord writes the pending record's tag when its commit reached the
// target branch, and drops it when the push never happened. An error leaves it
// pending (in status) for the next run.
func (r *PromotionGateReconciler) finishPendingRecord(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target string) error {
	p := gate.Status.PendingRecord
	if p == nil {
		return nil
	}
	rec, err := record.Parse([]byte(p.Message))
	if err != nil {
		gate.Status.PendingRecord = nil // not ours to repair: a record we wrote always parses
		return fmt.Errorf("pending record of %s does not parse, dropped: %w", short(p.Commit), err)
	}
	reached, err := sess.IsAncestor(p.Commit, target)
	if err != nil {
		return &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	if !reached {
		ctrl.LoggerFrom(ctx).Info("dropping the record of a push that did not happen", "commit", p.Commit)
		gate.Status.PendingRecord = nil
		return nil
	}
	tag, signed, err := r.writeRecord(ctx, gate, auto, sess, rec)
	if err != nil {
		p.Error = err.Error()
		return &reasonError{reason: gatev1.RecordPendingReason, err: fmt.Errorf("%s is promoted but its record is pending: %w", short(p.Commit), err)}
	}
	gate.Status.PendingRecord = nil
	gate.Status.LastRecord = &gatev1.RecordRef{Tag: tag, Kind: string(rec.Kind), Commit: rec.Commit, Signed: signed}
	return nil
}

// writeRecord pushes the record as an annotated tag on its commit, named from the
// gate's template with the next free number; a name another writer takes first is
// retried with the next one. A record of the same commit and kind by this gate
// already in the repository (a run that pushed the tag but stopped before its status
// was written) is not written twice.
func (r *PromotionGateReconciler) writeRecord(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, rec record.Record) (string, bool, error) {
	if existing, err := findRecord(sess, gate, rec); err != nil || existing != nil {
		if existing != nil {
			return existing.Name, existing.Signature != "", nil
		}
		return "", false, err
	}
	msg, err := record.Marshal(rec)
	if err != nil {
		return "", false, err
	}
	sign, err := r.recordSigner(ctx, gate)
	if err != nil {
		return "", false, err
	}
	tmpl := ""
	if gate.Spec.Record != nil {
		tmpl = gate.Spec.Record.TagTemplate
	}
	vars := record.TagVars{Env: rec.Environment, Branch: rec.Branch, Gate: gate.Name, Kind: rec.Kind, Time: rec.Time}
	var taken []string
	for range maxTagAttempts {
		names, err := sess.TagNames()
		if err != nil {
			return "", false, err
		}
		name, err := record.NextTag(tmpl, vars, append(names, taken...))
		if err != nil {
			return "", false, err
		}
		err = sess.PushTag(ctx, git.NewTag{Name: name, Commit: rec.Commit, Message: string(msg), Tagger: taggerAt(rec), Sign: sign})
		if errors.Is(err, git.ErrTagExists) {
			taken = append(taken, name)
			continue
		}
		if err != nil {
			return "", false, err
		}
		return name, sign != nil, nil
	}
	return "", false, fmt.Errorf("record tag: %d names taken by other writers in a row (%s); will try again", maxTagAttempts, strings.Join(taken, ", "))
}

func taggerAt(rec record.Record) object.Signature {
	t := tagger
	t.When = rec.Time
	return t
}

// findRecord returns this gate's record tag of rec's kind on rec's commit, if any.
func findRecord(sess *git.Session, gate *gatev1.PromotionGate, rec record.Record) (*git.Tag, error) {
	recs, err := readRecords(sess)
	if err != nil {
		return nil, err
	}
	for _, t := range recs {
		if t.rec.Kind == rec.Kind && t.rec.Commit == rec.Commit && t.rec.Branch == rec.Branch && recordGate(t.rec) == gateName(gate) {
			return &t.tag, nil
		}
	}
	return nil, nil
}

// taggedRecord is a record read from a tag.
type taggedRecord struct {
	tag git.Tag
	rec record.Record
}

// readRecords parses every annotated tag of the clone that holds a record; other
// tags are not the gate's concern.
func readRecords(sess *git.Session) ([]taggedRecord, error) {
	tags, err := sess.Tags("")
	if err != nil {
		return nil, err
	}
	var out []taggedRecord
	for _, t := range tags {
		rec, err := record.Parse([]byte(t.Message))
		if err != nil {
			continue
		}
		out = append(out, taggedRecord{tag: t, rec: rec})
	}
	return out, nil
}

// recordGate is the gate that wrote a record.
func recordGate(rec record.Record) string {
	switch {
	case rec.Approval != nil:
		return rec.Approval.Gate
	case rec.Rollback != nil:
		return rec.Rollback.Gate
	}
	return ""
}

func gateName(gate *gatev1.PromotionGate) string { return gate.Namespace + "/" + gate.Name }

// recordSigner reads the signing key Secret, from the policy namespace, and returns
// the function that signs a tag payload; nil when the gate has no signing key.
func (r *PromotionGateReconciler) recordSigner(ctx context.Context, gate *gatev1.PromotionGate) (func([]byte) ([]byte, error), error) {
	if gate.Spec.Record == nil || gate.Spec.Record.SigningKeyRef == nil || gate.Spec.Record.SigningKeyRef.Name == "" {
		return nil, nil
	}
	key := types.NamespacedName{Namespace: r.PolicyNamespace, Name: gate.Spec.Record.SigningKeyRef.Name}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		return nil, fmt.Errorf("read record signing key Secret %s: %w (it lives in the policy namespace)", key, err)
	}
	var s signature.Signer
	switch {
	case len(secret.Data["git.asc"]) > 0:
		ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(secret.Data["git.asc"]))
		if err != nil || len(ents) == 0 {
			return nil, fmt.Errorf("record signing key Secret %s: git.asc is not an armored OpenPGP private key: %v", key, err)
		}
		e := ents[0]
		if pass := secret.Data["passphrase"]; e.PrivateKey != nil && e.PrivateKey.Encrypted {
			if err := e.DecryptPrivateKeys(pass); err != nil {
				return nil, fmt.Errorf("record signing key Secret %s: decrypt git.asc with passphrase: %w", key, err)
			}
		}
		if e.PrivateKey == nil {
			return nil, fmt.Errorf("record signing key Secret %s: git.asc holds a public key; give the private key", key)
		}
		if s, err = signature.NewOpenPGPSigner(e); err != nil {
			return nil, err
		}
	case len(secret.Data["identity"]) > 0:
		var err error
		if s, err = signature.NewSSHSigner(secret.Data["identity"], secret.Data["passphrase"]); err != nil {
			return nil, fmt.Errorf("record signing key Secret %s: identity: %w", key, err)
		}
	default:
		return nil, fmt.Errorf("record signing key Secret %s has neither git.asc (OpenPGP) nor identity (SSH)", key)
	}
	return func(payload []byte) ([]byte, error) { return s.Sign(bytes.NewReader(payload)) }, nil
}
