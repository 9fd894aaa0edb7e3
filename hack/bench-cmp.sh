#!/usr/bin/env bash
# make bench-cmp: what the Argo CD plugin costs next to the tools it replaces.
#
# Measures whole-process wall time and peak memory (GNU time's maximum resident set
# size) of
#   1. argocd-promotion-gate generate           (render + policy check, one process)
#   2. kustomize build                          (render only)
#   3. kustomize build | conftest test -        (render, then an equivalent Rego policy)
# on the prod example overlay and on a generated prod overlay of 2,000 Deployments; and
#   4. argocd-promotion-gate generate vs helm template, in paired runs (one of each,
#      alternating which goes first), on the example chart with its prod values and on a
#      generated chart of 2,000 Deployments (one template ranging over the values), with
#      a check that both outputs hold the same objects.
# kustomize, conftest and helm (at the Helm SDK version shared/ uses) are built from the
# Go module proxy into the cache outside the repository. Prints markdown tables for
# docs/benchmarks.md.
#
# BENCH_RUNS (default 7) runs per command on the example, BENCH_RUNS_LARGE (default 3) on
# the generated overlay; the medians of wall time, CPU time (user + system: steadier than
# wall time on a shared machine) and peak memory are reported. BENCH_DEPLOYMENTS (default
# 2000) sizes the generated overlay and chart. BENCH_RUNS_HELM (default 11) pairs of runs
# on each chart. BENCH_ONLY=helm runs the Helm rows alone.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-7}
RUNS_LARGE=${BENCH_RUNS_LARGE:-3}
DEPLOYMENTS=${BENCH_DEPLOYMENTS:-2000}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.2} # kustomize/api v0.21.2, as shared/ uses; v5.8.3 needs Go 1.27
CONFTEST_VERSION=${CONFTEST_VERSION:-v0.71.1}
# The helm CLI at the version of the Helm SDK the plugin links, so that both render alike.
HELM_VERSION=${HELM_VERSION:-$(awk '$1 == "helm.sh/helm/v3" { print $2 }' "$repo/shared/go.mod")}
RUNS_HELM=${BENCH_RUNS_HELM:-11}
ONLY=${BENCH_ONLY:-}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
tools="$CACHE/tools"
log() { echo ">> $*" >&2; }

# GNU time gives the peak resident set size of a process (and of its waited-for
# children: for a pipeline, of its largest process).
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time (/usr/bin/time)"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq time >&2
fi

# go install a tool at a version into the cache, once. GOTOOLCHAIN=local: use this Go,
# never download another.
tool() { # name, module path, version, package
  local dir="$tools/$1-$3"
  if [[ ! -x "$dir/$1" ]]; then
    log "building $1 $3 (first time only)"
    mkdir -p "$dir"
    if ! GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$dir" go install -trimpath -ldflags=-s "$4@$3" >&2; then
      log "could not build $1 $3 with $(go env GOVERSION)"
      return 1
    fi
  fi
  echo "$dir/$1"
}
KUSTOMIZE=$(tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5)
CONFTEST=$(tool conftest github.com/open-policy-agent/conftest "$CONFTEST_VERSION" github.com/open-policy-agent/conftest) || CONFTEST=""
HELM=$(tool helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "building argocd-promotion-gate"
(cd "$repo/argocd-plugin" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/argocd-promotion-gate" ./cmd/argocd-promotion-gate) >&2
PLUGIN="$work/argocd-promotion-gate"
(cd "$repo/test" && go build -o "$work/manifests-equal" ./cmd/manifests-equal && go build -o "$work/bench-chart" ./cmd/bench-chart) >&2

# The Rego equivalent of the example policy's prod rule (prod-immutable-images).
mkdir -p "$work/rego"
cat > "$work/rego/promotion.rego" <<'REGO'
package main

import rego.v1

pod_spec(obj) := obj.spec.template.spec if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

pod_spec(obj) := obj.spec if obj.kind == "Pod"

containers contains c if {
	spec := pod_spec(input)
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some c in spec[field]
}

# name: the reference without tag and digest; tag: "" for a digest-only reference.
split_ref(image) := [name, tag] if {
	no_digest := split(image, "@")[0]
	parts := split(no_digest, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
	name := trim_suffix(no_digest, concat("", [":", tag]))
}

# Neither tag nor digest: the runtime pulls "latest".
split_ref(image) := [split(image, "@")[0], implicit_tag(image)] if {
	parts := split(split(image, "@")[0], "/")
	not contains(parts[count(parts) - 1], ":")
}

implicit_tag(image) := "latest" if not contains(image, "@")

implicit_tag(image) := "" if contains(image, "@")

deny contains msg if {
	some c in containers
	not contains(c.image, "@sha256:")
	msg := sprintf("%s %s container %s: image %s is not pinned by digest", [input.kind, input.metadata.name, c.name, c.image])
}

deny contains msg if {
	some c in containers
	[_, tag] := split_ref(c.image)
	tag != ""
	some pattern in ["latest", "main", "master", "*-SNAPSHOT"]
	glob.match(pattern, [], tag)
	msg := sprintf("%s %s container %s: tag %s is denied", [input.kind, input.metadata.name, c.name, tag])
}

deny contains msg if {
	some c in containers
	[name, _] := split_ref(c.image)
	not startswith(name, "ghcr.io/example/")
	not startswith(name, "registry.example.com/")
	msg := sprintf("%s %s container %s: %s is not in an allowed registry", [input.kind, input.metadata.name, c.name, name])
}
REGO

# The generated repository: a base of N Deployments in 20 files and a prod overlay that
# pins them by digest, as the example's prod overlay does.
gen="$work/generated"
mkdir -p "$gen/apps/fleet/base" "$gen/apps/fleet/overlays/prod"
files=20
per=$(( (DEPLOYMENTS + files - 1) / files ))
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  for f in $(seq 1 $files); do echo "  - deployments-$f.yaml"; done
} > "$gen/apps/fleet/base/kustomization.yaml"
n=0
for f in $(seq 1 $files); do
  out="$gen/apps/fleet/base/deployments-$f.yaml"
  : > "$out"
  for _ in $(seq 1 $per); do
    (( n >= DEPLOYMENTS )) && break
    n=$((n + 1))
    cat >> "$out" <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-$n
  labels: {app.kubernetes.io/name: svc-$n}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: svc-$n}
  template:
    metadata:
      labels: {app.kubernetes.io/name: svc-$n}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/svc-$((n % 50)):1.0.$((n % 7))
          ports: [{name: http, containerPort: 8080}]
          resources: {requests: {cpu: 50m, memory: 64Mi}}
YAML
  done
done
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "namespace: fleet-prod"
  echo "resources: [../../base]"
  echo "labels: [{pairs: {env: prod}}]"
  echo "images:"
  for i in $(seq 0 49); do
    echo "  - name: ghcr.io/example/svc-$i"
    echo "    digest: sha256:$(printf '%064x' $((i + 1)))"
  done
} > "$gen/apps/fleet/overlays/prod/kustomization.yaml"

# median: the middle value of the numbers on stdin.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# measure RUNS DIR COMMAND...: runs COMMAND in DIR; prints "wall_ms cpu_ms peak_kb", medians.
measure() { local runs=$1; shift; measure_each "$runs" no_setup "$@"; }

# measure_each RUNS SETUP DIR COMMAND...: as measure, running the function SETUP before
# each run (untimed). The last run's stdout is left in $work/out.yaml.
measure_each() {
  local runs=$1 setup=$2 dir=$3; shift 3
  local walls=() cpus=() mems=() start end
  for _ in $(seq 1 "$runs"); do
    "$setup"
    start=$EPOCHREALTIME
    (cd "$dir" && /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.yaml" 2> "$work/stderr.txt") || {
      log "failed: $*"; cat "$work/stderr.txt" >&2; return 1; }
    end=$EPOCHREALTIME
    walls+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%d", (e - s) * 1000 }')")
    cpus+=("$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%d", t * 1000 }' "$work/time.txt")")
    mems+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median) $(printf '%s\n' "${mems[@]}" | median)"
}
no_setup() { :; }

# row INPUT COMMAND "wall cpu mem" "kustomize's wall cpu mem": one table row.
row() {
  local w c m kw kc km
  read -r w c m <<< "$3"; read -r kw kc km <<< "$4"
  printf '| %s | %s | %d | %d | %.1f | %.2f× | %.2f× | %.2f× |\n' "$1" "$2" "$w" "$c" "$(bc -l <<< "$m/1024")" \
    "$(bc -l <<< "$w/$kw")" "$(bc -l <<< "$c/$kc")" "$(bc -l <<< "$m/$km")"
}

# bench NAME RUNS REPO APP_PATH: the three commands on one application.
bench() {
  local name=$1 runs=$2 root=$3 path=$4 dir="$3/$4"
  log "benchmarking $name ($runs runs each)"
  local p k c=""
  # The sidecar's 45 s limit is for Argo CD; here the cost of the whole render is measured.
  p=$(export ARGOCD_APP_SOURCE_PATH="$path" ARGOCD_APP_NAME=bench ARGOCD_APP_NAMESPACE=bench PROMOTION_GATE_TIMEOUT=1h \
        PROMOTION_GATE_POLICY_DIR="$repo/examples/policy"; measure "$runs" "$dir" "$PLUGIN" generate)
  k=$(measure "$runs" "$dir" "$KUSTOMIZE" build .)
  if [[ -n "$CONFTEST" ]]; then
    c=$(measure "$runs" "$dir" bash -c "'$KUSTOMIZE' build . | '$CONFTEST' test --no-color --policy '$work/rego' -")
  fi
  row "$name" "argocd-promotion-gate generate" "$p" "$k"
  row "$name" "kustomize build" "$k" "$k"
  if [[ -n "$CONFTEST" ]]; then
    row "$name" "kustomize build \\| conftest test" "$c" "$k"
  else
    printf '| %s | kustomize build \\| conftest test | conftest %s did not build | | | | | |\n' "$name" "$CONFTEST_VERSION"
  fi
}

command -v bc > /dev/null || { log "installing bc"; sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"; $sudo apt-get install -y -qq bc >&2; }

# The generated overlay must pass the plugin's policy, so both render everything.
if [[ "$ONLY" != helm ]]; then
  log "checking that the generated overlay passes the example policy"
  (cd "$gen/apps/fleet/overlays/prod" && ARGOCD_APP_SOURCE_PATH=apps/fleet/overlays/prod PROMOTION_GATE_TIMEOUT=1h \
    PROMOTION_GATE_POLICY_DIR="$repo/examples/policy" "$PLUGIN" generate > /dev/null) || {
    log "the generated overlay does not pass the example policy"; exit 1; }
fi

if [[ "$ONLY" != helm ]]; then
echo "$(go env GOVERSION), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; medians of $RUNS runs (example) and $RUNS_LARGE runs ($DEPLOYMENTS Deployments); kustomize $KUSTOMIZE_VERSION, conftest $([[ -n "$CONFTEST" ]] && echo "$CONFTEST_VERSION" || echo "not built")"
echo
echo "| input | command | wall (ms) | CPU (ms) | peak RSS (MiB) | wall vs kustomize | CPU vs kustomize | RSS vs kustomize |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
bench "prod example" "$RUNS" "$repo/examples/platform-config" apps/payments-api/overlays/prod
bench "$DEPLOYMENTS Deployments" "$RUNS_LARGE" "$gen" apps/fleet/overlays/prod
fi

# ---------------------------------------------------------------------------------------
# Helm: generate vs helm template (the CLI at the SDK's version), in paired runs.

# The generated chart: DEPLOYMENTS Deployments from one template ranging over the
# values, every image pinned by digest in values-prod.yaml, all allowed by the policy.
chart="$gen/charts/fleet"
"$work/bench-chart" "$chart" "$DEPLOYMENTS"

# measure_once DIR COMMAND...: one timed run of COMMAND in DIR, stdout to $work/out.yaml;
# prints "wall_ms cpu_ms peak_kb".
measure_once() {
  local dir=$1 start end; shift
  start=$EPOCHREALTIME
  (cd "$dir" && /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/out.yaml" 2> "$work/stderr.txt") || {
    log "failed: $*"; cat "$work/stderr.txt" >&2; return 1; }
  end=$EPOCHREALTIME
  echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%d", (e - s) * 1000 }')" \
    "$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%d", t * 1000 }' "$work/time.txt")" \
    "$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")"
}

# helm_bench NAME RUNS REPO CHART_PATH VALUES: RUNS pairs of (generate, helm template) on
# one chart, the first of each pair alternating; one row each, ratios against helm
# template's medians, and the median of the per-pair wall-time ratios.
helm_bench() {
  local name=$1 runs=$2 root=$3 path=$4 values=$5 dir="$3/$4"
  log "benchmarking $name: generate vs helm template ($runs pairs)"
  local gen_cmd=(env ARGOCD_APP_SOURCE_PATH="$path" ARGOCD_APP_NAME=bench ARGOCD_APP_NAMESPACE=bench PARAM_VALUES_FILES="$values"
    PROMOTION_GATE_TIMEOUT=1h PROMOTION_GATE_POLICY_DIR="$repo/examples/policy" "$PLUGIN" generate)
  local helm_cmd=("$HELM" template bench . --namespace bench -f "$values")
  local gw=() gc=() gm=() hw=() hc=() hm=() ratios=() g h i
  for i in $(seq 1 "$runs"); do
    if (( i % 2 )); then
      g=$(measure_once "$dir" "${gen_cmd[@]}"); cp "$work/out.yaml" "$work/out-generate.yaml"
      h=$(measure_once "$dir" "${helm_cmd[@]}")
    else
      h=$(measure_once "$dir" "${helm_cmd[@]}")
      g=$(measure_once "$dir" "${gen_cmd[@]}"); cp "$work/out.yaml" "$work/out-generate.yaml"
    fi
    read -r w c m <<< "$g"; gw+=("$w"); gc+=("$c"); gm+=("$m")
    read -r w2 c2 m2 <<< "$h"; hw+=("$w2"); hc+=("$c2"); hm+=("$m2")
    ratios+=("$(bc -l <<< "$w/$w2")")
  done
  (cd "$dir" && "${helm_cmd[@]}" > "$work/out-helm.yaml")
  local same
  same=$("$work/manifests-equal" "$work/out-generate.yaml" "$work/out-helm.yaml") || {
    log "generate and helm template differ on $name: $same"; exit 1; }
  local gmed hmed
  gmed="$(printf '%s\n' "${gw[@]}" | median) $(printf '%s\n' "${gc[@]}" | median) $(printf '%s\n' "${gm[@]}" | median)"
  hmed="$(printf '%s\n' "${hw[@]}" | median) $(printf '%s\n' "${hc[@]}" | median) $(printf '%s\n' "${hm[@]}" | median)"
  row "$name" "argocd-promotion-gate generate" "$gmed" "$hmed"
  row "$name" "helm template" "$hmed" "$hmed"
  helm_notes+=("$name: median of the $runs per-pair wall ratios $(printf '%s\n' "${ratios[@]}" | median | xargs printf '%.2f')×; outputs: $same")
}

helm_notes=()
echo
echo "$(go env GOVERSION), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start; $RUNS_HELM paired runs per chart; helm $HELM_VERSION (the SDK version shared/ uses)"
echo
echo "| input | command | wall (ms) | CPU (ms) | peak RSS (MiB) | wall vs helm template | CPU vs helm template | RSS vs helm template |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
helm_bench "example chart, prod values" "$RUNS_HELM" "$repo/examples/platform-config" charts/payments-api values-prod.yaml
helm_bench "$DEPLOYMENTS-Deployment chart" "$RUNS_HELM" "$gen" charts/fleet values-prod.yaml
echo
printf -- '- %s\n' "${helm_notes[@]}"
[[ "$ONLY" == helm ]] && exit 0

# ---------------------------------------------------------------------------------------
# The render cache (PROMOTION_GATE_RENDER_CACHE_DIR): warm, cold and off, side by side.

cache="$work/render-cache"
fresh="$work/fresh"
empty_cache() { rm -rf "$cache"; }
fresh_copy() { rm -rf "$fresh"; cp -r "$gen" "$fresh"; }
plugin_env=(env ARGOCD_APP_SOURCE_PATH=apps/fleet/overlays/prod ARGOCD_APP_NAME=bench ARGOCD_APP_NAMESPACE=bench
  PROMOTION_GATE_TIMEOUT=1h PROMOTION_GATE_POLICY_DIR="$repo/examples/policy")

log "render cache: $DEPLOYMENTS Deployments, off / cold / warm in a fresh copy ($RUNS_LARGE runs each)"
off=$(measure_each "$RUNS_LARGE" no_setup "$gen/apps/fleet/overlays/prod" "${plugin_env[@]}" "$PLUGIN" generate)
cp "$work/out.yaml" "$work/out-off.yaml"
cold=$(measure_each "$RUNS_LARGE" empty_cache "$gen/apps/fleet/overlays/prod" "${plugin_env[@]}" PROMOTION_GATE_RENDER_CACHE_DIR="$cache" "$PLUGIN" generate)
warm=$(measure_each "$RUNS_LARGE" fresh_copy "$fresh/apps/fleet/overlays/prod" "${plugin_env[@]}" PROMOTION_GATE_RENDER_CACHE_DIR="$cache" "$PLUGIN" generate)
cmp -s "$work/out.yaml" "$work/out-off.yaml" || { log "the warm output differs from the uncached output"; exit 1; }
kb=$(measure "$RUNS_LARGE" "$gen/apps/fleet/overlays/prod" "$KUSTOMIZE" build .)
echo
echo "| $DEPLOYMENTS Deployments | wall (ms) | CPU (ms) | peak RSS (MiB) | wall vs kustomize build |"
echo "|---|---:|---:|---:|---:|"
for r in "kustomize build:$kb" "generate, cache off:$off" "generate, cache on, empty (cold):$cold" "generate, cache warm, fresh copy of the repository:$warm"; do
  read -r w c m <<< "${r#*:}"; read -r kw _ _ <<< "$kb"
  printf '| %s | %d | %d | %.1f | %.4f× |\n' "${r%%:*}" "$w" "$c" "$(bc -l <<< "$m/1024")" "$(bc -l <<< "$w/$kw")"
done
read -r ow _ _ <<< "$off"; read -r cw _ _ <<< "$cold"; read -r ww _ _ <<< "$warm"; read -r kw _ _ <<< "$kb"
echo
echo "warm = $(bc -l <<< "scale=2; 100*$ww/$kw")% of kustomize build (goal: at most 2%); cold = $(bc -l <<< "scale=3; $cw/$ow")× cache off (goal: at most 1.03×); output identical"

# A monorepo: MONO_APPS applications of MONO_DEPLOYMENTS Deployments each; each commit
# changes one application; Argo CD then renders all of them again.
MONO_APPS=${BENCH_MONO_APPS:-50}
MONO_DEPLOYMENTS=${BENCH_MONO_DEPLOYMENTS:-40}
MONO_COMMITS=${BENCH_MONO_COMMITS:-3}
mono="$work/mono"
log "render cache: a monorepo of $MONO_APPS applications x $MONO_DEPLOYMENTS Deployments, $MONO_COMMITS commits"
for a in $(seq 1 "$MONO_APPS"); do
  mkdir -p "$mono/apps/app-$a/base" "$mono/apps/app-$a/overlays/prod"
  : > "$mono/apps/app-$a/base/deployments.yaml"
  for n in $(seq 1 "$MONO_DEPLOYMENTS"); do
    cat >> "$mono/apps/app-$a/base/deployments.yaml" <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$a-$n, labels: {app: app-$a-$n}}
spec:
  replicas: 2
  selector: {matchLabels: {app: app-$a-$n}}
  template:
    metadata: {labels: {app: app-$a-$n}}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app-$a:1.0.0@sha256:$(printf '%064x' "$a")
YAML
  done
  printf 'resources: [deployments.yaml]\n' > "$mono/apps/app-$a/base/kustomization.yaml"
  printf 'namespace: app-%s-prod\nresources: [../../base]\nlabels: [{pairs: {env: prod}}]\n' "$a" > "$mono/apps/app-$a/overlays/prod/kustomization.yaml"
done
mono_cache="$work/mono-cache"
rm -rf "$mono_cache"
# all_apps CACHE: render every application once (CACHE "" renders with kustomize build);
# prints the milliseconds it took.
all_apps() {
  local start end
  start=$EPOCHREALTIME
  for a in $(seq 1 "$MONO_APPS"); do
    if [[ -z "$1" ]]; then
      (cd "$mono/apps/app-$a/overlays/prod" && "$KUSTOMIZE" build . > /dev/null)
    else
      (cd "$mono/apps/app-$a/overlays/prod" && env ARGOCD_APP_SOURCE_PATH="apps/app-$a/overlays/prod" ARGOCD_APP_NAME="app-$a-prod" \
        ARGOCD_APP_NAMESPACE="app-$a-prod" PROMOTION_GATE_POLICY_DIR="$repo/examples/policy" PROMOTION_GATE_RENDER_CACHE_DIR="$1" \
        "$PLUGIN" generate > /dev/null)
    fi
  done
  end=$EPOCHREALTIME
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%d", (e - s) * 1000 }'
}
all_apps "$mono_cache" > /dev/null # the cache holds the previous commit
k_total=0; g_total=0
for c in $(seq 1 "$MONO_COMMITS"); do
  sed -i "s/replicas: 2/replicas: $((c + 2))/" "$mono/apps/app-$c/base/deployments.yaml"
  k_total=$((k_total + $(all_apps "")))
  g_total=$((g_total + $(all_apps "$mono_cache")))
done
echo
echo "| monorepo, $MONO_APPS applications x $MONO_DEPLOYMENTS Deployments, $MONO_COMMITS commits | total wall (ms) |"
echo "|---|---:|"
echo "| kustomize build of every application, each commit | $k_total |"
echo "| generate of every application with a warm cache (one changed per commit) | $g_total |"
echo
echo "kustomize / warm generate = $(bc -l <<< "scale=1; $k_total/$g_total")× (goal: at least 20×)"
