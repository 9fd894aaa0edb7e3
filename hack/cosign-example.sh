#!/usr/bin/env bash
# make cosign-example: the worked example of docs/supply-chain.md, end to end, with the
# real cosign. It builds cosign, crane and an in-memory OCI registry (cached outside the
# repository, keyed by version), starts the registry on loopback, pushes five images, signs
# and attests them with a cosign key pair — in cosign v3's bundle format (OCI referrers)
# and in the legacy sha256-<digest>.sig/.att tag format — and runs `promotion-gate check`
# on a prod kustomization pinned to each digest in turn. It fails when a verdict, an exit
# status or a finding differs from the one the document shows.
#
# Not part of `make test`: the first build of cosign takes about ten minutes on 2 cores.
# REGISTRY_PORT (default 5000) is the loopback port of the registry; KEEP=1 keeps the
# working directory and prints it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COSIGN_VERSION=${COSIGN_VERSION:-v3.1.3}
GGCR_VERSION=${GGCR_VERSION:-v0.22.1} # go-containerregistry, as shared/go.mod requires
PORT=${REGISTRY_PORT:-5000}
CACHE=${PROMOTION_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promotion-gate}
tools="$CACHE/tools"
log() { echo ">> $*" >&2; }

# go install a tool at a version into the cache, once. GOTOOLCHAIN=local: use this Go,
# never download another.
tool() { # name, version, package
  local dir="$tools/$1-$2"
  if [[ ! -x "$dir/$1" ]]; then
    log "building $1 $2 (first time only${4:+; $4})"
    mkdir -p "$dir"
    GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$dir" go install -trimpath -ldflags=-s "$3@$2" >&2
  fi
  echo "$dir/$1"
}
COSIGN=$(tool cosign "$COSIGN_VERSION" github.com/sigstore/cosign/v3/cmd/cosign "about ten minutes")
CRANE=$(tool crane "$GGCR_VERSION" github.com/google/go-containerregistry/cmd/crane)

# go-containerregistry's own cmd/registry leaves the OCI referrers API off; this one is the
# same in-memory registry (pkg/registry) with it on, listening on loopback only.
REGISTRY="$tools/oci-registry-$GGCR_VERSION/registry"
if [[ ! -x "$REGISTRY" ]]; then
  log "building the in-memory OCI registry (go-containerregistry $GGCR_VERSION)"
  src=$(mktemp -d)
  cat > "$src/main.go" <<'EOF'
// Command registry serves go-containerregistry's in-memory registry, with the OCI 1.1
// referrers API, on loopback.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	port := flag.Int("port", 5000, "loopback port to listen on")
	flag.Parse()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on %s", l.Addr())
	s := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: registry.New(registry.WithReferrersSupport(true))}
	log.Fatal(s.Serve(l))
}
EOF
  printf 'module registry\n\ngo 1.24\n\nrequire github.com/google/go-containerregistry %s\n' "$GGCR_VERSION" > "$src/go.mod"
  mkdir -p "$(dirname "$REGISTRY")"
  (cd "$src" && GOWORK=off GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$REGISTRY" .) >&2
  rm -rf "$src"
fi

work=$(mktemp -d)
registry_pid=""
cleanup() {
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null || true
  if [[ "${KEEP:-}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
log "building promotion-gate"
(cd "$repo/shared" && CGO_ENABLED=0 go build -trimpath -o "$work/bin/promotion-gate" ./cmd/promotion-gate) >&2
export PATH="$work/bin:$(dirname "$COSIGN"):$(dirname "$CRANE"):$PATH"
# cosign keeps its TUF cache here rather than in ~/.sigstore; offline it finds nothing.
export TUF_ROOT="$work/tuf" DOCKER_CONFIG="$work/docker"
mkdir -p "$DOCKER_CONFIG"

# Everything below is what docs/supply-chain.md shows, in the same order; each step
# prints its command (+) and output.
show() { echo "\$ $*"; "$@" 2>&1; }
cd "$work"

"$REGISTRY" -port "$PORT" > registry.log 2>&1 &
registry_pid=$!
for _ in $(seq 50); do grep -q "serving on" registry.log && break; sleep 0.1; done
grep -q "serving on" registry.log || { cat registry.log >&2; exit 1; }
R="localhost:$PORT/payments-api"

echo "## 1. Five images"
versions=(1.0.0 1.0.1 1.0.2 1.0.3 1.0.4)
declare -A D
for v in "${versions[@]}"; do
  # A one-file layer with fixed metadata, so that the digests are the same every run.
  mkdir -p "layer-$v" && echo "payments-api $v" > "layer-$v/VERSION"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "layer-$v" -cf "layer-$v.tar" VERSION
  crane append --oci-empty-base -f "layer-$v.tar" -t "$R:v$v" >/dev/null 2>&1
  D[$v]=$(crane digest "$R:v$v")
  echo "v$v $R@${D[$v]}"
done

echo "## 2. A key pair and a signing config without a transparency log"
export COSIGN_PASSWORD=example-only
show cosign generate-key-pair
show cosign signing-config create --out signing-config.json
cat signing-config.json; echo

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
vuln() { # severity of the second finding
  cat <<EOF
{
  "scanner": {
    "uri": "pkg:github/aquasecurity/trivy@v0.58.0",
    "version": "v0.58.0",
    "result": {
      "SchemaVersion": 2,
      "ArtifactName": "$R",
      "Results": [{"Target": "payments-api", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2026-0100", "PkgName": "curl", "Severity": "HIGH"},
        {"VulnerabilityID": "CVE-2026-0200", "PkgName": "openssl", "Severity": "$1"}
      ]}]
    }
  },
  "metadata": {"scanStartedOn": "$now", "scanFinishedOn": "$now"}
}
EOF
}
vuln MEDIUM > scan.json
vuln CRITICAL > scan-critical.json
cat > provenance.json <<'EOF'
{
  "buildDefinition": {
    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
    "externalParameters": {"workflow": {
      "repository": "https://github.com/example/payments-api",
      "ref": "refs/tags/v1.0.0",
      "path": ".github/workflows/release.yml"}}
  },
  "runDetails": {"builder": {
    "id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0"}}
}
EOF

bundle=(--key cosign.key --signing-config signing-config.json --yes)
legacy=(--key cosign.key --new-bundle-format=false --use-signing-config=false --tlog-upload=false --yes)
echo "## 3. v1.0.0: signed and attested as Sigstore bundles (OCI referrers)"
show cosign sign "${bundle[@]}" "$R@${D[1.0.0]}"
show cosign attest "${bundle[@]}" --type slsaprovenance1 --predicate provenance.json "$R@${D[1.0.0]}"
show cosign attest "${bundle[@]}" --type vuln --predicate scan.json "$R@${D[1.0.0]}"
echo "## 4. v1.0.2: signed and attested in the legacy tag format"
show cosign sign "${legacy[@]}" "$R@${D[1.0.2]}"
show cosign attest "${legacy[@]}" --type slsaprovenance1 --predicate provenance.json "$R@${D[1.0.2]}"
show cosign attest "${legacy[@]}" --type vuln --predicate scan.json "$R@${D[1.0.2]}"
echo "## 5. v1.0.3: signed, but its scan found a critical vulnerability"
show cosign sign "${bundle[@]}" "$R@${D[1.0.3]}"
show cosign attest "${bundle[@]}" --type slsaprovenance1 --predicate provenance.json "$R@${D[1.0.3]}"
show cosign attest "${bundle[@]}" --type vuln --predicate scan-critical.json "$R@${D[1.0.3]}"
echo "## 6. v1.0.4: signed, by a key the policy does not name"
mkdir -p other && (cd other && cosign generate-key-pair >/dev/null 2>&1)
show cosign sign --key other/cosign.key --signing-config signing-config.json --yes "$R@${D[1.0.4]}"
show crane ls "$R"
show curl -s "http://localhost:$PORT/v2/payments-api/referrers/${D[1.0.0]}"
echo

echo "## 7. The policy and the prod overlay"
mkdir -p config/policy config/keys config/apps/payments-api/base config/apps/payments-api/overlays/prod
cp cosign.pub config/keys/
cat > config/policy/supply-chain.yaml <<'EOF'
apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: supply-chain
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**"]
  rules:
    - name: prod-signed
      environments: [prod]
      requireDigest: true
      signatures:
        authorities:
          - name: release-key
            key: {file: cosign.pub}       # relative to --trust-dir
        transparencyLog: ignore           # signed with --tlog-upload=false
      attestations:
        - name: provenance
          authorities: [release-key]
          slsaProvenance:
            builderID: "https://github.com/slsa-framework/slsa-github-generator/**"
            sourceRepository: https://github.com/example/payments-api
            sourceRef: "refs/tags/v*"
        - name: scan
          authorities: [release-key]
          vulnerabilityScan:
            maxAge: 7d
            thresholds: {critical: 0, high: 1}
EOF
cat > config/apps/payments-api/base/kustomization.yaml <<'EOF'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml]
EOF
cat > config/apps/payments-api/base/deployment.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
spec:
  replicas: 2
  selector:
    matchLabels: {app: payments-api}
  template:
    metadata:
      labels: {app: payments-api}
    spec:
      containers:
        - name: api
          image: payments-api
EOF
promote() { # version: pin the prod overlay to its digest
  cat > config/apps/payments-api/overlays/prod/kustomization.yaml <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: payments-prod
resources: [../../base]
images:
  - name: payments-api
    newName: $R
    digest: ${D[$1]}   # v$1
EOF
}
promote 1.0.0
show cat config/apps/payments-api/overlays/prod/kustomization.yaml

failed=0
# check version verdict exit [finding]: runs the gate with the overlay pinned to version.
check() {
  local v=$1 verdict=$2 want=$3 finding=${4:-} out status=0
  promote "$v"
  echo "## v$v: expect $verdict"
  echo "\$ promotion-gate check apps/payments-api/overlays/prod --policy policy/ --trust-dir keys/"
  out=$(cd config && promotion-gate check apps/payments-api/overlays/prod --policy policy/ --trust-dir keys/ 2>&1) || status=$?
  echo "$out"
  echo "(exit status $status)"
  if [[ $status -ne $want ]] || ! grep -q ": $verdict (" <<<"$out" || { [[ -n "$finding" ]] && ! grep -qF "$finding" <<<"$out"; }; then
    echo "!! v$v: want $verdict (exit $want)${finding:+ with \"$finding\"}" >&2
    failed=1
  fi
}
check 1.0.0 Allowed 0
check 1.0.1 Denied 1 "is unsigned: no Sigstore signature among its OCI referrers or at the legacy tag"
check 1.0.2 Allowed 0
check 1.0.3 Denied 1 'attestation "scan": 1 critical vulnerability (max 0): CVE-2026-0200'
check 1.0.4 Denied 1 'is not signed by authority "release-key" (key): it is signed by another key'

echo "## the registry goes away: fail closed"
kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=""
check 1.0.0 Denied 1 "signatures check failed"

if [[ $failed -ne 0 ]]; then
  echo "!! a verdict differs from docs/supply-chain.md" >&2
  exit 1
fi
echo ">> every verdict matches docs/supply-chain.md" >&2
