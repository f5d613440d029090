#!/usr/bin/env bash
# Parallel ranged download vs one stream for one large blob, through the test FaultProxy's
# per-connection bandwidth limit (a stand-in for a link where each TCP connection is capped,
# e.g. by a CDN or a long-RTT path). Both sides use RegistryClient.downloadBlob and verify the
# digest (the parallel side includes its whole-file hashing pass). Prints per-download times
# and the ratio median(single)/median(parallel) (goal: >= 3 with 4 connections).
#
#   bench/parallel-ranges.sh [SIZE_MIB] [BYTES_PER_SEC_PER_CONN] [CONNECTIONS] [ROUNDS]
#                            (defaults 1024 50000000 4 1)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
RATE=${2:-50000000}
CONNS=${3:-4}
ROUNDS=${4:-1}
JAR=target/model-csi-driver.jar
command -v docker-registry >/dev/null || { echo "install docker-registry" >&2; exit 2; }
[ -f "$JAR" ] && [ -f target/test-classes/org/modelpack/csi/bench/ParallelRangesBench.class ] \
  || mvn -B -q test-compile package -DskipTests
WORK=$(mktemp -d /var/tmp/model-csi-ranges.XXXXXX)
source bench/lib.sh
trap bench_cleanup EXIT
start_registry
load_note start
java -cp "target/test-classes:$JAR" org.modelpack.csi.bench.ParallelRangesBench \
  "127.0.0.1:$PORT" "$WORK" "$SIZE_MIB" "$RATE" "$CONNS" "$ROUNDS"
load_note end
