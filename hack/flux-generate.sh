#!/usr/bin/env bash
# Generates flux-gate's API code and manifests (the `make generate` step for flux-gate):
#   - deepcopy functions for api/v1alpha1 (controller-gen object)
#   - the PromotionGate CRD into flux-gate/config/crd/bases (controller-gen crd)
#   - the controller's RBAC role into flux-gate/config/rbac (controller-gen rbac)
#   - the Flux CRDs the envtest suites install, into flux-gate/config/testdata/crds:
#     GitRepository copied from the github.com/fluxcd/source-controller module, and
#     ImageRepository, ImagePolicy and ImageUpdateAutomation generated from the Flux
#     api modules with controller-gen.
# controller-gen is built once from the Go module proxy into the cache directory.
set -euo pipefail

CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
SOURCE_CONTROLLER_VERSION=${SOURCE_CONTROLLER_VERSION:-v1.9.6}
IMAGE_AUTOMATION_API_VERSION=${IMAGE_AUTOMATION_API_VERSION:-v1.2.5}
IMAGE_REFLECTOR_API_VERSION=${IMAGE_REFLECTOR_API_VERSION:-v1.2.5}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}

root=$(cd "$(dirname "$0")/.." && pwd)
gate="$root/flux-gate"
tools="$CACHE/tools/controller-gen-${CONTROLLER_TOOLS_VERSION}"
cgen="$tools/controller-gen"

if [[ ! -x "$cgen" ]]; then
  echo ">> building controller-gen ${CONTROLLER_TOOLS_VERSION} (first time only)" >&2
  mkdir -p "$tools"
  GOWORK=off GOFLAGS=-mod=mod GOBIN="$tools" \
    go install "sigs.k8s.io/controller-tools/cmd/controller-gen@${CONTROLLER_TOOLS_VERSION}"
fi

echo ">> flux-gate: deepcopy, CRD and RBAC" >&2
cd "$gate"
"$cgen" object paths=./api/...
"$cgen" crd paths=./api/... output:crd:artifacts:config=config/crd/bases
"$cgen" rbac:roleName=flux-gate paths=./internal/controller/... output:rbac:artifacts:config=config/rbac

echo ">> Flux CRDs for tests" >&2
crds="$gate/config/testdata/crds"
mkdir -p "$crds"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > go.mod <<MOD
module fluxcrds

go 1.26.0

MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "github.com/fluxcd/image-automation-controller/api/v1"
	_ "github.com/fluxcd/image-reflector-controller/api/v1"
)
GO
export GOWORK=off GOFLAGS=-mod=mod
go get \
  "github.com/fluxcd/image-automation-controller/api@${IMAGE_AUTOMATION_API_VERSION}" \
  "github.com/fluxcd/image-reflector-controller/api@${IMAGE_REFLECTOR_API_VERSION}" \
  "github.com/fluxcd/source-controller/api@${SOURCE_CONTROLLER_VERSION}" >&2
"$cgen" crd \
  paths=github.com/fluxcd/image-automation-controller/api/... \
  paths=github.com/fluxcd/image-reflector-controller/api/... \
  output:crd:artifacts:config="$crds"

src=$(go mod download -json "github.com/fluxcd/source-controller@${SOURCE_CONTROLLER_VERSION}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [[ -z "$src" || ! -f "$src/config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml" ]]; then
  echo "no GitRepository CRD in github.com/fluxcd/source-controller@${SOURCE_CONTROLLER_VERSION}" >&2
  exit 1
fi
install -m 0644 "$src/config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml" "$crds/"
echo ">> done: $gate/config/crd/bases, $gate/config/rbac, $crds" >&2
