package controller_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/runtime/conditions"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/controller"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// The benchmarks of `make bench-gate` run the flux-gate binary against envtest and
// gittestserver and measure one whole scenario per call: run them with
// -benchtime=1x. The figures are reported as custom metrics.

// promotions watches PromotionGates and remembers when each gate's
// status.lastPromotion.commit was first seen with each value.
type promotions struct {
	mu   sync.Mutex
	seen map[string]map[string]time.Time // gate -> commit -> first seen
}

func watchPromotions(tb testing.TB, ctx context.Context, ns string) *promotions {
	tb.Helper()
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: controller.NewScheme()})
	if err != nil {
		tb.Fatal(err)
	}
	w, err := wc.Watch(ctx, &gatev1.PromotionGateList{}, client.InNamespace(ns))
	if err != nil {
		tb.Fatal(err)
	}
	p := &promotions{seen: map[string]map[string]time.Time{}}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			g, ok := ev.Object.(*gatev1.PromotionGate)
			if !ok || ev.Type == watch.Deleted || g.Status.LastPromotion == nil {
				continue
			}
			now := time.Now()
			p.mu.Lock()
			if p.seen[g.Name] == nil {
				p.seen[g.Name] = map[string]time.Time{}
			}
			if _, ok := p.seen[g.Name][g.Status.LastPromotion.Commit]; !ok {
				p.seen[g.Name][g.Status.LastPromotion.Commit] = now
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// after returns when gate first showed a promotion other than the ones it had
// before, or false.
func (p *promotions) after(gate string, before map[string]bool) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first time.Time
	for c, t := range p.seen[gate] {
		if !before[c] && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first, !first.IsZero()
}

func (p *promotions) known(gate string) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for c := range p.seen[gate] {
		out[c] = true
	}
	return out
}

func waitAllReady(tb testing.TB, h *harness, n int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		var list gatev1.PromotionGateList
		if err := k8s.List(h.ctx, &list, client.InNamespace(h.ns)); err == nil {
			ready := 0
			for i := range list.Items {
				if conditions.IsReady(&list.Items[i]) && list.Items[i].Status.ObservedGeneration == list.Items[i].Generation {
					ready++
				}
			}
			if ready == n {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	tb.Fatalf("not all %d gates became Ready", n)
}

// BenchmarkGateLatency: 100 PromotionGates over 10 repositories (10 apps each), all
// watched by one controller. In each of 10 waves one automation per repository
// pushes a compliant proposal (10 concurrent promotions on 10 repositories); the
// latency is from the automation's status.lastPushCommit update to the gate's
// status showing the promotion.
func BenchmarkGateLatency(b *testing.B) {
	const repos, perRepo = 10, 10
	h := newBareHarness(b)
	srv := gittest.NewHTTP(b, "", "")
	h.setPolicy(basePolicy)
	apps := make([]string, perRepo)
	for i := range apps {
		apps[i] = fmt.Sprintf("app-%d", i)
	}
	fleets := make([]*fleet, repos)
	autos := make([][]*imagev1.ImageUpdateAutomation, repos)
	for r := range repos {
		fleets[r] = h.newNamedFleet(fmt.Sprintf("fleet-%d", r), srv.URL(fmt.Sprintf("fleet-%d.git", r)), nil, apps...)
		for _, app := range apps {
			name := fmt.Sprintf("r%d-%s", r, app)
			a := h.automation(fleets[r], name, app)
			h.gate(name, a.Name)
			autos[r] = append(autos[r], a)
		}
	}
	start := time.Now()
	proc := startController(b, h.ns, 4)
	waitAllReady(b, h, repos*perRepo)
	startup := time.Since(start)
	seen := watchPromotions(b, h.ctx, h.ns)
	cpuStart := proc.cpuSeconds(b)

	var latencies []time.Duration
	b.ResetTimer()
	for wave := range perRepo {
		type pending struct {
			gate   string
			t0     time.Time
			before map[string]bool
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		var waiting []pending
		for r := range repos {
			wg.Go(func() {
				a := autos[r][wave]
				commit, err := fleets[r].bot.Commit(context.Background(), "main", a.Spec.GitSpec.Push.Branch, map[string]string{
					overlayPath(apps[wave]): prodOverlay(apps[wave], "ghcr.io/example/"+apps[wave], fmt.Sprintf("3.0.%d", wave), digestB),
				}, "Update image")
				if err != nil {
					b.Error(err)
					return
				}
				before := seen.known(a.Name)
				t0 := time.Now()
				h.setLastPush(a, commit)
				mu.Lock()
				waiting = append(waiting, pending{gate: a.Name, t0: t0, before: before})
				mu.Unlock()
			})
		}
		wg.Wait()
		deadline := time.Now().Add(5 * time.Minute)
		for _, p := range waiting {
			for {
				if t, ok := seen.after(p.gate, p.before); ok {
					latencies = append(latencies, t.Sub(p.t0))
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("%s was not promoted", p.gate)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	b.StopTimer()
	cpu := proc.cpuSeconds(b)
	slices.Sort(latencies)
	median := latencies[len(latencies)/2]
	p95 := latencies[(len(latencies)*95+99)/100-1]
	b.ReportMetric(float64(median.Milliseconds()), "median-ms")
	b.ReportMetric(float64(p95.Milliseconds()), "p95-ms")
	b.ReportMetric(float64(latencies[len(latencies)-1].Milliseconds()), "max-ms")
	b.ReportMetric(cpuStart, "startup-cpu-s")
	b.ReportMetric(cpu-cpuStart, "promotions-cpu-s")
	b.ReportMetric(float64(proc.peakRSS(b))/(1<<20), "peak-rss-MiB")
	b.Logf("100 gates / 10 repositories: startup to all Ready %s; %d promotions: median %s, p95 %s, max %s; controller CPU %.2fs at startup + %.2fs for the promotions; peak RSS %.1f MiB",
		startup.Round(time.Millisecond), len(latencies), median, p95, latencies[len(latencies)-1], cpuStart, cpu-cpuStart, float64(proc.peakRSS(b))/(1<<20))
}

// BenchmarkGateFetch: one gate on a repository with 5,000 commits. After the first
// fetch (the whole history), each promotion of one new automation commit fetches only
// that commit: bytes per reconcile follow the new commits, not the repository size.
func BenchmarkGateFetch(b *testing.B) {
	const history, rounds = 5000, 10
	h := newBareHarness(b)
	srv := gittest.NewHTTP(b, "", "")
	h.setPolicy(basePolicy)
	f := h.newNamedFleet("big", srv.URL("big.git"), nil, "payments-api")
	if _, err := f.human.Series(h.ctx, "main", history, func(i int) map[string]string {
		return map[string]string{
			fmt.Sprintf("docs/notes-%d.md", i%50): fmt.Sprintf("note %d: %s\n", i, gittest.Noise(i, 400)),
		}
	}); err != nil {
		b.Fatal(err)
	}
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name)
	proc := startController(b, h.ns, 1)
	waitAllReady(b, h, 1)
	fetched := func() float64 {
		return proc.metric(b, "promotion_gate_git_fetched_bytes_total", `gitrepository="big"`)
	}
	reconciles := func() float64 {
		return proc.metric(b, "gotk_reconcile_duration_seconds_count", `name="payments-api-prod"`)
	}
	initial := fetched()
	seen := watchPromotions(b, h.ctx, h.ns)

	b.ResetTimer()
	bytes0, rec0 := fetched(), reconciles()
	for i := range rounds {
		before := seen.known(a.Name)
		commit, err := f.bot.Commit(h.ctx, "main", a.Spec.GitSpec.Push.Branch, map[string]string{
			overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", fmt.Sprintf("4.0.%d", i), digestB),
		}, "Update image")
		if err != nil {
			b.Fatal(err)
		}
		h.setLastPush(a, commit)
		deadline := time.Now().Add(5 * time.Minute)
		for {
			if _, ok := seen.after(a.Name, before); ok {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("not promoted")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.StopTimer()
	bytes, rec := fetched()-bytes0, reconciles()-rec0
	b.ReportMetric(initial, "first-fetch-bytes")
	b.ReportMetric(bytes/rec, "bytes/reconcile")
	b.ReportMetric(bytes/rounds, "bytes/promotion")
	b.Logf("repository of %d commits: first fetch %.0f bytes; then %d promotions in %.0f reconciles fetched %.0f bytes (%.0f per reconcile, %.0f per promotion)",
		history+1, initial, rounds, rec, bytes, bytes/rec, bytes/rounds)
}
