package controller

import (
	"github.com/fluxcd/pkg/runtime/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are flux-gate's Prometheus metrics: Flux's standard gotk_reconcile_*
// series (so existing Flux dashboards and alerts show the gates) and the gate's own.
type Metrics struct {
	// Flux is the standard condition, suspend and duration recorder.
	Flux *metrics.Recorder
	// Evaluations counts policy evaluations by verdict (Allowed, Warned, Denied).
	Evaluations *prometheus.CounterVec
	// Promotions counts push attempts by result: promoted, target_moved, failed; and,
	// in pull-request mode, merges the gate recorded: merged.
	Promotions *prometheus.CounterVec
	// Held is 1 while a gate holds a proposal the policy denies (or cannot
	// evaluate), else 0.
	Held *prometheus.GaugeVec
	// EvaluationDuration is the time from the fetched heads to the verdict.
	EvaluationDuration *prometheus.HistogramVec
	// FetchedBytes counts pack bytes fetched from Git, by repository.
	FetchedBytes *prometheus.CounterVec
}

// NewMetrics makes the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Flux: metrics.NewRecorder(),
		Evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promotion_gate_evaluations_total",
			Help: "Policy evaluations of proposal commits, by verdict.",
		}, []string{"namespace", "name", "verdict"}),
		Promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promotion_gate_promotions_total",
			Help: "Attempts to push an evaluated proposal commit to its target branch, by result (promoted, target_moved, failed), and merges of its pull request in pull-request mode (merged).",
		}, []string{"namespace", "name", "result"}),
		Held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "promotion_gate_held",
			Help: "1 while the gate holds a proposal the policy denies or cannot evaluate.",
		}, []string{"namespace", "name"}),
		EvaluationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "promotion_gate_evaluation_duration_seconds",
			Help:    "Time to evaluate the policy on a proposal commit's changed files.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"namespace", "name"}),
		FetchedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promotion_gate_git_fetched_bytes_total",
			Help: "Bytes of Git packs fetched into the clone cache, by GitRepository.",
		}, []string{"namespace", "gitrepository"}),
	}
	collectors := append(m.Flux.Collectors(), m.Evaluations, m.Promotions, m.Held, m.EvaluationDuration, m.FetchedBytes)
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forget drops the series of a deleted gate.
func (m *Metrics) forget(namespace, name string) {
	labels := prometheus.Labels{"namespace": namespace, "name": name}
	m.Evaluations.DeletePartialMatch(labels)
	m.Promotions.DeletePartialMatch(labels)
	m.Held.DeletePartialMatch(labels)
	m.EvaluationDuration.DeletePartialMatch(labels)
}
