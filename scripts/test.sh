#!/usr/bin/env bash
# Runs every test (unit, integration against a real registry, end-to-end with the packaged
# jar): the README's test command, and what .ci/run calls. On Debian, run as root, it first
# installs whatever of the tests' tools is missing, so a fresh machine needs nothing else.
# Arguments go to Maven, e.g. scripts/test.sh -Dit.test=PackagedCliIT -Dtest=NONE \
#   -Dsurefire.failIfNoSpecifiedTests=false
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests bind-mount and unmount.
if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: the tests mount and unmount; run this as root" >&2
  exit 1
fi

# command → Debian package. The tests start /usr/bin/docker-registry (distribution v2) and
# /usr/bin/htpasswd; Maven needs a JDK (17 or newer), not only the JRE its package pulls in.
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v mount >/dev/null 2>&1 || need+=(mount)
if ((${#need[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: missing ${need[*]} (Debian package names); install them first" >&2
    exit 1
  fi
  echo "scripts/test.sh: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi

# kubernetes-csi's csi-sanity (CsiSanityIT) is prebuilt beside the checkout, in the machine's
# shared tools (../shared/tools/csi-sanity, see its README); a clone elsewhere (e.g. under /tmp)
# finds it in /work/shared. -Dcsi.sanity=PATH on the command line wins.
sanity=()
for candidate in ../shared/tools/csi-sanity/csi-sanity /work/shared/tools/csi-sanity/csi-sanity; do
  if [[ -x $candidate ]]; then
    sanity=("-Dcsi.sanity=$(realpath "$candidate")")
    break
  fi
done

exec mvn -B verify "${sanity[@]}" "$@"
