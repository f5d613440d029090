#!/usr/bin/env bash
# Cold pull of one model by the driver (this tree's jar and a baseline jar), `skopeo copy` to an
# OCI layout and containerd (`ctr content fetch`), against the machine's limit for the same
# bytes: the slowest of (a) curl of every blob at once to /dev/null, (b) SHA-256 of the bytes
# with `openssl dgst` (it uses the CPU's SHA instructions; coreutils' sha256sum does not here
# and is ~4x slower), (c) fsync'd writes of all files at once (`dd conv=fsync` in parallel) to
# the driver's filesystem. The page cache is dropped before every cold pull and limit step. The
# order of the tools is reversed every other run. Prints each time, the load average, medians,
# ratios, % of the limit, the driver's peak RSS and CPU seconds per GiB pulled.
# Issue 12 goal 1: driver >= 90 % of the limit, >= 2x skopeo, >= 3x containerd.
#
#   bench/cold-pull-vs-peers.sh                 # both models, RUNS=2
#   RUNS=1 MODELS=1g bench/cold-pull-vs-peers.sh
# Env: RUNS (default 2), MODELS ("1g 4g"), BASE_REF (git ref of the baseline, default main),
#      BASE_JAR (use this jar as the baseline instead of building BASE_REF; "none" = no baseline),
#      TOOLS (default "driver base skopeo containerd limit").
# Needs root (bind mounts, drop_caches), docker-registry, skopeo, containerd + ctr, openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-2}
MODELS=${MODELS:-"1g 4g"}
TOOLS=${TOOLS:-"driver base skopeo containerd limit"}
JAR=$PWD/target/model-csi-driver.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
for t in docker-registry skopeo containerd ctr openssl curl; do
  command -v "$t" >/dev/null || { echo "install $t (apt-get install -y ${t/docker-registry/docker-registry})" >&2; exit 2; }
done

WORK=$(mktemp -d /var/tmp/model-csi-peers.XXXXXX)
source bench/lib.sh
CTRD_PID=""; BASE_PID=""; CAND_PID=""
cleanup() {
  [ -n "$CTRD_PID" ] && kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null || true
  for p in $BASE_PID $CAND_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  bench_cleanup
}
trap cleanup EXIT

if [ "${BASE_JAR:-}" = none ]; then
  TOOLS=${TOOLS//base/}
elif [ -z "${BASE_JAR:-}" ]; then
  echo "building the baseline jar from ${BASE_REF:-main}"
  git clone -q "$PWD" "$WORK/base"
  (cd "$WORK/base" && git checkout -q "${BASE_REF:-main}" && mvn -B -q package -DskipTests)
  BASE_JAR=$WORK/base/target/model-csi-driver.jar
fi
echo "candidate: $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty); baseline: ${BASE_JAR:-none}"

start_registry

# --- containerd with its own root, state and socket under WORK --------------------------------
CTRD=$WORK/containerd
ctrd_start() {
  mkdir -p "$CTRD"
  cat > "$CTRD/config.toml" <<TOML
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD/containerd.sock"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
  containerd --config "$CTRD/config.toml" --log-level error > "$CTRD/log" 2>&1 &
  CTRD_PID=$!
  for _ in $(seq 100); do [ -S "$CTRD/containerd.sock" ] && break; sleep 0.1; done
}
ctrd_stop() {
  [ -n "$CTRD_PID" ] && kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null || true
  CTRD_PID=""
  awk -v w="$CTRD/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r \
    | xargs -r -n1 umount --lazy 2>/dev/null || true
  rm -rf "$CTRD"
}

# --- model -------------------------------------------------------------------------------------
make_model() { # NAME WEIGHT_MIB
  local dir=$WORK/models/$1
  mkdir -p "$dir"
  for i in 1 2 3 4; do head -c $(($2 * 1024 * 1024)) /dev/urandom > "$dir/model-0000$i-of-00004.safetensors"; done
  echo '{"architectures":["BenchForCausalLM"],"hidden_size":1024}' > "$dir/config.json"
  head -c 2000000 /dev/urandom | base64 > "$dir/tokenizer.json"
  echo '{"bos_token_id":1}' > "$dir/generation_config.json"
  echo "# bench model" > "$dir/README.md"
  java -jar "$JAR" push "$dir" "127.0.0.1:$PORT/bench/$1:v1" > /dev/null
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# --- one cold pull per tool; each prints "ms cpu_s" ---------------------------------------------
pull_driver() { # PID SOCK_ROOT JAR VOLUME REF
  local pid=$1 root=$2 jar=$3 vol=$4 ref=$5 c0 out ms
  c0=$(cpu_ticks "$pid")
  out=$(java -jar "$jar" publish --endpoint "unix://$root/csi.sock" --volume-id "$vol" \
        --target "$WORK/targets/$vol" --reference "$ref")
  ms=$(echo "$out" | sed -nE 's/^published .* in ([0-9]+) ms$/\1/p')
  echo "$ms $(awk -v a="$c0" -v b="$(cpu_ticks "$pid")" -v t="$TICK" 'BEGIN {printf "%.2f", (b-a)/t}')"
  java -jar "$jar" unpublish --endpoint "unix://$root/csi.sock" --volume-id "$vol" \
    --target "$WORK/targets/$vol" > /dev/null
  java -jar "$jar" store evict --all-unreferenced --endpoint "unix://$root/csi.sock" > /dev/null
}

timed() { # CMD... -> "ms user+sys_s" of the command and its children
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$@" > /dev/null 2>&1; } 2>&1 | tail -1)
  awk -v t="$t" 'BEGIN {split(t, a, " "); printf "%d %.2f\n", a[1] * 1000, a[2] + a[3]}'
}

pull_skopeo() { # REF
  rm -rf "$WORK/layout"
  timed skopeo copy --quiet --src-tls-verify=false "docker://$1" "oci:$WORK/layout:v1"
  rm -rf "$WORK/layout"
}

pull_containerd() { # REF (containerd running)
  local c0 r
  c0=$(cpu_ticks "$CTRD_PID")
  r=$(timed ctr --address "$CTRD/containerd.sock" -n bench content fetch --plain-http "$1")
  echo "$r" | awk -v a="$c0" -v b="$(cpu_ticks "$CTRD_PID")" -v t="$TICK" \
    '{printf "%d %.2f\n", $1, $2 + (b-a)/t}'
}

# The limit parts: curl of every blob at once (cold cache, as the pulls), SHA-256 of the files
# at once (warm: the CPU part), fsync'd writes of all files at once (warm source).
limit_curl() { # NAME
  local digests
  digests=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$PORT/v2/bench/$1/manifests/v1" \
    | python3 -c 'import json,sys; print("\n".join(l["digest"] for l in json.load(sys.stdin)["layers"]))')
  drop_caches
  timed bash -c "for d in $(echo $digests); do curl -sf -o /dev/null http://127.0.0.1:$PORT/v2/bench/$1/blobs/\$d & done; wait"
}
limit_sha() { # NAME
  cat "$WORK/models/$1"/* > /dev/null
  timed bash -c "ls -S $WORK/models/$1/* | xargs -P $(nproc) -n1 openssl dgst -sha256"
}
limit_disk() { # NAME
  mkdir -p "$WORK/dd"
  cat "$WORK/models/$1"/* > /dev/null
  local r
  r=$(timed bash -c "for f in $WORK/models/$1/*; do dd if=\$f of=$WORK/dd/\$(basename \$f) bs=4M conv=fsync status=none & done; wait")
  rm -rf "$WORK/dd"
  echo "$r"
}

declare -A T C R
REG_T0=0
# mark: remembers the registry's CPU before a step; record NAME "ms cpu_s" prints the step with
# the registry's CPU during it (it serves every tool the same bytes, so it is part of the cost).
mark() { REG_T0=$(cpu_ticks "$REG_PID"); }
record() {
  local reg
  reg=$(awk -v a="$REG_T0" -v b="$(cpu_ticks "$REG_PID")" -v t="$TICK" 'BEGIN {printf "%.2f", (b-a)/t}')
  T[$1]+="${2%% *} "; C[$1]+="${2##* } "; R[$1]+="$reg "
  printf '  %-20s %7s ms  %6s cpu-s  registry %5s cpu-s  (load %s)\n' "$1" "${2%% *}" "${2##* }" \
    "$reg" "$(cut -d' ' -f1 /proc/loadavg)"
}
med() { printf '%s\n' $1 | median; }

for model in $MODELS; do
  case $model in 1g) mib=256 ;; 4g) mib=1024 ;; *) echo "MODELS: 1g or 4g" >&2; exit 2 ;; esac
  echo "== model $model: 4 x $mib MiB + small files"
  make_model "$model" "$mib"
  REF="127.0.0.1:$PORT/bench/$model:v1"
  BYTES=$(du -sb "$WORK/models/$model" | cut -f1)
  GIB=$(awk -v b="$BYTES" 'BEGIN {print b / 2^30}')
  T=(); C=(); R=()
  # Drivers start fresh per model (peak RSS per model) and stay up across its runs.
  start_driver "$WORK/cand-$model"; CAND_PID=$DRV_PID; DRV_PID=""
  if [[ " $TOOLS " == *" base "* ]]; then
    JAR=$BASE_JAR start_driver "$WORK/base-$model"; BASE_PID=$DRV_PID; DRV_PID=""
  fi
  order=($TOOLS)
  for r in $(seq "$RUNS"); do
    load_note "model $model run $r start"
    for tool in "${order[@]}"; do
      case $tool in
        driver) drop_caches; mark; record driver "$(pull_driver "$CAND_PID" "$WORK/cand-$model" "$JAR" "c$r" "$REF")" ;;
        base) drop_caches; mark; record base "$(pull_driver "$BASE_PID" "$WORK/base-$model" "$BASE_JAR" "b$r" "$REF")" ;;
        skopeo) drop_caches; mark; record skopeo "$(pull_skopeo "$REF")" ;;
        containerd) ctrd_start; drop_caches; mark; record containerd "$(pull_containerd "$REF")"; ctrd_stop ;;
        limit)
          mark; record limit-curl "$(limit_curl "$model")"
          mark; record limit-sha256 "$(limit_sha "$model")"
          drop_caches; mark; record limit-fsync-writes "$(limit_disk "$model")" ;;
      esac
    done
    order=($(printf '%s\n' "${order[@]}" | tac))
  done
  load_note "model $model end"
  echo "-- model $model: $BYTES bytes, medians of $RUNS run(s) (of two: the lower)"
  lim=0; cpu=0
  for k in limit-curl limit-sha256 limit-fsync-writes; do
    [ -n "${T[$k]:-}" ] || continue
    m=$(med "${T[$k]}"); echo "  $k: $m ms"; [ "$m" -gt "$lim" ] && lim=$m
    cpu=$(awk -v a="$cpu" -v c="$(med "${C[$k]}")" -v r="$(med "${R[$k]}")" 'BEGIN {print a + c + r}')
  done
  if [ "$lim" -gt 0 ]; then
    echo "  limit (slowest of the three): $lim ms"
    # Each part alone fits the cores; a pull does all three at once, so their CPU adds up.
    awk -v c="$cpu" -v n="$(nproc)" 'BEGIN {printf "  CPU of the three parts together: %.2f cpu-s = %d ms on %d cores\n", c, 1000 * c / n, n}'
  fi
  d=$(med "${T[driver]}")
  for k in driver base skopeo containerd; do
    [ -n "${T[$k]:-}" ] || continue
    m=$(med "${T[$k]}")
    awk -v k="$k" -v m="$m" -v d="$d" -v lim="$lim" -v c="$(med "${C[$k]}")" -v r="$(med "${R[$k]}")" \
      -v g="$GIB" 'BEGIN {
      printf "  %-10s %7d ms  %5.2f x the driver  %s  %.2f cpu-s/GiB (+ registry %.2f)\n", k, m,
        m / d, (lim > 0 ? sprintf("%3.0f %% of the limit", 100 * lim / m) : ""), c / g, r / g }'
  done
  echo "  driver peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$CAND_PID/status)"
  [ -n "$BASE_PID" ] && echo "  base peak RSS:   $(awk '/VmHWM/ {print $2, $3}' /proc/$BASE_PID/status)"
  for p in $CAND_PID $BASE_PID; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  CAND_PID=""; BASE_PID=""
  rm -rf "$WORK/models/$model" "$WORK/cand-$model" "$WORK/base-$model"
done
