#!/usr/bin/env bash
# Store rebuild at start: LayerStore.open(...) over a synthetic store of ENTRIES small raw blobs
# (named by their sha256) and VOLUMES volume records (layers.json, 10 entries each), against an
# in-run baseline that only lists and stats the same files. Prints medians, the ratio
# rebuild/baseline and whether the rebuild stays under 2 s (goal).
#
#   bench/store-rebuild.sh [JVMS] [RUNS_PER_JVM] [ENTRIES] [VOLUMES]   (defaults 3 5 10000 1000)
#
# Each JVM is fresh, as at a driver start: its first run is reported apart ("first in JVM",
# class loading and interpretation included) from the later runs ("steady"). Page cache warm.
# With DROP_CACHES=1, one more JVM measures baseline and rebuild after dropping the page cache.
set -euo pipefail
cd "$(dirname "$0")/.."
JVMS=${1:-3}
RUNS=${2:-5}
ENTRIES=${3:-10000}
VOLUMES=${4:-1000}
JAR=target/model-csi-driver.jar
[ -f "$JAR" ] && [ -f target/test-classes/org/modelpack/csi/bench/StoreRebuildBench.class ] \
  || mvn -B -q test-compile package -DskipTests
WORK=$(mktemp -d /var/tmp/model-csi-rebuild.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
bench() { java -cp "target/test-classes:$JAR" org.modelpack.csi.bench.StoreRebuildBench "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bench generate "$WORK" "$ENTRIES" "$VOLUMES" 10
echo "load average (start): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
first_b=(); first_r=(); steady_b=(); steady_r=()
for j in $(seq "$JVMS"); do
  out=$(bench measure "$WORK" "$RUNS" 2>/dev/null | grep '^run ')
  echo "$out" | awk -v j="$j" '{printf "jvm %d run %d: baseline %s ms, rebuild %s ms (%s entries, %s referenced)\n", j, $2, $3, $4, $5, $6}'
  first_b+=($(echo "$out" | awk '$2 == 1 {print $3}')); first_r+=($(echo "$out" | awk '$2 == 1 {print $4}'))
  steady_b+=($(echo "$out" | awk '$2 > 1 {print $3}')); steady_r+=($(echo "$out" | awk '$2 > 1 {print $4}'))
done
if [ "${DROP_CACHES:-0}" = 1 ]; then
  sync; echo 3 > /proc/sys/vm/drop_caches
  out=$(bench measure "$WORK" 1 2>/dev/null | grep '^run ')
  echo "$out" | awk '{printf "page cache dropped: baseline %s ms, rebuild %s ms\n", $3, $4}'
fi
echo "load average (end): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
report() {
  local name=$1 b r
  b=$(printf '%s\n' "${@:2:$(( ($# - 1) / 2 ))}" | median)
  r=$(printf '%s\n' "${@:$(( ($# - 1) / 2 + 2 ))}" | median)
  awk -v n="$name" -v b="$b" -v r="$r" 'BEGIN {
    printf "%-14s median baseline %7.1f ms, rebuild %7.1f ms, ratio rebuild/baseline %.1f, under 2 s: %s\n",
      n, b, r, r / b, (r < 2000 ? "yes" : "no") }'
}
echo "$ENTRIES entries, $VOLUMES volume records:"
report "first in JVM:" "${first_b[@]}" "${first_r[@]}"
report "steady:" "${steady_b[@]}" "${steady_r[@]}"
