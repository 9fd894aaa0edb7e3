#!/usr/bin/env bash
# Runs every Go fuzz target in the workspace briefly (FUZZTIME each, default 5s), after
# its committed seed corpus. A crash fails the run and leaves the input in testdata/fuzz.
set -euo pipefail
fuzztime=${FUZZTIME:-5s}
cd "$(dirname "$0")/.."
status=0
while IFS=: read -r file target; do
  dir=$(dirname "$file")
  mod=${dir%%/*}
  echo ">> fuzz ${dir} ${target} (${fuzztime})"
  if ! (cd "$mod" && go test "./${dir#*/}" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"); then
    status=1
  fi
done < <(grep -rHoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' shared flux-gate argocd-plugin 2>/dev/null \
          | sed -E 's/func //' | sort -u)
exit $status
