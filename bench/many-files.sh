#!/usr/bin/env bash
# Many files and memory (issue 12, goals 2 and 3): this branch's driver against a baseline jar
# built from main in the same run.
#   - cold and warm publish of models of N one-file raw layers (default 2,008 and 8,000 of
#     32 KiB; 20,000 layers make a ~9 MB manifest, which docker-registry refuses and the
#     driver would too: both cap manifests at 4 MiB, ~9,000 such layers): RPC time at the
#     client (PublishBench), server-side time (the driver's time_ms), the driver's CPU time
#     and the per-layer cold cost; plus the limit: curl of every blob, 5 streams in parallel
#   - peak RSS (VmHWM of the driver) after a cold publish of tar models of 1k, 10k and 100k
#     files (1 KiB each, at most 10,000 files per tar layer), each on a freshly started driver
# The driver runs with the container image's JVM flags (pom.xml, jib) and -XX:MaxRAM=1g: what
# the JVM sees in the pod under the chart's 1 GiB memory limit (without it the JVM sizes its
# first heap from the host's RAM); DRIVER_JAVA_OPTS to change them. Besides wall times it
# prints the driver's CPU time (user + system) of each cold publish, which moves less with
# the load of a shared machine. Each cold publish is on a fresh driver after a one-file
# warm-up model (class loading), so it is not a first-call figure. Needs root (bind mounts)
# and docker-registry.
#
#   bench/many-files.sh                                   full run (10-15 min on 2 cores)
#   RAW_COUNTS=2008 TAR_COUNTS="1000 10000" WARM=3 bench/many-files.sh     quick run
#   BASE_JAR=path/to/main.jar bench/many-files.sh         skip building the baseline
#   RAW_COUNTS=4 RAW_SIZE=1073741824 TAR_COUNTS= WARM=1 bench/many-files.sh
#                                 the 4.3 GB model (4 x 1 GiB): its peak RSS is goal 3's other figure
set -euo pipefail
cd "$(dirname "$0")/.."
RAW_COUNTS=${RAW_COUNTS-2008 8000}
RAW_SIZE=${RAW_SIZE:-32768}
TAR_COUNTS=${TAR_COUNTS-1000 10000 100000}
TAR_SIZE=${TAR_SIZE:-1024}
WARM=${WARM:-5}
DRIVER_JAVA_OPTS=${DRIVER_JAVA_OPTS:--XX:MaxRAM=1g -XX:MaxRAMPercentage=50 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData}
WORK=$(mktemp -d /var/tmp/model-csi-bench.XXXXXX)
. bench/lib.sh
trap bench_cleanup EXIT
require_tools
NEW_JAR=$(realpath "$JAR")

if [ -z "${BASE_JAR:-}" ]; then
  echo "building the baseline from main"
  git clone -q --branch main "$(git rev-parse --path-format=absolute --git-common-dir)" \
    "$WORK/main"
  (cd "$WORK/main" && mvn -B -q -o package -DskipTests -Dcds.skip > "$WORK/main-build.log" 2>&1) \
    || { tail -20 "$WORK/main-build.log"; exit 1; }
  BASE_JAR="$WORK/main/target/model-csi-driver.jar"
fi

# start_on JAR ROOT: the driver from JAR with the image's flags, logging each publish's time_ms.
start_on() {
  local jar=$1 root=$2
  mkdir -p "$root"; SOCK="$root/csi.sock"
  { echo "root_dir: $root"; echo "csi_endpoint: unix://$SOCK"; } > "$root.yaml"
  # shellcheck disable=SC2086
  java $DRIVER_JAVA_OPTS -jar "$jar" serve --config "$root.yaml" --log-level info \
    > "$root.log" 2>&1 &
  DRV_PID=$!
  for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || { echo "driver did not start; log:" >&2; cat "$root.log" >&2; exit 1; }
}
server_ms() { grep -o "ObservedOps - publish volume=$2 .*time_ms=[0-9]*" "$1.log" \
  | sed 's/.*time_ms=//' | tail -1; }
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000 / hz}' "/proc/$DRV_PID/stat"; }
hwm_mib() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$DRV_PID/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

start_registry
# Raw layers go straight into the registry's storage (ManyFilesModels, RegistryStorage).
gen() { java -Dregistry.storage="$WORK/registry" -cp "target/test-classes:$NEW_JAR" \
  org.modelpack.csi.bench.ManyFilesModels "$@" > /dev/null; rm -rf "$WORK/gen"; }
WARMUP_DIR="$WORK/warmup-model"; mkdir -p "$WARMUP_DIR"; echo '{"warmup":1}' > "$WARMUP_DIR/config.json"
WARMUP_REF="127.0.0.1:$PORT/bench/warmup:v1"
java -jar "$NEW_JAR" push "$WARMUP_DIR" "$WARMUP_REF" > /dev/null
for n in $RAW_COUNTS; do
  echo "pushing raw-$n: $n one-file layers of $RAW_SIZE bytes"
  gen raw "$WORK/gen" "127.0.0.1:$PORT/bench/raw-$n:v1" "$n" "$RAW_SIZE"
done
for n in $TAR_COUNTS; do
  echo "pushing tar-$n: $n files of $TAR_SIZE bytes in $(( (n + 9999) / 10000 )) tar layers"
  gen tar "$WORK/gen" "127.0.0.1:$PORT/bench/tar-$n:v1" "$n" "$TAR_SIZE" 0 $(( (n + 9999) / 10000 ))
done

echo "driver JVM flags: $DRIVER_JAVA_OPTS"
load_note start
declare -A RES
for n in $RAW_COUNTS; do
  REF="127.0.0.1:$PORT/bench/raw-$n:v1"
  # Limit: every blob once over 5 keep-alive connections (pull_config.concurrency's default).
  curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$PORT/v2/bench/raw-$n/manifests/v1" \
    | python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(sys.stdin)["layers"]]' \
    > "$WORK/digests"
  for i in 0 1 2 3 4; do
    awk -v p="http://127.0.0.1:$PORT/v2/bench/raw-$n/blobs/" -v i="$i" \
      'NR % 5 == i {print "url = " p $1; print "output = /dev/null"}' "$WORK/digests" > "$WORK/curl$i"
  done
  t0=$(now_ms); pids=()
  for i in 0 1 2 3 4; do curl -s -K "$WORK/curl$i" & pids+=($!); done
  wait "${pids[@]}"
  RES[limit-$n]=$(( $(now_ms) - t0 ))
  for side in base new; do
    jar=$BASE_JAR; [ "$side" = new ] && jar=$NEW_JAR
    root="$WORK/$side-raw-$n"
    start_on "$jar" "$root"
    bench_client "$WARMUP_REF" warmclient:300 "publish:$side-warmup" "unpublish:$side-warmup" \
      > /dev/null
    cpu0=$(cpu_ms)
    out=$(bench_client "$REF" "publish:$side-cold")
    RES[$side-cold-cpu-$n]=$(( $(cpu_ms) - cpu0 ))
    ops=("unpublish:$side-cold")
    for w in $(seq "$WARM"); do ops+=("publish:$side-warm-$w" "unpublish:$side-warm-$w"); done
    out+=$'\n'$(bench_client "$REF" "${ops[@]}")
    cold=$(echo "$out" | awk '$1 == "publish" && $2 ~ /-cold$/ {print $3}')
    warm=$(echo "$out" | awk '$1 == "publish" && $2 ~ /-warm-/ {print $3}' | median)
    ws=""; for w in $(seq "$WARM"); do ws+="$(server_ms "$root" "$side-warm-$w")"$'\n'; done
    RES[$side-cold-$n]=$cold; RES[$side-warm-$n]=$warm
    RES[$side-cold-srv-$n]=$(server_ms "$root" "$side-cold")
    RES[$side-warm-srv-$n]=$(printf '%s' "$ws" | median)
    RES[$side-rss-raw-$n]=$(hwm_mib)
    stop_driver; rm -rf "$root"
    printf '%-4s raw-%-6s cold %8s ms (server %s ms, CPU %s ms), warm median %6s ms (server %s ms), peak RSS %s MiB  [%s]\n' \
      "$side" "$n" "$cold" "${RES[$side-cold-srv-$n]}" "${RES[$side-cold-cpu-$n]}" "$warm" \
      "${RES[$side-warm-srv-$n]}" \
      "${RES[$side-rss-raw-$n]}" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
for n in $TAR_COUNTS; do
  for side in base new; do
    jar=$BASE_JAR; [ "$side" = new ] && jar=$NEW_JAR
    root="$WORK/$side-tar-$n"
    start_on "$jar" "$root"
    bench_client "$WARMUP_REF" "publish:$side-warmup" "unpublish:$side-warmup" > /dev/null
    out=$(bench_client "127.0.0.1:$PORT/bench/tar-$n:v1" "publish:$side-tar-$n")
    RES[$side-tar-cold-$n]=$(echo "$out" | awk '{print $3}')
    RES[$side-rss-tar-$n]=$(hwm_mib)
    bench_client "127.0.0.1:$PORT/bench/tar-$n:v1" "unpublish:$side-tar-$n" > /dev/null
    stop_driver; rm -rf "$root"
    printf '%-4s tar-%-6s cold %8s ms, peak RSS %s MiB  [%s]\n' "$side" "$n" \
      "${RES[$side-tar-cold-$n]}" "${RES[$side-rss-tar-$n]}" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
load_note end

echo
echo "=== many one-file layers (goal: 2,008 cold <= 3 s, <= 1.5 ms/layer; warm <= 50 ms server-side)"
printf '%-7s %8s %9s %9s %8s %8s %8s %8s %8s %9s %9s\n' layers limit_ms base_cold new_cold \
  new/base ms/layer base_cpu new_cpu new/base srv_warm_b srv_warm_n
for n in $RAW_COUNTS; do
  printf '%-7s %8s %9s %9s %8s %8s %8s %8s %8s %9s %9s\n' "$n" "${RES[limit-$n]}" \
    "${RES[base-cold-$n]}" "${RES[new-cold-$n]}" "$(ratio "${RES[new-cold-$n]}" "${RES[base-cold-$n]}")" \
    "$(ratio "${RES[new-cold-$n]}" "$n")" "${RES[base-cold-cpu-$n]}" "${RES[new-cold-cpu-$n]}" \
    "$(ratio "${RES[new-cold-cpu-$n]}" "${RES[base-cold-cpu-$n]}")" "${RES[base-warm-srv-$n]}" \
    "${RES[new-warm-srv-$n]}"
done
echo "=== peak RSS (VmHWM, MiB) against file count (goal: <= 200 MiB at 100k files)"
printf '%-8s %9s %9s %8s %11s %11s\n' files base_rss new_rss new/base base_cold new_cold
for n in $TAR_COUNTS; do
  printf '%-8s %9s %9s %8s %11s %11s\n' "$n" "${RES[base-rss-tar-$n]}" "${RES[new-rss-tar-$n]}" \
    "$(ratio "${RES[new-rss-tar-$n]}" "${RES[base-rss-tar-$n]}")" "${RES[base-tar-cold-$n]}" \
    "${RES[new-tar-cold-$n]}"
done
