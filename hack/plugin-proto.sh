#!/usr/bin/env bash
# Regenerates the Go code of the plugin protocol (shared/plugin/proto/v1) from its .proto.
# The generated code is committed, so builds and tests never need protoc; run this after
# changing checker.proto. Needs protoc (Debian/Ubuntu: apt-get install protobuf-compiler);
# protoc-gen-go and protoc-gen-go-grpc are installed, at the versions below, into a cache
# outside the repository and reused.
set -euo pipefail

# protoc-gen-go matches google.golang.org/protobuf in shared/go.mod; protoc-gen-go-grpc
# generates code for grpc.SupportPackageIsVersion9, which the grpc in shared/go.mod has.
PROTOC_GEN_GO_VERSION=${PROTOC_GEN_GO_VERSION:-v1.36.12}
PROTOC_GEN_GO_GRPC_VERSION=${PROTOC_GEN_GO_GRPC_VERSION:-v1.6.2}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
tools="$CACHE/tools/protoc-gen-go-${PROTOC_GEN_GO_VERSION}-grpc-${PROTOC_GEN_GO_GRPC_VERSION}"

if ! command -v protoc >/dev/null; then
  echo "protoc not found: install it (Debian/Ubuntu: apt-get install protobuf-compiler)" >&2
  exit 1
fi
if [[ ! -x "$tools/protoc-gen-go" || ! -x "$tools/protoc-gen-go-grpc" ]]; then
  echo ">> installing protoc-gen-go ${PROTOC_GEN_GO_VERSION} and protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION} into $tools" >&2
  mkdir -p "$tools"
  GOWORK=off GOBIN="$tools" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
  GOWORK=off GOBIN="$tools" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"
fi

cd "$(dirname "$0")/../shared/plugin/proto/v1"
PATH="$tools:$PATH" protoc --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  checker.proto
echo ">> generated $(pwd)/checker.pb.go and checker_grpc.pb.go ($(protoc --version))" >&2
