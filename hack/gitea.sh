#!/usr/bin/env bash
# Builds Gitea from the Go module proxy into a cache outside the repository, keyed by
# version, and prints the binary's path. The tests of pull-request mode run it as a
# real forge (shared/forge/giteatest). The build embeds no assets: the tests point
# Gitea at the module directory for its templates and translations, so that directory
# is downloaded here too. A second run reuses both. Progress goes to stderr.
set -euo pipefail

GITEA_VERSION=${GITEA_VERSION:-v1.27.3}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
bin="$CACHE/gitea/${GITEA_VERSION}/gitea"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# Outside any module and workspace, `go mod download` fetches the module and says
# where it is.
src=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "code.gitea.io/gitea@${GITEA_VERSION}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
if [[ -z "$src" || ! -d "$src/options/locale" ]]; then
  echo "gitea.sh: could not download code.gitea.io/gitea@${GITEA_VERSION}" >&2
  exit 1
fi

if [[ ! -x "$bin" ]]; then
  echo ">> building Gitea ${GITEA_VERSION} (first time only: about 3 minutes on 2 cores)" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$src" && CGO_ENABLED=1 GOWORK=off GOFLAGS=-mod=mod \
    go build -trimpath -tags 'sqlite sqlite_unlock_notify' -o "$bin.tmp" . >&2)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
