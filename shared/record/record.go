// Package record is the promotion record: what flux-gate writes into the message of
// an annotated Git tag on every commit it promotes (and on every rollback it sees),
// and what `promotion-gate history` reads back. A record answers the four questions
// of an audit without CI logs — what artifact was promoted, which desired-state files
// changed, who or what approved it, which commit rolls it back.
//
// A tag message holds a subject line, a small YAML block between "---" and "..." for
// programs, then prose for people (Markdown). Parse reads only the YAML block: the
// prose is derived from it and may be reworded without breaking readers.
package record

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Version is the record format written by Marshal; Parse accepts it alone, so that a
// future format is refused by name instead of half-read.
const Version = "promotion-gate.io/record/v1"

// MaxSize bounds a record Parse reads: a tag message is written by whoever can push
// tags, so its size is not trusted.
const MaxSize = 256 << 10

// Kind says what a record is about.
type Kind string

const (
	// Promotion: a gate fast-forwarded a branch to an evaluated commit.
	Promotion Kind = "promotion"
	// Rollback: a digest the gate promoted left the branch (a revert, or the file
	// changed back); the gate holds it from then on until released.
	Rollback Kind = "rollback"
)

// Record is one promotion or rollback.
type Record struct {
	// Format is Version.
	Format string `json:"format" yaml:"format"`
	Kind   Kind   `json:"kind" yaml:"kind"`
	// Environment is the policy environment the change was judged as.
	Environment string `json:"environment" yaml:"environment"`
	Protected   bool   `json:"protected,omitempty" yaml:"protected,omitempty"`
	// Repository is the repository URL, without credentials.
	Repository string `json:"repository,omitempty" yaml:"repository,omitempty"`
	// Branch is the branch that moved (the target).
	Branch string `json:"branch" yaml:"branch"`
	// Commit is the commit the tag points at: for a promotion, exactly the commit
	// evaluated and pushed; for a rollback, the commit that removed the digest.
	Commit string `json:"commit" yaml:"commit"`
	// RollbackCommit is the branch head this change replaced: `git reset`/`git revert`
	// back to it undoes the change. Empty only for a branch's first commit.
	RollbackCommit string `json:"rollbackCommit" yaml:"rollbackCommit"`
	// Images are the images the change brought (promotion) or removed (rollback).
	Images []Image `json:"images,omitempty" yaml:"images,omitempty"`
	// Files are the repository-relative files the change touched.
	Files []string `json:"files,omitempty" yaml:"files,omitempty"`
	// Verdict is the policy's verdict (promotions only).
	Verdict *Verdict `json:"verdict,omitempty" yaml:"verdict,omitempty"`
	// Approval is who or what let the change through (promotions only).
	Approval *Approval `json:"approval,omitempty" yaml:"approval,omitempty"`
	// Rollback describes a rollback (rollback records only).
	Rollback *RollbackInfo `json:"rollback,omitempty" yaml:"rollback,omitempty"`
	// Time is when the record was made.
	Time time.Time `json:"time" yaml:"time"`
}

// Image is one image reference with its digest split out, for searching by digest.
type Image struct {
	Reference string `json:"reference" yaml:"reference"`
	Digest    string `json:"digest,omitempty" yaml:"digest,omitempty"`
}

// Verdict is the policy's verdict on the promoted commit.
type Verdict struct {
	// Result is Allowed or Warned (a denied commit is never promoted).
	Result string `json:"result" yaml:"result"`
	// Policy names the policy sources merged (ConfigMap/key or files).
	Policy []string `json:"policy,omitempty" yaml:"policy,omitempty"`
	// PolicyRevision is the digest of the merged policy.
	PolicyRevision string `json:"policyRevision" yaml:"policyRevision"`
	// RulesPassed are the environment's rules with no finding.
	RulesPassed []string `json:"rulesPassed,omitempty" yaml:"rulesPassed,omitempty"`
	// Warnings are the warn findings let through, one line each.
	Warnings []string `json:"warnings,omitempty" yaml:"warnings,omitempty"`
}

// Approval is who or what let the promotion through.
type Approval struct {
	// Gate is the PromotionGate, namespace/name.
	Gate string `json:"gate" yaml:"gate"`
	// Identity is who the gate acted as: flux-gate's --identity, by default its
	// service account as the API server names it (system:serviceaccount:<ns>:<name>),
	// "flux-gate" when that is unknown.
	Identity string `json:"identity" yaml:"identity"`
	// Proposal is the automation's proposal branch, when the gate promotes an
	// automation's pushes.
	Proposal string `json:"proposal,omitempty" yaml:"proposal,omitempty"`
	// Source is the source branch head, for a branch-to-branch promotion.
	Source *Source `json:"source,omitempty" yaml:"source,omitempty"`
	// PullRequest is the pull request a person merged, when the gate promotes through
	// pull requests (it never writes the target then): the person's name answers who
	// approved. Optional, so records written before it still read the same.
	PullRequest *PullRequest `json:"pullRequest,omitempty" yaml:"pullRequest,omitempty"`
}

// PullRequest is the forge's pull request (GitLab: merge request) that landed a
// promotion, as the forge reported it when the gate saw it merged.
type PullRequest struct {
	// Number is the pull request number (GitLab: the merge request IID).
	Number int64 `json:"number" yaml:"number"`
	// URL is its web page.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// MergedBy is the forge login of the person who merged it; empty while it is not
	// merged (the record a pull request's body shows) or when the forge did not say.
	MergedBy string `json:"mergedBy,omitempty" yaml:"mergedBy,omitempty"`
	// ApprovedBy are the forge logins whose approvals stood when it was merged.
	ApprovedBy []string `json:"approvedBy,omitempty" yaml:"approvedBy,omitempty"`
	// MergeCommit is the commit the forge made when it merged with a merge commit (the
	// record's commit is then its second parent); empty for a fast-forward.
	MergeCommit string `json:"mergeCommit,omitempty" yaml:"mergeCommit,omitempty"`
	// RollbackFrom says how the record's rollbackCommit is known, because a
	// fast-forward merge does not say which head it replaced: RollbackFromMergeCommit
	// (the merge commit's first parent: exact) or RollbackFromLastJudged (the target
	// head the gate judged the proposal against: exact unless the target moved between
	// the verdict and the merge).
	RollbackFrom string `json:"rollbackFrom,omitempty" yaml:"rollbackFrom,omitempty"`
}

// How a pull request record's rollbackCommit is known (PullRequest.RollbackFrom).
const (
	RollbackFromMergeCommit = "merge-commit"
	RollbackFromLastJudged  = "last-judged-target"
)

// Landed is the commit the record's change put on its branch's first-parent line:
// the merge commit when a pull request was merged with one, else the record's commit.
func (r Record) Landed() string {
	if a := r.Approval; a != nil && a.PullRequest != nil && a.PullRequest.MergeCommit != "" {
		return a.PullRequest.MergeCommit
	}
	return r.Commit
}

// Source is the head of the branch promoted from.
type Source struct {
	Branch string `json:"branch" yaml:"branch"`
	Commit string `json:"commit" yaml:"commit"`
	// Author is "Name <email>" of the head commit.
	Author string `json:"author,omitempty" yaml:"author,omitempty"`
	// Signer is who signed the head commit, when its signature verified; empty when
	// unsigned or not verified.
	Signer string `json:"signer,omitempty" yaml:"signer,omitempty"`
}

// RollbackInfo says what was rolled back, and by whom.
type RollbackInfo struct {
	// Gate is the PromotionGate, namespace/name, that promoted the digests and holds
	// them from now on.
	Gate string `json:"gate" yaml:"gate"`
	// Author is "Name <email>" of the commit that removed the digests.
	Author string `json:"author" yaml:"author"`
	// Subject is that commit's subject line.
	Subject string `json:"subject,omitempty" yaml:"subject,omitempty"`
	// Digests are the digests that left the branch.
	Digests []string `json:"digests" yaml:"digests"`
	// Promotion is the tag of the promotion rolled back, when known.
	Promotion string `json:"promotion,omitempty" yaml:"promotion,omitempty"`
	// PromotedCommit is the commit that promotion pushed.
	PromotedCommit string `json:"promotedCommit,omitempty" yaml:"promotedCommit,omitempty"`
}

// Digests returns the distinct digests of the record's images, in order.
func (r Record) Digests() []string {
	var out []string
	seen := map[string]bool{}
	for _, img := range r.Images {
		if img.Digest != "" && !seen[img.Digest] {
			seen[img.Digest] = true
			out = append(out, img.Digest)
		}
	}
	if r.Rollback != nil {
		for _, d := range r.Rollback.Digests {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// ImageOf splits a reference's digest out ("repo:tag@sha256:…" → digest "sha256:…").
func ImageOf(ref string) Image {
	img := Image{Reference: ref}
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		img.Digest = ref[i+1:]
	}
	return img
}

const (
	blockStart = "---"
	blockEnd   = "..."
)

// Marshal writes the tag message: the subject, the YAML block, then the prose.
func Marshal(r Record) ([]byte, error) {
	r.Format = Version
	if err := r.validate(); err != nil {
		return nil, err
	}
	r.Time = r.Time.UTC().Truncate(time.Second)
	var y bytes.Buffer
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(Subject(r))
	b.WriteString("\n\n" + blockStart + "\n")
	b.Write(y.Bytes())
	b.WriteString(blockEnd + "\n\n")
	b.WriteString(Markdown(r))
	return b.Bytes(), nil
}

// ErrNoRecord is returned by Parse for a message that holds no record block: a tag
// that someone else made.
var ErrNoRecord = errors.New("no promotion record in the message")

// Parse reads the record of a tag message. It returns ErrNoRecord when the message
// has no record block, and an error naming the problem when the block is malformed,
// of another format version, or misses a required field.
func Parse(msg []byte) (Record, error) {
	if len(msg) > MaxSize {
		return Record{}, fmt.Errorf("record of %d bytes is larger than the %d bytes a record may be", len(msg), MaxSize)
	}
	block, ok := findBlock(string(msg))
	if !ok {
		return Record{}, ErrNoRecord
	}
	var r Record
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("read record: %w", err)
	}
	if r.Format != Version {
		return Record{}, fmt.Errorf("record format %q: this version reads %q; upgrade promotion-gate", r.Format, Version)
	}
	if err := r.validate(); err != nil {
		return Record{}, err
	}
	r.Time = r.Time.UTC()
	return r, nil
}

// findBlock returns the text between the first line "---" and the next line "...".
// A subject line or a signature around it does not matter.
func findBlock(msg string) (string, bool) {
	lines := strings.SplitAfter(msg, "\n")
	start := -1
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if start < 0 {
			if t == blockStart {
				start = i + 1
			}
			continue
		}
		if t == blockEnd {
			return strings.Join(lines[start:i], ""), true
		}
	}
	return "", false
}

func (r Record) validate() error {
	var missing []string
	if r.Kind != Promotion && r.Kind != Rollback {
		return fmt.Errorf("record kind %q: want %q or %q", r.Kind, Promotion, Rollback)
	}
	if r.Branch == "" {
		missing = append(missing, "branch")
	}
	if !isHash(r.Commit) {
		missing = append(missing, "commit")
	}
	if r.RollbackCommit != "" && !isHash(r.RollbackCommit) {
		return fmt.Errorf("record rollbackCommit %q is not a commit hash", r.RollbackCommit)
	}
	if a := r.Approval; a != nil && a.PullRequest != nil && a.PullRequest.MergeCommit != "" && !isHash(a.PullRequest.MergeCommit) {
		return fmt.Errorf("record approval.pullRequest.mergeCommit %q is not a commit hash", a.PullRequest.MergeCommit)
	}
	if r.Time.IsZero() {
		missing = append(missing, "time")
	}
	if r.Kind == Rollback && (r.Rollback == nil || len(r.Rollback.Digests) == 0) {
		missing = append(missing, "rollback.digests")
	}
	if r.Kind == Promotion && r.Verdict == nil {
		missing = append(missing, "verdict")
	}
	if len(missing) > 0 {
		return fmt.Errorf("record misses %s", strings.Join(missing, ", "))
	}
	return nil
}

// isHash accepts a full SHA-1 or SHA-256 object name.
func isHash(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
