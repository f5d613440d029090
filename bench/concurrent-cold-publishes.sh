#!/usr/bin/env bash
# One cold publish of a model vs eight concurrent cold publishes of the same model into eight
# volumes, each measurement on a fresh, empty store. The node-wide store should download every
# layer once however many volumes ask for it: prints registry blob bytes served per measurement
# divided by the model size (goal 1.0) and the wall time ratio eight/one (goal <= 1.2).
# Needs root (bind mounts) and docker-registry.
#
#   bench/concurrent-cold-publishes.sh [ROUNDS] [N]     (defaults 5 and 8)
#
# Each measurement starts the driver on a fresh root_dir, publishes and unpublishes a one-file
# warm-up model (class loading, JIT), then fires the publishes through PublishBench: one JVM, one
# connection, N threads released together by a barrier; the wall time is from the release to the
# last answer. Blob bytes are summed from the registry's access log (combined format: status and
# response size of every GET /v2/<name>/blobs/<digest>) over the measured calls only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
N=${2:-8}
WORK=$(mktemp -d /var/tmp/model-csi-bench.XXXXXX)
. bench/lib.sh
trap bench_cleanup EXIT
require_tools
ACCESS="$WORK/registry-access.log"
start_registry "$ACCESS"

echo "generating model: 4 x 128 MiB weights + config"
MODEL="$WORK/model"; mkdir -p "$MODEL"
for i in 1 2 3 4; do
  head -c $((128 * 1024 * 1024)) /dev/urandom > "$MODEL/model-0000$i-of-00004.safetensors"
done
echo '{"architectures":["BenchForCausalLM"],"hidden_size":1024}' > "$MODEL/config.json"
REF="127.0.0.1:$PORT/bench/model:v1"
java -jar "$JAR" push "$MODEL" "$REF" > /dev/null
WARMUP="$WORK/warmup"; mkdir -p "$WARMUP"; echo '{"warmup":true}' > "$WARMUP/config.json"
WARMUP_REF="127.0.0.1:$PORT/bench/warmup:v1"
java -jar "$JAR" push "$WARMUP" "$WARMUP_REF" > /dev/null
SIZE=$(find "$MODEL" -type f -printf '%s\n' | awk '{s += $1} END {print s}')  # = raw layer bytes
echo "model: $(ls "$MODEL" | wc -l) files, $SIZE bytes"

# measure NAME IDS: fresh driver + warm-up, then publish IDS (comma-separated) at once.
# Sets WALL (ms) and SERVED (bytes); unpublishes and stops the driver.
measure() {
  local name=$1 ids=$2 before out
  start_driver "$WORK/$name"
  bench_client "$WARMUP_REF" "publish:warmup" "unpublish:warmup" > /dev/null
  sleep 0.5   # let the access log catch up
  before=$(wc -l < "$ACCESS")
  out=$(bench_client "$REF" "publish:$ids")
  WALL=$(echo "$out" | awk '$1 == "publish" {print $3}')
  sleep 0.5
  read -r GETS SERVED < <(blob_bytes "$before")
  bench_client "$REF" "unpublish:$ids" > /dev/null
  stop_driver
  rm -rf "$WORK/$name"
}

load_note start
ones=(); many=(); ratios=()
for r in $(seq "$ROUNDS"); do
  measure "one-$r" "one-$r"
  ones+=("$WALL"); one_served=$SERVED; one_gets=$GETS
  ids=$(seq -s, -f "r$r-v%g" 1 "$N")
  measure "many-$r" "$ids"
  many+=("$WALL"); ratios+=("$(awk -v s="$SERVED" -v m="$SIZE" 'BEGIN {printf "%.3f", s / m}')")
  echo "round $r: one ${ones[-1]} ms (${one_gets} blob GETs, $one_served bytes);" \
       "$N at once ${many[-1]} ms ($GETS blob GETs, $SERVED bytes = ${ratios[-1]} x model)"
done
load_note end
o=$(printf '%s\n' "${ones[@]}" | median)
m=$(printf '%s\n' "${many[@]}" | median)
echo "model size: $SIZE bytes"
echo "median wall, 1 cold publish:           $o ms"
echo "median wall, $N concurrent cold publishes: $m ms"
awk -v o="$o" -v m="$m" -v n="$N" 'BEGIN {printf "ratio %d/1: %.2f (goal <= 1.20)\n", n, m / o}'
echo "registry blob bytes served per $N-volume measurement / model size: ${ratios[*]} (goal 1.0)"
