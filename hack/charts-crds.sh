#!/usr/bin/env bash
# Writes the third-party CRDs that the chart tests (test/charts) install before applying
# the charts, into test/charts/testdata/crds, each with a header naming its origin:
#   - Argo CD's Application CRD, copied from the argo-cd module source
#     (manifests/crds/application-crd.yaml), located with `go mod download -json`;
#   - prometheus-operator's ServiceMonitor CRD, generated with controller-gen from the
#     monitoring api module (the flux-gate chart renders a ServiceMonitor).
# The files are committed: run this only to move to other versions.
set -euo pipefail

ARGOCD_VERSION=${ARGOCD_VERSION:-v2.14.21}
MONITORING_VERSION=${MONITORING_VERSION:-v0.95.2}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/test/charts/testdata/crds"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Argo CD Application CRD -------------------------------------------------------------
mod="github.com/argoproj/argo-cd/v2@${ARGOCD_VERSION}"
dir=$(cd "$work" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$mod" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
src="$dir/manifests/crds/application-crd.yaml"
[[ -f "$src" ]] || { echo "no $src in $mod" >&2; exit 1; }
{
  echo "# Argo CD Application CRD, copied unchanged from the Go module $mod,"
  echo "# file manifests/crds/application-crd.yaml (Apache License 2.0)."
  echo "# Regenerate with hack/charts-crds.sh."
  cat "$src"
} >"$out/argoproj.io_applications.yaml"
echo ">> $out/argoproj.io_applications.yaml (from $mod)" >&2

# --- prometheus-operator ServiceMonitor CRD -----------------------------------------------
cg="$CACHE/tools/controller-gen-${CONTROLLER_TOOLS_VERSION}/controller-gen"
if [[ ! -x "$cg" ]]; then
  echo ">> building controller-gen ${CONTROLLER_TOOLS_VERSION}" >&2
  GOWORK=off GOBIN="$(dirname "$cg")" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_TOOLS_VERSION}"
fi
mon="github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
mkdir -p "$work/gen"
(
  cd "$work/gen"
  go mod init crdgen >/dev/null 2>&1
  GOWORK=off GOFLAGS=-mod=mod go get "${mon}@${MONITORING_VERSION}" >&2
  GOWORK=off GOFLAGS=-mod=mod "$cg" crd:maxDescLen=0 paths="${mon}/v1" output:crd:dir="$work/gen/out" >&2
)
{
  echo "# prometheus-operator ServiceMonitor CRD, generated with controller-gen ${CONTROLLER_TOOLS_VERSION}"
  echo "# (crd:maxDescLen=0) from the Go module ${mon}@${MONITORING_VERSION}."
  echo "# Regenerate with hack/charts-crds.sh."
  cat "$work/gen/out/monitoring.coreos.com_servicemonitors.yaml"
} >"$out/monitoring.coreos.com_servicemonitors.yaml"
echo ">> $out/monitoring.coreos.com_servicemonitors.yaml (from ${mon}@${MONITORING_VERSION})" >&2
