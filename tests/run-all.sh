#!/usr/bin/env bash
# Every test of the collection, stage by stage; `make test` runs this after building the venvs and the trees.
#
# The machine has two cores, so two lanes run at once. Each ansible-core line has its own venv and collection tree
# (ansible-test writes into the tree), so one line's stages run one after another in a lane while the other line's run
# in the other; the stages that need no tree share the lanes. Each stage's output goes to build/logs/<stage>.log and
# is printed at the end when the stage failed. A stage that fails does not stop the others; the exit code is non-zero
# when any failed. ONLY=units,lint runs some stages; JOBS=1 runs the lanes one after the other.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

oldest=$(sed -n 's/^OLDEST := //p' Makefile)
# Stages as "name:make target"; the first lane runs on the newest line's tree, the second on the oldest line's.
# The newest line's unit tests run from the installed tarball in a fresh venv (`make units-installed`), the way Galaxy
# users and the ansible-collections CI run them; `make units` runs the same tests in the source tree.
lane1=(
  "units:units-installed"
  "functional:functional"
  "integration:integration"
  "sanity:sanity"
  "docs-lint:docs-lint"
  "docs:docs"
  "changelog-lint:changelog-lint"
  "actionlint:actionlint"
)
lane2=(
  "units-${oldest}:units-${oldest}"
  "functional-${oldest}:functional-${oldest}"
  "integration-${oldest}:integration-${oldest}"
  "sanity-${oldest}:sanity-${oldest}"
  "package:package"
  "focus:focus"
  "ee:ee"
  "lint:lint"
)

keep() {  # keep NAME: is the stage asked for (ONLY unset means every stage)?
  [ -z "${ONLY:-}" ] && return 0
  local k
  IFS=, read -ra wanted <<<"$ONLY"
  for k in "${wanted[@]}"; do [ "$1" = "$k" ] && return 0; done
  return 1
}

# What each stage runs on: "ansible-core X / Python Y" of the venv it uses.
describe_venv() {
  "$1/bin/python" -c 'import platform, ansible.release as r; print("ansible-core %s / Python %s" % (r.__version__, platform.python_version()))' 2>/dev/null \
    || echo "venv $1 missing"
}
on_newest=$(describe_venv .venv)
on_oldest=$(describe_venv ".venv-${oldest}")
describe() {
  case "$1" in
    *-"${oldest}") echo "$on_oldest" ;;
    units) echo "$on_newest, installed tarball, fresh venv" ;;
    functional|integration|sanity) echo "$on_newest" ;;
    focus) echo "$on_newest, focus-validator in .venv-focus" ;;
    *) echo "tools on $on_newest" ;;
  esac
}

logs=build/logs
rm -rf "$logs" && mkdir -p "$logs"

run_lane() {  # run_lane STAGE...: one after another, each logged, its result in build/logs/<name>.result
  local stage name target start status
  for stage in "$@"; do
    name=${stage%%:*}; target=${stage#*:}
    keep "$name" || continue
    echo "=== start ${name} ($(describe "$name")): make ${target}"
    start=$(date +%s)
    if make -s "$target" >"$logs/${name}.log" 2>&1; then status=PASS; else status=FAIL; fi
    echo "$status $(( $(date +%s) - start ))" >"$logs/${name}.result"
    echo "=== ${status} ${name} after $(( $(date +%s) - start ))s (log: $logs/${name}.log)"
  done
}

started=$(date +%s)
if [ "${JOBS:-2}" -ge 2 ]; then
  run_lane "${lane1[@]}" &
  first=$!
  run_lane "${lane2[@]}" &
  second=$!
  wait "$first" "$second"
else
  run_lane "${lane1[@]}" "${lane2[@]}"
fi

passed=0; failed=0; report=()
for stage in "${lane1[@]}" "${lane2[@]}"; do
  name=${stage%%:*}
  keep "$name" || continue
  if [ -f "$logs/${name}.result" ]; then read -r status seconds <"$logs/${name}.result"; else status=FAIL; seconds=0; fi
  if [ "$status" = PASS ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "=== ${name} failed; the end of $logs/${name}.log:"
    tail -n 150 "$logs/${name}.log"
  fi
  report+=("$(printf '%-18s %s %5ss  %s' "$name" "$status" "$seconds" "$(describe "$name")")")
done
echo "=== summary (wall clock $(( $(date +%s) - started ))s, two lanes at once)"
printf '%s\n' "${report[@]}"
echo "stages: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
