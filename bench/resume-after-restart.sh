#!/usr/bin/env bash
# Issue 12, goal 5: bytes downloaded in total when the driver is killed (SIGKILL) at about half
# of a cold pull and started again on the same root_dir, for a baseline jar (main's) and the
# candidate jar in one run.
#
# A model of FILES raw files of SIZE_MIB MiB each (default 4 x 1024: the 4.3 GB model; random
# bytes, generated under a scratch directory and removed at the end) is pushed to a local
# docker-registry whose access log records every response's size. For each variant: start the
# driver on a fresh root_dir, publish through the CLI (it retries ABORTED as kubelet does), kill
# the driver with SIGKILL once the store's ingest/ holds KILL_AT % (default 50) of the model's
# bytes (allocated blocks, so holes of parallel ranges do not count), start it again on the same
# root_dir, publish again and time it to the end. Printed per variant: bytes of blob GETs in the
# access log / model bytes (goal: <= 1.05), bytes on disk at the kill, time from the restart to
# the published volume, the MiB of parallel parts kept ahead of a prefix at the restart (0: no
# stream had been added, the variant ran as one stream) and the load average.
#
# Variants: baseline (default config), candidate (default config: parallel ranges above 256 MiB)
# and candidate-one-stream (parallel_download_threshold: 0, one stream per blob).
#
#   bench/resume-after-restart.sh [BASELINE_JAR] [CANDIDATE_JAR]
#   env: SIZE_MIB (1024), FILES (4), KILL_AT (50), LOG_DIR (keeps the drivers' logs there).
#   Without BASELINE_JAR, /work/main is cloned into the scratch directory and built there.
#   Needs root (bind mounts) and docker-registry.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
FILES=${FILES:-4}
KILL_AT=${KILL_AT:-50}
WORK=$(mktemp -d /var/tmp/model-csi-resume.XXXXXX)
CAND_JAR=$(realpath "${2:-target/model-csi-driver.jar}")
JAR=$CAND_JAR
. bench/lib.sh
trap bench_cleanup EXIT
require_tools
if [ -n "${1:-}" ]; then
  BASE_JAR=$(realpath "$1")
else
  git clone -q "${MAIN_REPO:-/work/main}" "$WORK/main"
  (cd "$WORK/main" && mvn -B -q package -DskipTests > "$WORK/main-build.log" 2>&1) \
    || { cat "$WORK/main-build.log" >&2; exit 1; }
  BASE_JAR="$WORK/main/target/model-csi-driver.jar"
fi
export DRIVER_LOG_LEVEL=info # "resuming sha256:… at …" is an info line
ACCESS="$WORK/access.log"
start_registry "$ACCESS"

MODEL="$WORK/model"; mkdir -p "$MODEL"
for i in $(seq "$FILES"); do
  head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > "$MODEL/model-0000$i-of-0000$FILES.safetensors"
done
echo '{"architectures":["BenchForCausalLM"]}' > "$MODEL/config.json"
REF="127.0.0.1:$PORT/bench/resume:v1"
java -jar "$CAND_JAR" push "$MODEL" "$REF" > /dev/null
MODEL_BYTES=$(du -sb "$MODEL" | cut -f1)
echo "model: $FILES x $SIZE_MIB MiB + config.json = $MODEL_BYTES bytes; kill at $KILL_AT %"

# Allocated bytes under ingest/ (a file may vanish while du walks: its answer still counts).
ingest_bytes() {
  local b
  b=$(du -s --block-size=1 "$1/store/ingest" 2>/dev/null | cut -f1 | head -1 || true)
  echo "${b:-0}"
}

# run NAME JAR [YAML...]: one kill-and-resume, printing one result line
run() {
  local name=$1 jar=$2; shift 2
  local root="$WORK/$name/root" from pub at_kill t0 t1 served
  JAR=$jar
  mkdir -p "$WORK/targets"
  from=$(wc -l < "$ACCESS")
  start_driver "$root" "pull_config:" "  publish_wait_seconds: 1" "$@"
  java -jar "$jar" publish --endpoint "unix://$SOCK" --volume-id "$name" \
    --target "$WORK/targets/$name" --reference "$REF" > "$WORK/$name.publish-1.log" 2>&1 &
  pub=$!
  until [ "$(ingest_bytes "$root")" -ge $((MODEL_BYTES * KILL_AT / 100)) ]; do
    kill -0 "$DRV_PID" 2>/dev/null || { echo "driver died; log:" >&2; cat "$root.log" >&2; exit 1; }
    sleep 0.05
  done
  kill -9 "$DRV_PID"; wait "$DRV_PID" 2>/dev/null || true; DRV_PID=""
  at_kill=$(ingest_bytes "$root")
  kill "$pub" 2>/dev/null; wait "$pub" 2>/dev/null || true
  rm -f "$SOCK" # the killed driver's: start_driver waits for the new one's
  t0=$(now_ms)
  start_driver "$root" "pull_config:" "  publish_wait_seconds: 1" "$@"
  java -jar "$jar" publish --endpoint "unix://$SOCK" --volume-id "$name" \
    --target "$WORK/targets/$name" --reference "$REF" > "$WORK/$name.publish-2.log" 2>&1 \
    || { echo "publish after the restart failed:" >&2
         cat "$WORK/$name.publish-2.log" "$root.log" >&2; exit 1; }
  t1=$(now_ms)
  unpublish "$name"
  stop_driver
  sleep 1 # the registry writes its access log line after the response
  served=$(blob_bytes "$from" | cut -d" " -f2)
  # Runs a parallel download had written ahead and the restart kept ("…, 39.8 MiB more kept
  # ahead"): 0 means no stream was added before the kill, so the variant ran as one stream.
  ahead=$({ grep -o '[0-9.]* MiB more kept ahead' "$root.log" || true; } | awk '{s += $1} END {print s + 0}')
  echo "$name served $served at_kill $at_kill finish_ms $((t1 - t0))" \
    "resumed_lines $(grep -c 'resuming sha256' "$root.log" || true)" \
    "load $(cut -d' ' -f1-3 /proc/loadavg) kept_ahead_mib $ahead"
  if [ -n "${LOG_DIR:-}" ]; then mkdir -p "$LOG_DIR"; cp "$root.log" "$LOG_DIR/$name-driver.log"; fi
  rm -rf "$WORK/$name"
}

RESULTS="$WORK/results"
load_note start | tee -a "$RESULTS"
run baseline "$BASE_JAR" | tee -a "$RESULTS"
run candidate "$CAND_JAR" | tee -a "$RESULTS"
run candidate-one-stream "$CAND_JAR" "  parallel_download_threshold: 0" | tee -a "$RESULTS"
load_note end | tee -a "$RESULTS"
echo
echo "== summary (served / model bytes; goal <= 1.05)"
awk -v m="$MODEL_BYTES" '$2 == "served" {
  printf "%-22s served %6.3f x the model (%.0f bytes), %5.1f %% on disk at the kill, " \
    "restart to published %6.1f s, %s resume lines (%s MiB kept ahead of a prefix), load %s %s %s\n",
    $1, $3 / m, $3, 100 * $5 / m, $7 / 1000, $9, $15, $11, $12, $13 }' "$RESULTS"
