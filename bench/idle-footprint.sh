#!/usr/bin/env bash
# Idle footprint of the driver: resident memory and CPU time of a driver that serves nothing,
# for a candidate jar against a baseline jar in the same run, both with the container image's
# JVM flags unless BASE_JAVA_FLAGS / CAND_JAVA_FLAGS say otherwise (BASE_JAVA_FLAGS= (empty):
# plain `java -jar`, as the README ran the driver before it had an image). The candidate runs with
# metrics_addr set, scraped every 15 s from its start (as Prometheus would), and with
# Kubernetes Events on (KUBERNETES_SERVICE_HOST points at a closed local port: the client is
# configured, nothing is sent while idle); the baseline runs with the config it understands.
# Prints RSS and CPU per minute for each and the ratios candidate/baseline (issue 10's goal:
# within 10 %, i.e. <= 1.10). No registry is needed.
#
#   bench/idle-footprint.sh BASELINE_JAR [CANDIDATE_JAR] [WARMUP_S] [MEASURE_S]
#                           (defaults: target/model-csi-driver.jar, 20, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_JAR=${1:?baseline jar}
CAND_JAR=${2:-target/model-csi-driver.jar}
WARMUP=${3:-20}
MEASURE=${4:-60}
# The image's entrypoint flags (pom.xml, jib's <entrypoint>): what runs on a node.
IMAGE_FLAGS="-XX:MaxRAMPercentage=50 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData"
read -r -a BASE_FLAGS <<< "${BASE_JAVA_FLAGS-$IMAGE_FLAGS}"
read -r -a CAND_FLAGS <<< "${CAND_JAVA_FLAGS-$IMAGE_FLAGS}"
WORK=$(mktemp -d /var/tmp/model-csi-idle.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME JAR FLAGS EXTRA_CONFIG_LINE [ENV=VALUE...]: starts a driver on its own root_dir
# with the JVM flags in the array named FLAGS; sets PID
start() {
  local name=$1 jar=$2 extra=$4
  local -n flags=$3
  shift 4
  mkdir -p "$WORK/$name"
  printf 'root_dir: %s\ncsi_endpoint: unix://%s\n%s\n' "$WORK/$name/root" \
    "$WORK/$name/csi.sock" "$extra" > "$WORK/$name/config.yaml"
  env "$@" java "${flags[@]}" -jar "$jar" serve --config "$WORK/$name/config.yaml" > "$WORK/$name/log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 300); do
    [ -S "$WORK/$name/csi.sock" ] && return 0
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name/log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$name did not open its socket" >&2; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

METRICS_PORT=$(free_port)
start baseline "$BASE_JAR" BASE_FLAGS ""
BASE_PID=$PID
start candidate "$CAND_JAR" CAND_FLAGS "metrics_addr: tcp://127.0.0.1:$METRICS_PORT" \
  KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$(free_port)"
CAND_PID=$PID
echo "JVM flags: baseline [${BASE_FLAGS[*]}], candidate [${CAND_FLAGS[*]}]"
echo "load average (start): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
# scrape_for SECONDS: scrapes the candidate every 15 s (Prometheus' default interval)
scrape_for() {
  local end=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$end" ]; do
    curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" > /dev/null
    sleep 15
  done
}
scrape_for "$WARMUP" # settle after start: the measured window is the idle state, not the start
b0=$(cpu_ticks "$BASE_PID"); c0=$(cpu_ticks "$CAND_PID")
scrape_for "$MEASURE"
b1=$(cpu_ticks "$BASE_PID"); c1=$(cpu_ticks "$CAND_PID")
hz=$(getconf CLK_TCK)
brss=$(rss_kib "$BASE_PID"); crss=$(rss_kib "$CAND_PID")
python3 - "$brss" "$crss" "$b0" "$b1" "$c0" "$c1" "$hz" "$MEASURE" <<'EOF'
import sys
brss, crss, b0, b1, c0, c1, hz, secs = map(float, sys.argv[1:])
bcpu = (b1 - b0) / hz * 60 / secs
ccpu = (c1 - c0) / hz * 60 / secs
print(f"baseline:  RSS {brss/1024:.1f} MiB, CPU {bcpu*1000:.0f} ms per idle minute")
print(f"candidate: RSS {crss/1024:.1f} MiB, CPU {ccpu*1000:.0f} ms per idle minute "
      "(metrics on, scraped every 15 s; events client on)")
print(f"ratio RSS {crss/brss:.2f}, CPU {(ccpu/bcpu if bcpu else float('nan')):.2f} (goal <= 1.10)")
EOF
echo "load average (end): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
