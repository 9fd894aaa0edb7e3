#!/usr/bin/env bash
# `make bench-gate`: measures flux-gate on envtest (real kube-apiserver + etcd) with
# gittestserver, running the flux-gate binary as its own process:
#   BenchmarkGateLatency  100 PromotionGates over 10 repositories: latency from an
#                         automation's status.lastPushCommit to the promotion (median,
#                         p95), the controller's CPU seconds and peak memory.
#   BenchmarkGateFetch    bytes fetched per reconcile on a repository with 5,000 commits.
# Each benchmark runs its whole scenario once (-benchtime=1x) and reports custom metrics;
# the log lines (-v) say the same in words. Record the figures in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$(bash "$root/hack/envtest-assets.sh")}
export KUBEBUILDER_ASSETS
cd "$root/flux-gate"
go test -run '^$' -bench "${BENCH:-BenchmarkGate}" -benchtime 1x -timeout 60m -v ./internal/controller/
