#!/usr/bin/env bash
# Smoke test of the container image, without a Docker daemon or an image registry:
#
#   1. a JRE base image from Debian packages (deploy/image/base.sh), cached in $CACHE;
#   2. the driver's jar (mvn package) and its image (mvn jib:buildTar on that base);
#   3. the image tar unpacked into a root filesystem (skopeo to an OCI layout, umoci unpack);
#   4. a config file written where the chart's ConfigMap goes (/etc/model-csi/config.yaml);
#   5. the image's entrypoint and default args started in a chroot of that root (/proc and /dev
#      mounted under the scratch directory), `info` asked on its socket with the image's own
#      java, the same entrypoint run as an unprivileged user (`--help`), the driver stopped
#      with SIGTERM;
#   6. everything removed: the driver stopped, the mounts unmounted, the scratch directory deleted.
#
#   deploy/image/smoke.sh [--rebuild-base] [--skip-package]
#
# Needs: root (debootstrap, chroot, mounts), Debian tools debootstrap, skopeo, umoci and jq
# (installed with apt-get when missing), the Debian mirror of /etc/apt/sources.list* for the
# base, Maven and a JDK. Env: MODEL_CSI_IMAGE_CACHE (default /var/tmp/model-csi-image-cache)
# keeps the base tar between runs. Not part of `mvn verify` or .ci/run (about 1-3 minutes).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$repo/deploy/image/scratch.sh"
cache=${MODEL_CSI_IMAGE_CACHE:-/var/tmp/model-csi-image-cache}
rebuild_base=false
skip_package=false
for arg in "$@"; do
  case $arg in
    --rebuild-base) rebuild_base=true ;;
    --skip-package) skip_package=true ;;
    *) echo "usage: smoke.sh [--rebuild-base] [--skip-package]" >&2; exit 2 ;;
  esac
done

SECONDS=0
step() { printf '[smoke %3ds] %s\n' "$SECONDS" "$*"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || fail "must run as root (debootstrap, chroot and mounts)"
missing=()
for tool in debootstrap skopeo umoci jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || fail "missing: ${missing[*]}"
  step "installing ${missing[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /var/tmp/model-csi-image.XXXX)
rootfs=$work/bundle/rootfs
driver_pid=
cleanup() {
  local rc=$?
  if [[ -n $driver_pid ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -KILL "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  # Any process left with its root in our scratch directory was started by this script.
  local p pids=()
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/root" 2>/dev/null) == "$work"/* ]] && pids+=("${p#/proc/}")
  done
  if ((${#pids[@]})); then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
  fi
  # Every mount under the scratch directory, deepest first (ours are proc and dev).
  remove_scratch "$work" smoke
  ((rc != 0)) || step "cleaned up; total ${SECONDS}s"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The base.
base=$cache/base-bookworm.tar
if $rebuild_base || [[ ! -s $base ]]; then
  step "building the base image from Debian packages into $base"
  mkdir -p "$cache"
  "$repo/deploy/image/base.sh" "$base"
else
  step "base image cached: $base ($(du -h "$base" | cut -f1)); --rebuild-base rebuilds it"
fi

# 2. The jar and the image.
cd "$repo"
if ! $skip_package || [[ ! -f target/model-csi-driver.jar ]]; then
  step "mvn package -DskipTests"
  mvn -B -q package -DskipTests > "$work/package.log" 2>&1 || { tail -40 "$work/package.log"; fail "mvn package"; }
fi
step "mvn jib:buildTar -Dimage.base=tar://$base"
mvn -B jib:buildTar -Dimage.base="tar://$base" > "$work/jib.log" 2>&1 || { tail -40 "$work/jib.log"; fail "jib:buildTar"; }
image_tar=$repo/target/model-csi-driver-image.tar
[[ -s $image_tar ]] || fail "no image tar at $image_tar"

# The project's version: the first <version> of pom.xml (it has no parent).
version=$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -1)
tar -xOf "$image_tar" manifest.json > "$work/manifest.json"
config_name=$(jq -r '.[0].Config' "$work/manifest.json")
tar -xOf "$image_tar" "$config_name" > "$work/image-config.json"
tag=$(jq -r '.[0].RepoTags[0]' "$work/manifest.json")
step "image $tag: $(du -h "$image_tar" | cut -f1), $(jq '.[0].Layers | length' "$work/manifest.json") layers"
[[ $tag == "model-csi-driver:${version:-?}" ]] || fail "tag $tag is not model-csi-driver:$version"
mapfile -t entrypoint < <(jq -r '.config.Entrypoint[]' "$work/image-config.json")
mapfile -t cmd < <(jq -r '.config.Cmd[]' "$work/image-config.json")
mapfile -t envs < <(jq -r '.config.Env[]' "$work/image-config.json")
workdir=$(jq -r '.config.WorkingDir // "/"' "$work/image-config.json")
echo "  entrypoint: ${entrypoint[*]}"
echo "  cmd:        ${cmd[*]}"
echo "  env:        ${envs[*]}"
[[ "${cmd[*]}" == "serve --config /etc/model-csi/config.yaml" ]] || fail "default args are '${cmd[*]}'"

# 3. Unpack: docker-save tar -> OCI layout -> root filesystem (layers applied in order,
#    whiteouts honoured).
step "unpacking the image (skopeo copy, umoci unpack)"
skopeo copy -q "docker-archive:$image_tar" "oci:$work/oci:image" > "$work/skopeo.log" 2>&1 \
  || { cat "$work/skopeo.log"; fail "skopeo copy"; }
umoci unpack --image "$work/oci:image" "$work/bundle" > "$work/umoci.log" 2>&1 \
  || { cat "$work/umoci.log"; fail "umoci unpack"; }
[[ -f $rootfs/app/classpath/model-csi-driver.jar ]] || fail "no jar in the unpacked image"
[[ ! -e $rootfs/app/libs ]] || fail "the image holds /app/libs beside the fat jar"
cmp -s "$rootfs/app/classpath/model-csi-driver.jar" target/model-csi-driver.jar \
  || fail "the image's jar is not target/model-csi-driver.jar"

# 4. The config, where the chart mounts its ConfigMap. root_dir and the socket resolve inside
#    the chroot, i.e. under $rootfs.
cat > "$rootfs/etc/model-csi/config.yaml" <<'YAML'
service_name: model.csi.modelpack.org
node_id: image-smoke-node
root_dir: /var/lib/model-csi
csi_endpoint: unix:///csi/csi.sock
YAML

# 5. Run it.
mount -t proc proc "$rootfs/proc"
mount --bind /dev "$rootfs/dev"
in_image() { # run a command in the image's root with the image's Env and WorkingDir
  env -i "${envs[@]}" chroot "$@"
}
jvm_flags=()
for a in "${entrypoint[@]:1}"; do [[ $a == -jar ]] && break; jvm_flags+=("$a"); done
step "the image's java with the entrypoint's flags: $(in_image "$rootfs" /usr/bin/env -C "$workdir" \
  "${entrypoint[0]}" "${jvm_flags[@]}" -XshowSettings:vm -version 2>&1 | grep -m1 'Max. Heap' | sed 's/^ *//')"

step "starting: ${entrypoint[*]} ${cmd[*]}"
# Not through in_image: `$!` must be the driver itself (env, chroot and env exec into java).
env -i "${envs[@]}" chroot "$rootfs" /usr/bin/env -C "$workdir" "${entrypoint[@]}" "${cmd[@]}" \
  > "$work/driver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 1 600); do
  [[ -S $rootfs/csi/csi.sock ]] && break
  kill -0 "$driver_pid" 2>/dev/null || { cat "$work/driver.log"; fail "the driver exited before its socket appeared"; }
  sleep 0.1
done
[[ -S $rootfs/csi/csi.sock ]] || { cat "$work/driver.log"; fail "no socket after 60 s"; }
step "socket up: $rootfs/csi/csi.sock"
# A warning at start (JNA's mount(2) unavailable, a config key ignored, ...) is shown, not failed.
grep -E ' (WARN|ERROR) ' "$work/driver.log" | sed 's/^/  driver| /' || echo "  driver| no warning or error at start"

in_image "$rootfs" /usr/bin/env -C "$workdir" "${entrypoint[@]}" info --config /etc/model-csi/config.yaml \
  > "$work/info.txt" 2>&1 || { cat "$work/info.txt" "$work/driver.log"; fail "info"; }
sed 's/^/  info| /' "$work/info.txt"
grep -q 'image-smoke-node' "$work/info.txt" || fail "info does not show the config's node_id"

step "as an unprivileged user (uid 65534): entrypoint + --help"
in_image --userspec=65534:65534 "$rootfs" /usr/bin/env -C / HOME=/tmp "${entrypoint[@]}" --help \
  > "$work/help.txt" 2>&1 || { cat "$work/help.txt"; fail "the image does not start as uid 65534"; }
head -1 "$work/help.txt" | sed 's/^/  help| /'

step "stopping the driver (SIGTERM)"
kill -TERM "$driver_pid"
for _ in $(seq 1 300); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$driver_pid" 2>/dev/null && fail "the driver did not stop within 30 s of SIGTERM"
driver_rc=0; wait "$driver_pid" || driver_rc=$?
driver_pid=
tail -n 3 "$work/driver.log" | sed 's/^/  driver| /'
[[ $driver_rc == 0 || $driver_rc == 143 ]] || fail "the driver exited with $driver_rc"
grep -q ' stopped$' "$work/driver.log" || fail "the driver's log does not end with 'stopped'"

step "OK: image $tag built, unpacked and started; info answered (cleanup follows)"
