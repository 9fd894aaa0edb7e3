#!/usr/bin/env bash
# Builds Argo CD's real argocd-cmp-server and the cmp-client (a repo-server stand-in)
# from test/argocd-harness into a cache outside the repository, keyed by the argo-cd
# version, and prints the directory (the tests read it from PROMOTION_GATE_ARGOCD_BIN).
# A second run reuses the cache; cmp-client is rebuilt when its sources change.
# Progress goes to stderr; the path alone to stdout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
harness="$repo/test/argocd-harness"
# The argo-cd version is the one test/argocd-harness/go.mod requires.
ARGOCD_VERSION=$(awk '$1 == "github.com/argoproj/argo-cd/v2" { print $2; exit }' "$harness/go.mod")
if [[ -z "$ARGOCD_VERSION" ]]; then
  ARGOCD_VERSION=$(sed -n 's#^require github.com/argoproj/argo-cd/v2 \(v[^ ]*\)$#\1#p' "$harness/go.mod")
fi
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
dir="$CACHE/argocd/$ARGOCD_VERSION"
mkdir -p "$dir"

# The harness module pins k8s.io/* v0.31 for argo-cd; keep it out of the workspace.
export GOWORK=off CGO_ENABLED=0
build() { # name, package
  echo ">> building $1 (argo-cd $ARGOCD_VERSION)" >&2
  (cd "$harness" && go build -trimpath -ldflags=-s -o "$dir/$1.tmp" "$2") >&2
  mv "$dir/$1.tmp" "$dir/$1"
}

if [[ ! -x "$dir/argocd-cmp-server" ]]; then
  echo ">> first build of argocd-cmp-server takes several minutes on 2 cores" >&2
  build argocd-cmp-server ./cmd/argocd-cmp-server
fi

sources=$(cd "$harness" && cat go.mod go.sum $(find cmd -name '*.go' ! -name '*_test.go' | LC_ALL=C sort) | sha256sum | cut -d' ' -f1)
if [[ ! -x "$dir/cmp-client" || "$(cat "$dir/cmp-client.sources" 2>/dev/null)" != "$sources" ]]; then
  build cmp-client ./cmd/cmp-client
  echo "$sources" > "$dir/cmp-client.sources"
fi
echo "$dir"
