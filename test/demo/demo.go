// Package demo plays the promotion-gate story end to end on one machine, with real parts:
// a kube-apiserver and etcd (controller-runtime envtest), a Git server
// (fluxcd/pkg/gittestserver) holding examples/platform-config, an OCI registry
// (go-containerregistry) holding three payments-api images, two of them signed, the
// flux-gate binary running against the API server with the chart's RBAC and policy
// ConfigMaps, and Argo CD's argocd-cmp-server running the argocd-promotion-gate plugin.
//
// Two components that a real cluster would run are played by the demo, and its output
// says so where it happens: Flux's image-automation-controller (its push to the proposal
// branch and its status.lastPushCommit) and Argo CD's repo-server (streaming a checkout to
// the sidecar, with the cmp-client stand-in built from argo-cd's own client code).
//
// For the signature checks the registry answers as ghcr.io (the name the example
// repository uses) to flux-gate and the sidecar, through a proxy and a CA made for the
// run, and the release pipeline's signatures are real Sigstore bundles made with a key
// pair and an in-process transparency log made for the run (registry.go, signing.go).
//
// The same story is the promotion-gate-demo command (make demo) and a Go test that
// asserts each step (demo_test.go).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Config says where the parts of the demo are.
type Config struct {
	// RepoRoot is the promotion-gate repository: examples/, charts/, flux-gate/config.
	RepoRoot string
	// Assets is the directory holding kube-apiserver and etcd (KUBEBUILDER_ASSETS).
	Assets string
	// FluxGate is the flux-gate binary.
	FluxGate string
	// Plugin is the argocd-promotion-gate binary.
	Plugin string
	// ArgoCDBin is the directory holding argocd-cmp-server and cmp-client
	// (PROMOTION_GATE_ARGOCD_BIN, built by hack/argocd-harness.sh).
	ArgoCDBin string
	// Out receives the story.
	Out io.Writer
	// Timeout bounds every wait (default 3 minutes: a loaded machine is slow).
	Timeout time.Duration
}

// Report is the evidence of every step, for the test to assert on.
type Report struct {
	GitURL      string            // the platform repository on the Git server
	InitialMain string            // main as pushed from examples/platform-config
	Digests     map[string]string // payments-api tag -> digest, as the registry reports it
	Signatures  map[string]string // payments-api tag -> digest of the signature bundle attached at start
	Promoted    Promotion
	Held        Hold
	Render      Render
	Refusal     Refusal
	Rollback    Rollback
	SupplyChain SupplyChain
	Records     Records // chapter 8: the history (records.go)
	// PullRequests is chapter 9: pull-request mode on a real Gitea (pullrequest.go).
	PullRequests PullRequests
	// Authorized and Refused count the requests the registry, as ghcr.io, served with
	// the pull secret's credentials and turned away without them.
	Authorized, Refused int
}

// Promotion is step 1: a proposal by digest, promoted.
type Promotion struct {
	Proposal    string   // the commit the demo pushed as IAC
	MainAfter   string   // main after flux-gate promoted
	ReadyReason string   // the gate's Ready reason
	ReadyStatus string   // the gate's Ready status
	Images      []string // status.lastPromotion.images
	// SignatureReads counts the requests for the referrers of the promoted digest
	// (where its signature is) that the registry served before the gate promoted it:
	// since the start in step 1, since the signing in step 7.
	SignatureReads int
}

// Hold is step 2: a proposal with :latest, held.
type Hold struct {
	Proposal        string // the commit the demo pushed as IAC
	MainAfter       string // main afterwards (unchanged)
	ProposalBranch  string // the proposal branch head afterwards (the held commit)
	ReadyReason     string
	ReadyStatus     string
	Verdict         string
	FindingRules    []string // rules of status.lastEvaluation.findings
	FindingChecks   []string
	FindingImages   []string
	FindingMessages []string
	Event           string // the Warning event's message
}

// Render is step 3a: Argo CD renders prod from main.
type Render struct {
	Revision  string
	Manifests string // what the sidecar returned
}

// Refusal is step 3b: Argo CD renders the held proposal and is refused.
type Refusal struct {
	Revision        string
	ExitCode        int
	SidecarError    string // the error the repo-server receives from the sidecar
	ComparisonError string // what Argo CD shows on the Application
}

// Rollback is step 4: the rollback point from the gate's status, and a person's
// revert of the 1.9.0 promotion that sticks.
type Rollback struct {
	Commit         string // status.lastPromotion.commit: what `git revert` undoes
	PreviousCommit string // status.lastPromotion.previousCommit: what main returns to
	Parent         string // the parent of Commit, read from Git
	Files          []string
	Revert         Revert // the person's revert and the rollback that sticks (records.go)
}

// SupplyChain is steps 5 to 7: a digest nobody signed is held by flux-gate and
// refused by Argo CD; once signed, the same proposal is promoted.
type SupplyChain struct {
	Unsigned Hold      // step 5
	Refusal  Refusal   // step 6
	Bundle   string    // step 7: the signature bundle attached to the held digest
	Promoted Promotion // step 7
	Render   Render    // step 7: Argo CD renders prod from main
	// RefusalReads and RenderReads count the requests for the referrers of the
	// digest that the registry served while the sidecar refused it (step 6) and
	// rendered it once signed (step 7): the sidecar checks signatures itself.
	RefusalReads, RenderReads int
}

// StepError names the step that failed.
type StepError struct {
	Step string
	Err  error
}

// Error names the step and its cause.
func (e *StepError) Error() string { return fmt.Sprintf("step %q failed: %v", e.Step, e.Err) }

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Run plays the whole story, tears every part down, and returns the evidence. The
// error is a *StepError naming the step that failed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Minute
	}
	if err := cfg.validate(); err != nil {
		return nil, &StepError{Step: "check the parts", Err: err}
	}
	// The Git test server logs every request with the standard logger, and the
	// controller-runtime clients warn when no logger is set: the story is the output.
	prevLog := log.Writer()
	log.SetOutput(io.Discard)
	defer log.SetOutput(prevLog)
	ctrllog.SetLogger(logr.Discard())

	d := &demo{cfg: cfg, out: cfg.Out, rep: &Report{Digests: map[string]string{}, Signatures: map[string]string{}}}
	work, err := os.MkdirTemp("", "promotion-gate-demo-")
	if err != nil {
		return nil, &StepError{Step: "check the parts", Err: err}
	}
	d.work = work

	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"Start the parts (all real, all on this machine)", d.start},
		{"1. Flux proposes payments-api 1.9.0 by digest for prod", d.promote},
		{"2. Flux proposes payments-api:latest for prod", d.hold},
		{"3. Argo CD renders prod through the promotion-gate plugin", d.argo},
		{"4. The rollback point: a person reverts 1.9.0 on main; Flux proposes it again", d.rollback},
		{"5. Supply chain: Flux proposes payments-api " + unsignedTag + " by digest, but nobody signed it", d.unsigned},
		{"6. Argo CD is pointed at the unsigned proposal", d.argoUnsigned},
		{"7. The release pipeline signs payments-api " + unsignedTag, d.signLate},
		// Chapter 8: records in Git (records.go).
		{"8. The history of promotions and rollbacks, read from Git", d.records},
		// Chapter 9: pull-request mode (pullrequest.go).
		{"9. Pull requests: on a real Gitea, flux-gate posts the status the protected main requires, and a person merges", d.pullRequests},
	}
	fmt.Fprintln(d.out, "\npromotion-gate: one promotion policy, enforced at both doors of a GitOps pipeline.")
	fmt.Fprintln(d.out, "Flux's proposals pass flux-gate before they reach main; Argo CD renders prod through the plugin.")
	var runErr error
	for _, s := range steps {
		d.header(s.title)
		if err := s.run(ctx); err != nil {
			runErr = &StepError{Step: s.title, Err: err}
			break
		}
	}
	d.header("Tear down")
	if err := d.teardown(); err != nil {
		d.say("teardown: %v", err)
		if runErr == nil {
			runErr = &StepError{Step: "Tear down", Err: err}
		}
	}
	if runErr != nil {
		d.logs()
		fmt.Fprintf(d.out, "\nDEMO FAILED: %v\n(the logs and Git checkouts of this run are kept in %s)\n", runErr, work)
		return d.rep, runErr
	}
	_ = os.RemoveAll(work)
	fmt.Fprintln(d.out, "\nDemo finished: the digest was promoted, :latest was held in Git and refused by Argo CD;")
	fmt.Fprintln(d.out, "a person reverted the commit the gate's status named, and the rollback stuck when Flux proposed")
	fmt.Fprintln(d.out, "1.9.0 again; an unsigned digest was held and refused until the release key signed it, then")
	fmt.Fprintln(d.out, "promoted; the history of promotions and the rollback was read from Git. On Gitea, the gate's")
	fmt.Fprintln(d.out, "failure status kept a :latest pull request from merging, and a person merged the digest it")
	fmt.Fprintln(d.out, "passed. Every part was stopped.")
	return d.rep, nil
}

func (c Config) validate() error {
	var errs []error
	need := func(what, path, fix string) {
		if path == "" {
			errs = append(errs, fmt.Errorf("%s is not set: %s", what, fix))
			return
		}
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w: %s", what, err, fix))
		}
	}
	need("the repository root", c.RepoRoot, "run inside the promotion-gate repository")
	if _, err := exec.LookPath("git"); err != nil {
		errs = append(errs, fmt.Errorf("git is not on the PATH: Flux's Git test server runs it; install git"))
	}
	need("KUBEBUILDER_ASSETS", c.Assets, "export KUBEBUILDER_ASSETS=$(bash hack/envtest-assets.sh)")
	if c.Assets != "" {
		need("kube-apiserver", filepath.Join(c.Assets, "kube-apiserver"), "run bash hack/envtest-assets.sh")
		need("etcd", filepath.Join(c.Assets, "etcd"), "run bash hack/envtest-assets.sh")
	}
	need("the flux-gate binary", c.FluxGate, "build it: cd flux-gate && go build -o ../bin/flux-gate ./cmd/flux-gate")
	need("the argocd-promotion-gate binary", c.Plugin, "build it: cd argocd-plugin && go build -o ../bin/argocd-promotion-gate ./cmd/argocd-promotion-gate")
	need("PROMOTION_GATE_ARGOCD_BIN", c.ArgoCDBin, "export PROMOTION_GATE_ARGOCD_BIN=$(bash hack/argocd-harness.sh)")
	if c.ArgoCDBin != "" {
		need("argocd-cmp-server", filepath.Join(c.ArgoCDBin, "argocd-cmp-server"), "run bash hack/argocd-harness.sh")
		need("cmp-client", filepath.Join(c.ArgoCDBin, "cmp-client"), "run bash hack/argocd-harness.sh")
	}
	return errors.Join(errs...)
}

// header starts a step in the output.
func (d *demo) header(title string) { fmt.Fprintf(d.out, "\n== %s\n", title) }

// say prints a sentence or two of the story, wrapped at spaces.
func (d *demo) say(format string, args ...any) {
	for _, line := range wrap(fmt.Sprintf(format, args...), 100) {
		fmt.Fprintln(d.out, strings.TrimRight("   "+line, " "))
	}
}

// field prints one line of evidence: a label and its value, wrapped at spaces when long.
func (d *demo) field(label, format string, args ...any) {
	for i, line := range wrap(fmt.Sprintf(format, args...), 100) {
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(d.out, "   %-18s %s\n", label, line)
	}
}

// wrap breaks s at spaces into lines of at most width characters where it can; a
// word longer than width (a digest, a URL) stays whole.
func wrap(s string, width int) []string {
	if len(s) <= width {
		return []string{s}
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

// quote prints text as it was received, every line marked, so nothing is paraphrased.
func (d *demo) quote(text string) {
	for _, line := range splitLines(text) {
		fmt.Fprintf(d.out, "     | %s\n", line)
	}
}

// short abbreviates a commit for prose; the evidence lines print it whole.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
