#!/usr/bin/env bash
# The promotion-gate demo (make demo): the whole promotion story on this machine, with
# real parts.
#
#   1. builds what it needs: the promotion-gate CLI, flux-gate, argocd-promotion-gate and
#      the demo into ./bin; kube-apiserver, etcd and Argo CD's argocd-cmp-server into the
#      cache outside the repository (the first run takes a while; later runs reuse it);
#   2. in CI: the promotion-gate CLI checks the prod overlay against the example policy;
#   3. runs bin/promotion-gate-demo: a kube-apiserver, a Git server, an OCI registry,
#      flux-gate and the Argo CD sidecar, and the story from a Flux proposal to the
#      rollback point, then signed and unsigned images (a key and a test transparency log
#      made for the run). It tears everything down and exits non-zero naming the failed step.
#   4. (records and rollbacks: test/demo/records.go) in chapter 4 a person reverts the 1.9.0
#      promotion on main, Flux proposes 1.9.0 again and flux-gate holds it as rolled back;
#      1.9.1, a different digest, is promoted later as usual; in chapter 8
#      bin/promotion-gate history lists the promotions and the rollback, each with its
#      rollback commit, read from the record tags flux-gate wrote in the repository.
#   5. (chapter 9, pull-request mode: test/demo/pullrequest.go) a real Gitea whose main is
#      protected: flux-gate posts the status the merge needs, and a person merges.
#
# KUBEBUILDER_ASSETS and PROMOTION_GATE_ARGOCD_BIN, when set, are used as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bin=$repo/bin
mkdir -p "$bin"

say() { printf '%s\n' "$*" >&2; }

# progress LABEL -- COMMAND...: runs COMMAND (its stdout captured and printed at the end)
# and says every 30 seconds that it is still working, so a long first build is not silent.
progress() {
  local label=$1; shift 2
  local out rc=0 start=$SECONDS
  out=$(mktemp)
  "$@" >"$out" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || break 2
    done
    say "   ... $label: still working ($((SECONDS - start))s)"
  done
  wait "$pid" || rc=$?
  cat "$out"
  rm -f "$out"
  return $rc
}

gobuild() { # module, package, output: the default build environment, as `make build` and `go test` use it
  (cd "$repo/$1" && go build -o "$3" "$2")
}

command -v git >/dev/null || { say "demo: git is not on the PATH: the demo's Git server (Flux's gittestserver) runs it; install git"; exit 2; }

say "== Building what the demo needs (cached: a second run takes seconds)"
if [[ ! -x "${KUBEBUILDER_ASSETS:-/nonexistent}/kube-apiserver" ]]; then
  say ">> kube-apiserver and etcd (hack/envtest-assets.sh: cached; the first build takes several minutes on 2 cores)"
  KUBEBUILDER_ASSETS=$(progress "kube-apiserver and etcd" -- bash hack/envtest-assets.sh)
fi
export KUBEBUILDER_ASSETS
say "   KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
if [[ ! -x "${PROMOTION_GATE_ARGOCD_BIN:-/nonexistent}/argocd-cmp-server" ]]; then
  say ">> Argo CD's argocd-cmp-server and the repo-server stand-in (hack/argocd-harness.sh: cached; the first build takes several minutes)"
  PROMOTION_GATE_ARGOCD_BIN=$(progress "argocd-cmp-server" -- bash hack/argocd-harness.sh)
fi
export PROMOTION_GATE_ARGOCD_BIN
say "   PROMOTION_GATE_ARGOCD_BIN=$PROMOTION_GATE_ARGOCD_BIN"
for target in "flux-gate ./cmd/flux-gate flux-gate" \
  "argocd-plugin ./cmd/argocd-promotion-gate argocd-promotion-gate" \
  "test ./cmd/promotion-gate-demo promotion-gate-demo" \
  "shared ./cmd/promotion-gate promotion-gate"; do
  read -r module pkg name <<<"$target"
  say ">> bin/$name"
  progress "bin/$name" -- gobuild "$module" "$pkg" "$bin/$name"
done

# --- pull-request mode: the real Gitea of chapter 9 (hack/gitea.sh: cached; the first build
# takes about 3 minutes on 2 cores). It also fetches the module directory Gitea serves its
# templates from. ---
say ">> Gitea, the real forge of the pull-request chapter"
PROMOTION_GATE_GITEA_BIN=$(progress "Gitea" -- bash hack/gitea.sh)
export PROMOTION_GATE_GITEA_BIN
say "   PROMOTION_GATE_GITEA_BIN=$PROMOTION_GATE_GITEA_BIN"
# --- end of pull-request mode ---

pg=$bin/promotion-gate
policy=examples/policy
examples=examples/platform-config
prod=$examples/apps/payments-api/overlays/prod
failed() { echo "demo: step failed: $*" >&2; exit 1; }

printf '\n== In CI: the promotion-gate CLI checks a change before it merges (policy-dry-run-prod)\n'
printf '   The platform baseline from examples/policy (flux-gate and the Argo CD plugin load it below, with a\n'
printf '   signatures rule added from examples/supply-chain):\n'
"$pg" policy validate "$policy" | sed 's/^/   /' || failed "the example policy does not validate"
"$pg" check "$prod" --policy "$policy" --repo-root "$examples" | sed 's/^/   /' ||
  failed "the prod overlay, pinned by digest, must be allowed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$examples/." "$tmp/"
sed -i -E 's/^(\s+)digest: .*/\1newTag: latest/; /newTag: 1.8.3/d' "$tmp/apps/payments-api/overlays/prod/kustomization.yaml"
printf '   The prod overlay changed to payments-api:latest:\n'
rc=0
"$pg" check "$tmp/apps/payments-api/overlays/prod" --policy "$policy" --repo-root "$tmp" >"$tmp/out" || rc=$?
sed -e "s#$tmp/##g" -e 's/^/   /' "$tmp/out"
[[ $rc == 1 ]] || failed "the prod overlay with :latest must be denied (exit 1), got exit $rc"

rm -rf "$tmp"
trap - EXIT

exec "$bin/promotion-gate-demo" -repo "$repo"
