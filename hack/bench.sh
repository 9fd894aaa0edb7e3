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

echo ">> render vs render+evaluate, a generated kustomization of 5,000 Deployments (x${count})"
# One process per round, both benchmarks in each, so a change in machine load hits both.
go test -c -o "$out.test" ./check/
for ((i = 1; i <= count; i++)); do
  (cd check && "$out.test" -test.run '^$' -test.bench '^Benchmark(Render|RenderAndEvaluate)5000$' -test.benchtime 1x -test.benchmem) | tee -a "$out"
done

# Medians of ns/op per benchmark, then the ratio: what the policy adds to the render.
awk '
  /^BenchmarkRender5000/            { r[++nr] = $3 }
  /^BenchmarkRenderAndEvaluate5000/ { e[++ne] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    if (nr == 0 || ne == 0) { print "bench: missing results" > "/dev/stderr"; exit 1 }
    mr = median(r, nr); me = median(e, ne)
    printf "\nrender only:          %8.1f ms (median of %d)\n", mr / 1e6, nr
    printf "render + evaluate:    %8.1f ms (median of %d)\n", me / 1e6, ne
    printf "ratio:                %8.3f  (the policy adds %.1f%% to the render; goal <= 5%%)\n", me / mr, (me / mr - 1) * 100
  }' "$out"

echo
echo ">> micro-benchmarks of the policy core"
go test -run '^$' -bench . -benchmem ./extract/ ./evaluate/ ./imageref/ ./policy/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' || true
