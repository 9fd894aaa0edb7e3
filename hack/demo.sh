#!/usr/bin/env bash
# The promotion-gate demo: check every example overlay and the Helm chart against the
# example platform policy, then show what happens when prod is given a mutable tag.
# Exits non-zero, naming the step, when a verdict is not the one expected.
set -euo pipefail
cd "$(dirname "$0")/.."
pg=${PROMOTION_GATE:-bin/promotion-gate}
policy=examples/policy
repo=examples/platform-config
app=$repo/apps/payments-api

step() { printf '\n== %s\n' "$*"; }
expect() { # expect CODE DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  local got=0
  "$@" || got=$?
  if [[ $got != "$want" ]]; then
    echo "demo: step failed: $what: exit code $got, expected $want" >&2
    exit 1
  fi
}

step "The platform policy (examples/policy): what counts as prod, and what prod demands"
expect 0 "validate the policy" -- "$pg" policy validate "$policy"

for env in dev staging prod; do
  step "kustomize overlay $env: $app/overlays/$env"
  want=0
  expect $want "check the $env overlay" -- "$pg" check "$app/overlays/$env" --policy "$policy" --repo-root "$repo"
done

for env in dev staging prod; do
  step "Helm chart with values-$env.yaml: $repo/charts/payments-api"
  expect 0 "check the chart with values-$env.yaml" -- \
    "$pg" check "$repo/charts/payments-api" -f "values-$env.yaml" --policy "$policy" --repo-root "$repo"
done

step "A promotion that would run a mutable tag in prod: the prod overlay set to :latest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$repo/." "$tmp/"
sed -i -E 's/^(\s+)digest: .*/\1newTag: latest/; /newTag: 1.8.3/d' "$tmp/apps/payments-api/overlays/prod/kustomization.yaml"
expect 1 "the prod overlay with :latest must be denied" -- \
  "$pg" check "$tmp/apps/payments-api/overlays/prod" --policy "$policy" --repo-root "$tmp"

step "Done: prod is allowed only when pinned by digest from an approved registry."
