#!/usr/bin/env bash
# Copies into the charts the files they carry from the components (a chart cannot read
# files outside its directory): the generated PromotionGate CRD into charts/flux-gate/crds,
# and the plugin's plugin.yaml into charts/argocd-promotion-gate/files. The chart tests
# fail when a copy is stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

crds=("$root"/flux-gate/config/crd/bases/*.yaml)
[[ -e "${crds[0]}" ]] || { echo "no CRD in flux-gate/config/crd/bases: run make generate first" >&2; exit 1; }
rm -f "$root"/charts/flux-gate/crds/*.yaml
cp "${crds[@]}" "$root/charts/flux-gate/crds/"
cp "$root/argocd-plugin/plugin.yaml" "$root/charts/argocd-promotion-gate/files/plugin.yaml"
echo ">> charts synced: $(cd "$root" && ls charts/flux-gate/crds/*.yaml | tr '\n' ' ')charts/argocd-promotion-gate/files/plugin.yaml" >&2
