#!/usr/bin/env bash
# make bench: the policy core's Go benchmarks, and the cost of the policy on top of the
# render it follows — both measured in this one run, on this machine.
# kustomize's own work grows faster than linearly with the number of resources (each
# append and name-reference fix-up scans the resource map), so one render of 5,000
# Deployments takes minutes: BENCH_COUNT rounds (default 1) of one render each.
set -euo pipefail
cd "$(dirname "$0")/../shared"
count=${BENCH_COUNT:-1}
out=$(mktemp)
trap 'rm -f "$out" "$out.test"' EXIT

echo ">> render, then evaluate, a generated kustomization of 5,000 Deployments (x${count})"
# One process per round; within each iteration the benchmark times the render and the
# policy separately, so their ratio compares the policy with the very render it follows.
go test -c -o "$out.test" ./check/
for ((i = 1; i <= count; i++)); do
  (cd check && "$out.test" -test.run '^$' -test.bench '^BenchmarkRenderAndEvaluate5000$' -test.benchtime 1x -test.benchmem) | tee -a "$out"
done

awk '
  /^BenchmarkRenderAndEvaluate5000/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "render-ms/op") r += $(i - 1)
      if ($i == "total-ms/op") t += $(i - 1)
    }
    n++
  }
  END {
    if (n == 0) { print "bench: no results" > "/dev/stderr"; exit 1 }
    printf "\nrender:               %10.0f ms (mean of %d)\n", r / n, n
    printf "render + evaluate:    %10.0f ms\n", t / n
    printf "ratio:                %10.4f  (the policy adds %.3f%% to the render; goal <= 5%%)\n", t / r, (t / r - 1) * 100
  }' "$out"

echo
echo ">> signature verification of 100 distinct signed digests (in-process registry, keyed, logged)"
# cold: a new verifier with an empty cache for each run of 100; warm: the same cache again.
go test -run '^$' -bench '^BenchmarkVerify100Digests$' -benchtime "${BENCH_VERIFY_RUNS:-5}x" ./supplychain/ | tee "$out.verify" \
  | grep -E '^(Benchmark|ok|FAIL|---)' || true
awk '
  /^BenchmarkVerify100Digests\/(cold|warm)/ {
    split($1, name, "/"); sub(/-[0-9]+$/, "", name[2])
    for (i = 1; i <= NF; i++) {
      if ($i == "ns/op") ms[name[2]] = $(i - 1) / 1e6
      if ($i == "requests/op") req[name[2]] = $(i - 1)
    }
  }
  END {
    if (!("cold" in ms) || !("warm" in ms)) { print "bench: no verification results" > "/dev/stderr"; exit 1 }
    printf "\ncold (empty cache):   %10.1f ms per 100 digests, %6.0f registry requests\n", ms["cold"], req["cold"]
    printf "warm (cached):        %10.1f ms per 100 digests, %6.0f registry requests\n", ms["warm"], req["warm"]
    printf "warm / cold:          %10.4f\n", ms["warm"] / ms["cold"]
  }' "$out.verify"
rm -f "$out.verify"

echo
echo ">> micro-benchmarks of the policy core"
go test -run '^$' -bench . -benchmem ./extract/ ./evaluate/ ./imageref/ ./policy/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true
