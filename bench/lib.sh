# Shared helpers for the bench/*.sh scripts (sourced, not run). Each script sets WORK first.
# Provides: start_registry [ACCESSLOG_FILE], blob_bytes, start_driver ROOT_DIR, stop_driver, bench_client,
# publish, unpublish (through the CLI), median, now_ms, drop_caches, and bench_cleanup for the
# EXIT trap (stops everything, unmounts and removes WORK).

JAR=${JAR:-target/model-csi-driver.jar}
REG_PID=""; DRV_PID=""; PORT=""; SOCK=""

bench_cleanup() {
  stop_driver
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true
  awk -v w="$WORK/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r \
    | xargs -r -n1 umount --lazy 2>/dev/null || true
  rm -rf "$WORK"
}

require_tools() {
  command -v docker-registry >/dev/null || { echo "install docker-registry" >&2; exit 2; }
  [ -f "$JAR" ] && [ -f target/test-classes/org/modelpack/csi/bench/PublishBench.class ] \
    || mvn -B -q test-compile package -DskipTests
}

# bench_client REFERENCE OP... : runs PublishBench (one JVM, one connection; see its javadoc)
# against the running driver; targets go under $WORK/targets.
bench_client() {
  local ref=$1; shift
  java -cp "target/test-classes:$JAR" org.modelpack.csi.bench.PublishBench "$SOCK" \
    "$WORK/targets" "$ref" "$@"
}

# Starts docker-registry on a free loopback port. With an argument, its access log (Apache
# combined format, one line per request with the response size) goes to that file.
start_registry() {
  local accesslog=${1:-}
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ -n "$accesslog" ]; then
    printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: false}}\n' > "$WORK/registry.yml"
  else
    printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n' > "$WORK/registry.yml"
  fi
  cat >> "$WORK/registry.yml" <<YML
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
YML
  # The access log goes to stdout, the error log to stderr.
  docker-registry serve "$WORK/registry.yml" > "${accesslog:-/dev/null}" 2> "$WORK/registry.err" &
  REG_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
}

# blob_bytes FROM_LINE: bytes of successful blob GETs (200, 206) logged after line FROM_LINE of
# the access log $ACCESS (combined format: status and size follow the request); "GETS BYTES".
blob_bytes() {
  tail -n +"$(( $1 + 1 ))" "$ACCESS" | awk '
    match($0, /"GET \/v2\/[^ ]*\/blobs\/[^ ]* HTTP\/[0-9.]+" [0-9]+ [0-9]+/) {
      split(substr($0, RSTART, RLENGTH), f, " ")
      if (f[4] == 200 || f[4] == 206) { n++; b += f[5] }
    }
    END { printf "%d %.0f\n", n, b }'
}

# Starts the driver with a fresh config rooted at $1 (its store is $1/store); extra YAML lines
# may follow as further arguments. Waits for the socket. DRIVER_LOG_LEVEL (default warn) is its
# --log-level.
start_driver() {
  local root=$1; shift
  mkdir -p "$root"
  SOCK="$root/csi.sock"
  { echo "root_dir: $root"; echo "csi_endpoint: unix://$SOCK"; printf '%s\n' "$@"; } \
    > "$root.yaml"
  java -Xmx${DRIVER_HEAP:-256m} -jar "$JAR" serve --config "$root.yaml" \
    --log-level "${DRIVER_LOG_LEVEL:-warn}" \
    > "$root.log" 2>&1 &
  DRV_PID=$!
  for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || { echo "driver did not start; log:" >&2; cat "$root.log" >&2; exit 1; }
}

stop_driver() {
  if [ -n "$DRV_PID" ]; then
    kill "$DRV_PID" 2>/dev/null && wait "$DRV_PID" 2>/dev/null || true
    DRV_PID=""
  fi
}

# publish VOLUME_ID REFERENCE -> prints the RPC time in ms as the CLI reports it
publish() {
  local out
  out=$(java -jar "$JAR" publish --endpoint "unix://$SOCK" --volume-id "$1" \
        --target "$WORK/targets/$1" --reference "$2")
  echo "$out" | sed -nE 's/^published .* in ([0-9]+) ms$/\1/p'
}

unpublish() {
  java -jar "$JAR" unpublish --endpoint "unix://$SOCK" --volume-id "$1" \
    --target "$WORK/targets/$1" > /dev/null
}

# The machine is shared: print the load so a noisy run can be recognised.
load_note() { echo "load average ($1): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
