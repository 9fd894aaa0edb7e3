package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// The lease of the HA test: short, so that a takeover is quick, and as the chart's
// flags set it (lease > renew deadline > retry period).
const (
	haLease       = 6 * time.Second
	haRenew       = 4 * time.Second
	haRetry       = 500 * time.Millisecond
	haLeaseObject = "flux-gate.promotion-gate.io"
)

// replica is one flux-gate process of a two-replica Deployment.
type replica struct {
	*controllerProcess
	name   string
	health string // http://127.0.0.1:port
}

// startReplica runs the flux-gate binary with leader election on, its Lease in the
// test namespace (RUNTIME_NAMESPACE, as the chart sets it), and its probes on a port.
func startReplica(t *testing.T, ns, name string) *replica {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	metricsPort, healthPort := freePort(t), freePort(t)
	logFile := filepath.Join(dir, "flux-gate.log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--policy-namespace="+ns,
		"--watch-namespaces="+ns,
		"--git-cache-dir="+filepath.Join(dir, "git"),
		"--allow-insecure-http",
		fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metricsPort),
		fmt.Sprintf("--health-addr=127.0.0.1:%d", healthPort),
		"--retry-interval=200ms",
		"--log-level=info",
		"--enable-leader-election",
		"--leader-election-lease-duration="+haLease.String(),
		"--leader-election-renew-deadline="+haRenew.String(),
		"--leader-election-retry-period="+haRetry.String(),
	)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc, "RUNTIME_NAMESPACE="+ns)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{
		controllerProcess: &controllerProcess{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), log: logFile},
		name:              name,
		health:            fmt.Sprintf("http://127.0.0.1:%d", healthPort),
	}
	t.Cleanup(func() {
		r.kill()
		out.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logFile)
			t.Logf("%s log:\n%s", name, tail(string(data), 6000))
		}
	})
	return r
}

// kill stops the process at once, as a node failure would: no lease release.
func (r *replica) kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
	}
}

// probe is the HTTP status of a probe endpoint, 0 when it does not answer.
func (r *replica) probe(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.health+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// leading reads controller-runtime's leader_election_master_status gauge: 1 on the
// replica holding the lease. A replica whose metrics do not answer yet is not leading.
func (r *replica) leading(t *testing.T) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.metrics, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return r.metric(t, "leader_election_master_status", `name="`+haLeaseObject+`"`) == 1
}

// reconciles counts the PromotionGate reconciles this replica ran.
func (r *replica) reconciles(t *testing.T) float64 {
	return r.metric(t, "controller_runtime_reconcile_total", `controller="promotiongate"`)
}

// Two flux-gate replicas with leader election on one API server: the probes of both
// answer, exactly one holds the lease and reconciles, a promotion happens once, and when
// the leader dies (SIGKILL, no release) the other takes over within the lease and
// promotes the proposal that arrived meanwhile.
func TestTwoReplicasLeaderElection(t *testing.T) {
	h := newBareHarness(t)
	f, a := h.paymentsGate()

	first := startReplica(t, h.ns, "replica-a")
	h.g.Eventually(func() bool { return first.leading(t) }, 60*time.Second).Should(BeTrue(), "the first replica takes the lease")
	second := startReplica(t, h.ns, "replica-b")
	h.g.Eventually(func() int { return second.probe("/readyz") }, 60*time.Second).Should(Equal(http.StatusOK), "the second replica is up")

	t.Run("probes", func(t *testing.T) {
		g := NewWithT(t)
		for _, r := range []*replica{first, second} {
			for _, path := range []string{"/healthz", "/readyz", "/healthz/ping", "/readyz/ping"} {
				g.Eventually(func() int { return r.probe(path) }, 30*time.Second).Should(Equal(http.StatusOK), "%s %s", r.name, path)
			}
			g.Expect(r.probe("/nope")).To(Equal(http.StatusNotFound), r.name)
		}
	})

	// The first proposal: promoted once, by the leader only.
	p1 := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p1))
	gate := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(gate.Status.LastPromotion.Commit).To(Equal(p1))
	h.g.Consistently(func() []any {
		return []any{first.leading(t), second.leading(t), second.reconciles(t)}
	}, 3*time.Second, 500*time.Millisecond).Should(Equal([]any{true, false, 0.0}), "only the leader reconciles")
	h.g.Expect(first.reconciles(t)).To(BeNumerically(">", 0))
	h.g.Expect(first.metric(t, "promotion_gate_promotions_total", `result="promoted"`)).To(Equal(1.0))
	h.g.Expect(second.metric(t, "promotion_gate_promotions_total")).To(BeZero())

	// The leader dies; a proposal arrives while nobody leads.
	holderBefore := leaseHolder(t, h)
	h.g.Expect(holderBefore).NotTo(BeEmpty())
	first.kill()
	killed := time.Now()
	p2 := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestA),
	})
	h.g.Eventually(func() bool { return second.leading(t) }, haLease+10*time.Second, 200*time.Millisecond).Should(BeTrue(), "the second replica takes over")
	took := time.Since(killed)
	h.g.Expect(took).To(BeNumerically("<", haLease+2*haRetry+3*time.Second), "takeover within the lease (%s)", took)
	h.g.Expect(leaseHolder(t, h)).NotTo(Equal(holderBefore))

	h.g.Eventually(func() string { return h.head(f, "main") }).Should(Equal(p2))
	h.g.Eventually(func() string {
		g := h.getGate("payments-api-prod")
		if g.Status.LastPromotion == nil {
			return ""
		}
		return g.Status.LastPromotion.Commit + " after " + g.Status.LastPromotion.PreviousCommit
	}).Should(Equal(p2 + " after " + p1))
	h.g.Expect(second.metric(t, "promotion_gate_promotions_total", `result="promoted"`)).To(Equal(1.0), "the pending proposal is promoted once")
	h.conformant("payments-api-prod")
	t.Logf("takeover after SIGKILL of the leader: %s (lease %s)", took.Round(100*time.Millisecond), haLease)
}

// leaseHolder is the holder identity of flux-gate's Lease in the test namespace.
func leaseHolder(t *testing.T, h *harness) string {
	t.Helper()
	var l coordinationv1.Lease
	if err := k8s.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: haLeaseObject}, &l); err != nil {
		t.Fatalf("read the lease: %v", err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return strings.TrimSpace(*l.Spec.HolderIdentity)
}
