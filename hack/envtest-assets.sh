#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into a cache outside the
# repository, keyed by version, and prints the directory to use as KUBEBUILDER_ASSETS.
# A second run reuses the cache. Progress goes to stderr; the path alone to stdout.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
dir="$CACHE/envtest/kube-${KUBE_VERSION}-etcd-${ETCD_VERSION}"

if [[ -x "$dir/kube-apiserver" && -x "$dir/etcd" ]]; then
  echo "$dir"
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
minor=${KUBE_VERSION#v1.}   # 34.4
staging_version="v0.${minor}"

if [[ ! -x "$dir/kube-apiserver" ]]; then
  echo ">> building kube-apiserver ${KUBE_VERSION} (first time only: several minutes on 2 cores)" >&2
  mkdir -p "$work/apiserver"
  cd "$work/apiserver"
  go mod init envtest-apiserver >/dev/null 2>&1
  for repo in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go \
    cloud-provider cluster-bootstrap code-generator component-base component-helpers \
    controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation \
    endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy \
    kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission \
    sample-apiserver sample-cli-plugin sample-controller; do
    go mod edit -replace "k8s.io/${repo}=k8s.io/${repo}@${staging_version}"
  done
  go mod edit -require "k8s.io/kubernetes@${KUBE_VERSION}"
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  GOFLAGS=-mod=mod go mod tidy >&2 2>&1 || GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kube-apiserver@${KUBE_VERSION}" >&2
  # Stamp the version, as the release build does, so clients (Helm's kubeVersion checks)
  # see v1.34.4 rather than v0.0.0.
  stamp="-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*}"
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags="-s ${stamp}" -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
fi

if [[ ! -x "$dir/etcd" ]]; then
  echo ">> building etcd ${ETCD_VERSION} (first time only, about 1 minute)" >&2
  mkdir -p "$work/etcd"
  cd "$work/etcd"
  go mod init envtest-etcd >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >&2
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$dir/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$dir/etcd.tmp" "$dir/etcd"
fi
echo "$dir"
