#!/usr/bin/env bash
# Issue 12, goal 4: the first publish after a driver start and the wall time of CLI commands,
# for a baseline jar (e.g. main's) and a candidate jar in the same run.
#
# (a) First publish after a restart, of a model already in the store: the driver is started on a
#     root_dir, a seed volume is published and unpublished (the model is now stored), the driver
#     is stopped; then RESTARTS times: start the driver, publish "first" as soon as its socket
#     exists, unpublish, publish "second", unpublish, stop. Then RESTARTS times the same after
#     SETTLE_S seconds of idling (kubelet rarely publishes in the first second of a driver's
#     life; this shows what a background warm-up buys once it has run). Server-side time is the
#     driver's own `publish volume=... time_ms=...` line; client-side time is PublishBench's
#     (one client JVM whose connection is opened beforehand by a Probe, so no timed call pays for
#     connecting; the client is the candidate's for both drivers).
# (b) Wall time of CLI commands against the running driver, each RUNS times, median printed:
#     --help, info, store list, publish of the stored model, unpublish, and the in-pod
#     `list --workdir` on a dynamic volume. Baseline: `java -jar BASELINE_JAR`; candidate: as a
#     user runs it, through bin/model-csi (adds the class-data sharing archive beside the jar when
#     there is one), and also plain `java -jar CANDIDATE_JAR` to tell the archive from the code.
#
# Goals: first publish <= 100 ms server-side; every CLI command <= 1 s wall. The ratio printed
# is measured/goal (<= 1.00 meets it). Needs root (bind mounts) and docker-registry.
#
#   bench/restart-and-cli.sh BASELINE_JAR [CANDIDATE_JAR] [RUNS] [RESTARTS] [SETTLE_S]
#                            (defaults: target/model-csi-driver.jar, 5, 3, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_JAR=$(realpath "${1:?baseline jar, e.g. a copy of main\'s target/model-csi-driver.jar}")
CAND_JAR=$(realpath "${2:-target/model-csi-driver.jar}")
RUNS=${3:-5}
RESTARTS=${4:-3}
SETTLE_S=${5:-5}
WORK=$(mktemp -d /var/tmp/model-csi-restart-cli.XXXXXX)
JAR=$CAND_JAR
. bench/lib.sh
trap bench_cleanup EXIT
require_tools
export DRIVER_LOG_LEVEL=info # the publish line with time_ms is an info line
start_registry

MODEL="$WORK/model"; mkdir -p "$MODEL"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$MODEL/model.safetensors"
echo '{"architectures":["BenchForCausalLM"]}' > "$MODEL/config.json"
head -c 200000 /dev/urandom | base64 > "$MODEL/tokenizer.json"
echo '{"bos_token_id":1}' > "$MODEL/generation_config.json"
REF="127.0.0.1:$PORT/bench/restart:v1"
java -jar "$CAND_JAR" push "$MODEL" "$REF" > /dev/null
echo "model: $(ls "$MODEL" | wc -l) files, $(du -sb "$MODEL" | cut -f1) bytes"

# server_ms ROOT VOLUME: time_ms of the volume's publish line in the driver's log
server_ms() {
  sed -nE "s/.*publish volume=$2 .*outcome=succeeded time_ms=([0-9]+).*/\1/p" "$1.log" | head -1
}

# restarts NAME JAR SETTLE: prints "first SERVER CLIENT" and "second SERVER CLIENT" per restart
restarts() {
  local name=$1 settle=$3 root="$WORK/$1/root" out
  JAR=$2
  for i in $(seq "$RESTARTS"); do
    start_driver "$root"
    [ "$settle" -gt 0 ] && sleep "$settle"
    out=$(bench_client "$REF" "publish:first-$settle-$i" "unpublish:first-$settle-$i" \
      "publish:second-$settle-$i" "unpublish:second-$settle-$i")
    stop_driver
    for v in first second; do
      echo "$v $(server_ms "$root" "$v-$settle-$i") $(echo "$out" \
        | awk -v id="$v-$settle-$i" '$1 == "publish" && $2 == id {print $3}')"
    done
  done
}

# wall_ms CMD...: wall time of one command in ms (its output discarded, its failure fatal)
wall_ms() {
  local s e
  s=$(now_ms)
  "$@" > /dev/null 2> "$WORK/cli.err" || { echo "failed: $*" >&2; cat "$WORK/cli.err" >&2; exit 1; }
  e=$(now_ms)
  echo $((e - s))
}

# cli_medians LABEL LAUNCHER...: the median wall time of each command, run RUNS times
cli_medians() {
  local label=$1; shift
  local ep="unix://$SOCK" t="$WORK/targets"
  local -A times=()
  for r in $(seq "$RUNS"); do
    times[help]+="$(wall_ms "$@" --help) "
    times[info]+="$(wall_ms "$@" info --endpoint "$ep") "
    times[store_list]+="$(wall_ms "$@" store list --endpoint "$ep") "
    times[publish]+="$(wall_ms "$@" publish --endpoint "$ep" --volume-id "cli-$label-$r" \
      --target "$t/cli-$label-$r" --reference "$REF") "
    times[unpublish]+="$(wall_ms "$@" unpublish --endpoint "$ep" --volume-id "cli-$label-$r" \
      --target "$t/cli-$label-$r") "
    times[list_workdir]+="$(wall_ms "$@" list --workdir "$t/dyn") "
  done
  for c in help info store_list publish unpublish list_workdir; do
    # shellcheck disable=SC2086
    echo "cli $label $c $(printf '%s\n' ${times[$c]} | median) [${times[$c]% }]"
  done
}

# measure NAME JAR CLI_LABEL:LAUNCHER...
measure() {
  local name=$1 jar=$2
  JAR=$jar
  start_driver "$WORK/$name/root"
  bench_client "$REF" "publish:seed" "unpublish:seed" > /dev/null
  stop_driver
  restarts "$name" "$jar" 0 | sed "s/^/restart $name now /"
  restarts "$name" "$jar" "$SETTLE_S" | sed "s/^/restart $name settled /"
  JAR=$jar
  start_driver "$WORK/$name/root"
  java -jar "$jar" publish --endpoint "unix://$SOCK" --volume-id dyn --target "$WORK/targets/dyn" \
    --access-mode SINGLE_NODE_WRITER --attribute csi.storage.k8s.io/ephemeral=true > /dev/null
}

# Not through a pipe: measure starts the driver whose SOCK and DRV_PID the next steps use.
RESULTS="$WORK/results"
load_note start >> "$RESULTS"
measure baseline "$BASE_JAR" >> "$RESULTS"
cli_medians baseline java -jar "$BASE_JAR" >> "$RESULTS"
java -jar "$BASE_JAR" unpublish --endpoint "unix://$SOCK" --volume-id dyn \
  --target "$WORK/targets/dyn" > /dev/null
stop_driver
load_note "after baseline" >> "$RESULTS"
measure candidate "$CAND_JAR" >> "$RESULTS"
cli_medians candidate env MODEL_CSI_JAR="$CAND_JAR" bin/model-csi >> "$RESULTS"
cli_medians candidate-no-archive java -jar "$CAND_JAR" >> "$RESULTS"
java -jar "$CAND_JAR" unpublish --endpoint "unix://$SOCK" --volume-id dyn \
  --target "$WORK/targets/dyn" > /dev/null
stop_driver
load_note end >> "$RESULTS"
cat "$RESULTS"
echo
echo "== summary (medians; ratio = measured / goal, <= 1.00 meets it)"
python3 - "$RESULTS" <<'EOF'
import statistics, sys
restart, cli = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "restart" and len(f) >= 6 and f[4]:
        restart.setdefault((f[1], f[2], f[3]), []).append((float(f[4]), float(f[5])))
    elif f and f[0] == "cli":
        cli.setdefault(f[2], {})[f[1]] = int(f[3])
for (name, when, which), v in sorted(restart.items()):
    s = statistics.median(x for x, _ in v); c = statistics.median(y for _, y in v)
    goal = f"  ratio {s / 100:.2f} (goal 100 ms)" if which == "first" else ""
    print(f"{which:6} publish after start ({when:7}) {name:9}: server {s:6.0f} ms, "
          f"client {c:6.1f} ms  samples {[int(x) for x, _ in v]}{goal}")
labels = sorted({l for d in cli.values() for l in d}, key=["baseline", "candidate", "candidate-no-archive"].index)
print(f"{'cli command':14}" + "".join(f"{l:>22}" for l in labels) + "   (ms wall; ratio to 1 s)")
for cmd, d in cli.items():
    print(f"{cmd:14}" + "".join(f"{d[l]:>12} ({d[l] / 1000:.2f})   " for l in labels))
EOF
