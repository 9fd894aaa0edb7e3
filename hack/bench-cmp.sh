#!/usr/bin/env bash
# make bench-cmp: what the Argo CD plugin costs next to the tools it replaces.
#
# Measures whole-process wall time and peak memory (GNU time's maximum resident set
# size) of
#   1. argocd-promotion-gate generate           (render + policy check, one process)
#   2. kustomize build                          (render only)
#   3. kustomize build | conftest test -        (render, then an equivalent Rego policy)
# on the prod example overlay and on a generated prod overlay of 2,000 Deployments.
# kustomize and conftest are built from the Go module proxy into the cache outside the
# repository. Prints a markdown table for docs/benchmarks.md.
#
# BENCH_RUNS (default 7) runs per command; the median time and the median peak memory
# are reported. BENCH_DEPLOYMENTS (default 2000) sizes the generated overlay.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-7}
DEPLOYMENTS=${BENCH_DEPLOYMENTS:-2000}
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.2} # kustomize/api v0.21.2, as shared/ uses; v5.8.3 needs Go 1.27
CONFTEST_VERSION=${CONFTEST_VERSION:-v0.71.1}
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "building argocd-promotion-gate"
(cd "$repo/argocd-plugin" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$work/argocd-promotion-gate" ./cmd/argocd-promotion-gate) >&2
PLUGIN="$work/argocd-promotion-gate"

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

# name: the reference without tag and digest; tag: "" when there is none.
split_ref(image) := [name, tag] if {
	no_digest := split(image, "@")[0]
	parts := split(no_digest, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
	name := trim_suffix(no_digest, concat("", [":", tag]))
}

split_ref(image) := [split(image, "@")[0], ""] if {
	parts := split(split(image, "@")[0], "/")
	not contains(parts[count(parts) - 1], ":")
}

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

# measure LABEL DIR COMMAND...: RUNS runs in DIR; prints "median_ms median_kb".
measure() {
  local dir=$1; shift
  local times=() mems=() start end
  for _ in $(seq 1 "$RUNS"); do
    start=$EPOCHREALTIME
    (cd "$dir" && /usr/bin/time -v -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt") || {
      log "failed: $*"; cat "$work/stderr.txt" >&2; return 1; }
    end=$EPOCHREALTIME
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%d", (e - s) * 1000 }')")
    mems+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")")
  done
  echo "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
       "$(printf '%s\n' "${mems[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
}

# bench NAME REPO APP_PATH: one table block.
bench() {
  local name=$1 root=$2 path=$3 dir="$2/$3"
  log "benchmarking $name ($RUNS runs each)"
  local p k c
  p=$(env ARGOCD_APP_SOURCE_PATH="$path" ARGOCD_APP_NAME=bench ARGOCD_APP_NAMESPACE=bench \
        PROMOTION_GATE_POLICY_DIR="$repo/examples/policy" measure "$dir" "$PLUGIN" generate)
  k=$(measure "$dir" "$KUSTOMIZE" build .)
  if [[ -n "$CONFTEST" ]]; then
    c=$(measure "$dir" bash -c "'$KUSTOMIZE' build . | '$CONFTEST' test --no-color --policy '$work/rego' -")
  fi
  read -r pt pm <<< "$p"; read -r kt km <<< "$k"
  printf '| %s | argocd-promotion-gate generate | %d | %.1f | %.2f× | %.2f× |\n' "$name" "$pt" "$(bc -l <<< "$pm/1024")" \
    "$(bc -l <<< "$pt/$kt")" "$(bc -l <<< "$pm/$km")"
  printf '| %s | kustomize build | %d | %.1f | 1.00× | 1.00× |\n' "$name" "$kt" "$(bc -l <<< "$km/1024")"
  if [[ -n "$CONFTEST" ]]; then
    read -r ct cm <<< "$c"
    printf '| %s | kustomize build \\| conftest test | %d | %.1f | %.2f× | %.2f× |\n' "$name" "$ct" "$(bc -l <<< "$cm/1024")" \
      "$(bc -l <<< "$ct/$kt")" "$(bc -l <<< "$cm/$km")"
  else
    printf '| %s | kustomize build \\| conftest test | n/a | n/a | conftest %s did not build | |\n' "$name" "$CONFTEST_VERSION"
  fi
}

command -v bc > /dev/null || { log "installing bc"; sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"; $sudo apt-get install -y -qq bc >&2; }

# The generated overlay must pass the plugin's policy, so both render everything.
(cd "$gen/apps/fleet/overlays/prod" && ARGOCD_APP_SOURCE_PATH=apps/fleet/overlays/prod PROMOTION_GATE_POLICY_DIR="$repo/examples/policy" \
  "$PLUGIN" generate > /dev/null) || { log "the generated overlay does not pass the example policy"; exit 1; }

echo "$(go env GOVERSION), $(nproc) CPUs, $RUNS runs each, median; kustomize $KUSTOMIZE_VERSION, conftest ${CONFTEST:+$CONFTEST_VERSION}${CONFTEST:-not built}"
echo
echo "| input | command | wall time (ms) | peak RSS (MiB) | time vs kustomize | memory vs kustomize |"
echo "|---|---|---:|---:|---:|---:|"
bench "prod example" "$repo/examples/platform-config" apps/payments-api/overlays/prod
bench "$DEPLOYMENTS Deployments" "$gen" apps/fleet/overlays/prod
