#!/usr/bin/env bash
# Whole-process timing of `gitintent validate` over the gate benches' input
# (1,000 Deployment+Service pairs in one file, see pair.yaml): schema only,
# `--builtin-policies`, and the 20 Kyverno policies of kyverno-20.txt.
# Runs are interleaved (one of each configuration per round) so that load on a
# shared machine hits all three alike. Prints min and median wall time, median
# CPU time (user+sys) and the ratios of the medians to the schema-only run.
#
#   cargo build --release --locked
#   benches/gate/process.sh [runs]        # default 10 runs; BIN=path/to/gitintent to override
#   BEFORE=path/to/old/gitintent benches/gate/process.sh [runs]
#                                         # adds builtin-before and kyverno-before: --builtin-policies
#                                         # and the 20 Kyverno policies with that binary, interleaved
#                                         # with the others (before/after in one run)
set -euo pipefail
# With RUST_BACKTRACE set, every error regorus creates and discards while it
# evaluates captures a backtrace (2-3x slower policies): measure without.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${BIN:-${CARGO_TARGET_DIR:-$root/target}/release/gitintent}
runs=${1:-10}
[ -x "$bin" ] || { echo "no binary at $bin: build with cargo build --release" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed '/^#/d' "$here/pair.yaml" > "$work/pair.yaml"
awk 'NR == FNR { pair = pair $0 "\n"; next }
     END { for (i = 0; i < 1000; i++) { p = pair; gsub(/@I@/, i, p); gsub(/@TEAM@/, i % 7, p);
           printf "%s%s", (i ? "---\n" : ""), p } }' "$work/pair.yaml" /dev/null > "$work/input.yaml"
mkdir "$work/policies"
grep -v '^#' "$here/kyverno-20.txt" | while read -r p; do
  cp "$root/tests/fixtures/policy-suites/kyverno-policies/$p" "$work/policies/"
done

names=(schema-only builtin-policies kyverno-20)
if [ -n "${BEFORE:-}" ]; then
  [ -x "$BEFORE" ] || { echo "no binary at $BEFORE" >&2; exit 2; }
  names+=(builtin-before kyverno-before)
fi
run() {
  case $1 in
    schema-only) "$bin" validate "$work/input.yaml" ;;
    builtin-policies) "$bin" validate --builtin-policies "$work/input.yaml" ;;
    builtin-before) "$BEFORE" validate --builtin-policies "$work/input.yaml" ;;
    kyverno-20) "$bin" validate --policy "$work/policies" "$work/input.yaml" ;;
    kyverno-before) "$BEFORE" validate --policy "$work/policies" "$work/input.yaml" ;;
  esac > /dev/null 2>&1 || true
}
for name in "${names[@]}"; do run "$name"; done # warm the page cache
TIMEFORMAT='%R %U %S'
for ((r = 0; r < runs; r++)); do
  for name in "${names[@]}"; do
    { time run "$name"; } 2>> "$work/$name.times"
  done
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
base=$(awk '{ print $1 }' "$work/schema-only.times" | median)
printf '%-18s %8s %8s %10s %6s\n' configuration min median cpu-median ratio
for name in "${names[@]}"; do
  min=$(awk '{ print $1 }' "$work/$name.times" | sort -g | head -1)
  med=$(awk '{ print $1 }' "$work/$name.times" | median)
  cpu=$(awk '{ print $2 + $3 }' "$work/$name.times" | median)
  printf '%-18s %7.3fs %7.3fs %9.3fs %5.1fx\n' "$name" "$min" "$med" "$cpu" "$(echo "$med $base" | awk '{ print $1 / $2 }')"
done
echo "($runs runs each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
