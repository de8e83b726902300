#!/usr/bin/env bash
# Every test of the collection, stage by stage; `make test` runs this after building the venvs and the tree.
# A stage that fails does not stop the others; the exit code is non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
stages=(
  "units:make -s units"
  "units-2.16:make -s units-2.16"
  "functional:make -s functional"
  "integration:make -s integration"
  "integration-2.16:make -s integration-2.16"
  "sanity:make -s sanity"
  "lint:make -s lint"
  "docs-lint:make -s docs-lint"
  "changelog-lint:make -s changelog-lint"
)
[ -n "${ONLY:-}" ] && { IFS=, read -ra keep <<<"$ONLY"; filtered=(); for s in "${stages[@]}"; do for k in "${keep[@]}"; do [ "${s%%:*}" = "$k" ] && filtered+=("$s"); done; done; stages=("${filtered[@]}"); }
passed=0; failed=0; report=()
for stage in "${stages[@]}"; do
  name=${stage%%:*}; cmd=${stage#*:}
  echo "=== ${name}: ${cmd}"
  start=$(date +%s)
  if bash -c "$cmd"; then status=PASS; passed=$((passed + 1)); else status=FAIL; failed=$((failed + 1)); fi
  report+=("$(printf '%-18s %s %4ss' "$name" "$status" "$(( $(date +%s) - start ))")")
done
echo "=== summary"
printf '%s\n' "${report[@]}"
echo "stages: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
