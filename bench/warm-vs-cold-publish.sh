#!/usr/bin/env bash
# Cold publish (no layer of the model in the node's store) vs warm publish of the same model
# into a new volume (every layer already in the store, left as warm cache after the first volume
# was unpublished). Times are of the NodePublishVolume RPC alone, measured by PublishBench (one
# client JVM, connection opened beforehand): the CLI's "in N ms" also counts the client's own
# gRPC/Netty start, about 2 s on this machine, which would swamp a warm publish. Prints the medians,
# the ratio cold/warm (goal >= 100) and whether the warm median is under 50 ms.
# Needs root (bind mounts) and docker-registry.
#
#   bench/warm-vs-cold-publish.sh [ROUNDS] [WARM_PER_ROUND]     (defaults 5 and 5)
#
# Each round starts the driver on a fresh root_dir (so a fresh, empty store), publishes and
# unpublishes a one-file warm-up model (class loading and JIT, so the cold figure is not a
# "first call after start" figure), then: 500 untimed NodeGetCapabilities calls (they warm the
# bench client's own JVM, which would otherwise add ~3-4 ms of interpreted gRPC code to each
# early call; kubelet is a compiled, long-running client), cold publish, unpublish,
# WARM_PER_ROUND warm publishes into new volumes (each unpublished again). The page cache is not
# dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
WARM_PER_ROUND=${2:-5}
WORK=$(mktemp -d /var/tmp/model-csi-bench.XXXXXX)
. bench/lib.sh
trap bench_cleanup EXIT
require_tools
start_registry

echo "generating model: 2 x 512 MiB weights + 8 small files"
MODEL="$WORK/model"; mkdir -p "$MODEL"
for i in 1 2; do
  head -c $((512 * 1024 * 1024)) /dev/urandom > "$MODEL/model-0000$i-of-00002.safetensors"
done
echo '{"architectures":["BenchForCausalLM"],"hidden_size":1024}' > "$MODEL/config.json"
head -c 1000000 /dev/urandom | base64 > "$MODEL/tokenizer.json"
echo '{"bos_token_id":1}' > "$MODEL/generation_config.json"
echo '{"model_max_length":4096}' > "$MODEL/tokenizer_config.json"
echo '{"bos_token":"<s>"}' > "$MODEL/special_tokens_map.json"
echo '{"weight_map":{}}' > "$MODEL/model.safetensors.index.json"
echo "# bench model" > "$MODEL/README.md"
echo "Apache-2.0" > "$MODEL/LICENSE"
REF="127.0.0.1:$PORT/bench/model:v1"
java -jar "$JAR" push "$MODEL" "$REF" > /dev/null
WARMUP="$WORK/warmup"; mkdir -p "$WARMUP"; echo '{"warmup":true}' > "$WARMUP/config.json"
WARMUP_REF="127.0.0.1:$PORT/bench/warmup:v1"
java -jar "$JAR" push "$WARMUP" "$WARMUP_REF" > /dev/null
echo "model: $(ls "$MODEL" | wc -l) files, $(find "$MODEL" -type f -printf '%s\n' | awk '{s += $1} END {print s}') bytes"

load_note start
cold=(); warm=()
for r in $(seq "$ROUNDS"); do
  start_driver "$WORK/r$r"
  bench_client "$WARMUP_REF" "publish:warmup-$r" "unpublish:warmup-$r" > /dev/null
  ops=("warmclient:500" "publish:cold-$r" "unpublish:cold-$r")
  for w in $(seq "$WARM_PER_ROUND"); do ops+=("publish:warm-$r-$w" "unpublish:warm-$r-$w"); done
  out=$(bench_client "$REF" "${ops[@]}")
  c=$(echo "$out" | awk '$1 == "publish" && $2 ~ /^cold-/ {print $3}')
  ws=($(echo "$out" | awk '$1 == "publish" && $2 ~ /^warm-/ {print $3}'))
  cold+=("$c"); warm+=("${ws[@]}")
  stop_driver
  rm -rf "$WORK/r$r"
  echo "round $r: cold $c ms, warm ${ws[*]} ms"
done
load_note end
c=$(printf '%s\n' "${cold[@]}" | median)
w=$(printf '%s\n' "${warm[@]}" | median)
echo "median cold publish (empty store):   $c ms  (${#cold[@]} samples)"
echo "median warm publish (layers stored): $w ms  (${#warm[@]} samples)"
awk -v c="$c" -v w="$w" 'BEGIN {
  printf "ratio cold/warm: %.1f (goal >= 100)\n", c / (w > 0 ? w : 1)
  printf "warm < 50 ms: %s\n", (w < 50 ? "yes" : "no") }'
