#!/usr/bin/env bash
# Cold publish through the driver vs `skopeo copy` of the same artifact into an OCI layout.
# Both download every blob from the same local registry and verify digests. Prints the ratio
# driver/skopeo (goal: <= 1.0). Needs root (bind mounts), docker-registry and skopeo.
#
#   bench/cold-publish-vs-skopeo.sh [ROUNDS]      (default 3; the median of each side is compared)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
JAR=target/model-csi-driver.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
command -v skopeo >/dev/null || { echo "install skopeo: apt-get install -y skopeo" >&2; exit 2; }
command -v docker-registry >/dev/null || { echo "install docker-registry" >&2; exit 2; }

WORK=$(mktemp -d /var/tmp/model-csi-bench.XXXXXX)
REG_PID=""; DRV_PID=""
cleanup() {
  [ -n "$DRV_PID" ] && kill "$DRV_PID" 2>/dev/null && wait "$DRV_PID" 2>/dev/null || true
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true
  grep -q " $WORK/" /proc/self/mountinfo && awk -v w="$WORK/" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | xargs -r -n1 umount || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
YML
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done

echo "generating model: 4 x 256 MiB weights + small files"
MODEL="$WORK/model"; mkdir -p "$MODEL"
for i in 1 2 3 4; do
  head -c $((256 * 1024 * 1024)) /dev/urandom > "$MODEL/model-0000$i-of-00004.safetensors"
done
echo '{"architectures":["BenchForCausalLM"],"hidden_size":1024}' > "$MODEL/config.json"
head -c 2000000 /dev/urandom | base64 > "$MODEL/tokenizer.json"
echo '{"bos_token_id":1}' > "$MODEL/generation_config.json"
echo "# bench model" > "$MODEL/README.md"
REF="127.0.0.1:$PORT/bench/model:v1"
java -jar "$JAR" push "$MODEL" "$REF" > /dev/null
TOTAL=$(du -sb "$MODEL" | cut -f1)

cat > "$WORK/driver.yaml" <<YML
root_dir: $WORK/driver
csi_endpoint: unix://$WORK/driver/csi.sock
YML
# A small heap on purpose: blobs are streamed, so 1 GiB of model must fit through 128 MiB.
java -Xmx128m -jar "$JAR" serve --config "$WORK/driver.yaml" --log-level warn > "$WORK/driver.log" 2>&1 &
DRV_PID=$!
for _ in $(seq 200); do [ -S "$WORK/driver/csi.sock" ] && break; sleep 0.1; done

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }

driver_times=(); skopeo_times=()
for r in $(seq "$ROUNDS"); do
  drop_caches
  out=$(java -jar "$JAR" publish --endpoint "unix://$WORK/driver/csi.sock" --volume-id "bench-$r" \
        --target "$WORK/targets/bench-$r" --reference "$REF")
  driver_times+=("$(echo "$out" | sed -nE 's/^published .* in ([0-9]+) ms$/\1/p')")
  java -jar "$JAR" unpublish --endpoint "unix://$WORK/driver/csi.sock" --volume-id "bench-$r" \
        --target "$WORK/targets/bench-$r" > /dev/null
  # The layer store keeps the model as warm cache; empty it so every round is a cold publish.
  java -jar "$JAR" store evict --all-unreferenced --endpoint "unix://$WORK/driver/csi.sock" \
        > /dev/null

  drop_caches
  rm -rf "$WORK/layout"
  t0=$(now_ms)
  skopeo copy --quiet --src-tls-verify=false "docker://$REF" "oci:$WORK/layout:v1" > /dev/null
  skopeo_times+=("$(( $(now_ms) - t0 ))")
  echo "round $r: driver ${driver_times[-1]} ms, skopeo ${skopeo_times[-1]} ms"
done
d=$(printf '%s\n' "${driver_times[@]}" | median)
s=$(printf '%s\n' "${skopeo_times[@]}" | median)
echo "model size: $TOTAL bytes"
echo "median cold publish (driver, NodePublishVolume RPC): $d ms"
echo "median skopeo copy to OCI layout:                    $s ms"
awk -v d="$d" -v s="$s" 'BEGIN {printf "ratio driver/skopeo: %.2f (goal <= 1.00)\n", d/s}'
echo "driver peak RSS (-Xmx128m): $(awk '/VmHWM/ {print $2, $3}' /proc/$DRV_PID/status)"
if command -v jcmd >/dev/null; then
  echo "driver heap after the runs: $(jcmd "$DRV_PID" GC.heap_info 2>/dev/null | grep -m1 -oE 'total [0-9]+K, used [0-9]+K')"
fi
