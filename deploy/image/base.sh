#!/usr/bin/env bash
# Builds a Java 17 JRE base image from Debian packages, without a Docker daemon or an
# image registry, as a docker-save style tar that Jib takes as `tar://FILE`.
#
#   deploy/image/base.sh OUT.tar [SUITE] [MIRROR]
#
# SUITE defaults to the suite of this machine's apt sources (bookworm), MIRROR to the first
# Debian URI in /etc/apt/sources.list*. Needs root and debootstrap. About two minutes.
# The image holds one layer (the debootstrap root) and a config whose Env puts the JRE on
# PATH; its tag inside the tar is model-csi-base:SUITE.
set -euo pipefail

out=${1:?usage: base.sh OUT.tar [SUITE] [MIRROR]}
suite=${2:-}
mirror=${3:-}

apt_sources() { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; }
if [[ -z $mirror ]]; then
  # deb822 "URIs: http://host/debian" or one-line "deb http://host/debian bookworm main"
  mirror=$(apt_sources | awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}
                              /^deb / && $2 !~ /security/ {print $2; exit}')
fi
if [[ -z $suite ]]; then
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
fi
[[ -n $mirror ]] || { echo "base.sh: no Debian mirror in /etc/apt/sources.list*; pass one" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "base.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "base.sh: debootstrap needs root" >&2; exit 2; }

arch=$(dpkg --print-architecture)
work=$(mktemp -d /var/tmp/model-csi-base.XXXX)
. "$(dirname "$0")/scratch.sh"
cleanup() {
  # debootstrap mounts proc and sys in the target while it runs; one that failed may leave them.
  remove_scratch "$work" base.sh
}
trap cleanup EXIT

echo "base.sh: debootstrap $suite from $mirror ($arch) into $work/rootfs" >&2
debootstrap --variant=minbase --arch="$arch" --include=openjdk-17-jre-headless,ca-certificates \
  "$suite" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

# What an image does not need: package caches and lists, logs, docs and man pages.
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/* \
       "$work"/rootfs/var/log/* "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* \
       "$work"/rootfs/usr/share/locale/*
# Mount points a container runtime fills; left empty.
rm -rf "$work"/rootfs/proc/* "$work"/rootfs/sys/* "$work"/rootfs/dev/* 2>/dev/null || true

java_home=$(dirname "$(dirname "$(readlink -f "$work/rootfs/usr/bin/java" | sed "s#^$work/rootfs##")")")
case $java_home in /usr/lib/jvm/*) ;; *) echo "base.sh: no java in the root ($java_home)" >&2; exit 1;; esac

mkdir "$work/image"
# One layer: the whole root, owners as numbers, in a stable order.
tar --numeric-owner --sort=name --mtime='1970-01-01 00:00:01' -C "$work/rootfs" -cf "$work/image/layer.tar" .
layer_sha=$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1)

cat > "$work/image/config.json" <<JSON
{
  "architecture": "$arch",
  "os": "linux",
  "created": "1970-01-01T00:00:01Z",
  "config": {
    "Env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "JAVA_HOME=$java_home",
      "LANG=C.UTF-8"
    ],
    "Cmd": ["/bin/bash"]
  },
  "rootfs": { "type": "layers", "diff_ids": ["sha256:$layer_sha"] },
  "history": [ { "created": "1970-01-01T00:00:01Z",
                 "created_by": "debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates $suite" } ]
}
JSON
config_sha=$(sha256sum "$work/image/config.json" | cut -d' ' -f1)
mv "$work/image/config.json" "$work/image/$config_sha.json"
mkdir "$work/image/$layer_sha"
mv "$work/image/layer.tar" "$work/image/$layer_sha/layer.tar"
cat > "$work/image/manifest.json" <<JSON
[ { "Config": "$config_sha.json", "RepoTags": ["model-csi-base:$suite"], "Layers": ["$layer_sha/layer.tar"] } ]
JSON

mkdir -p "$(dirname "$out")"
tar -C "$work/image" -cf "$out.part" manifest.json "$config_sha.json" "$layer_sha"
mv "$out.part" "$out"
echo "base.sh: wrote $out ($(du -h "$out" | cut -f1), java at $java_home)" >&2
