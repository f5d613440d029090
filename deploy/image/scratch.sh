# Shared by base.sh and smoke.sh (sourced, not run).
# remove_scratch DIR WHO: unmounts every mount under DIR, deepest first, then deletes DIR on its
# own filesystem only; if a mount is left, DIR is kept (deleting through it would reach the
# mounted filesystem) and WHO says so on stderr.
remove_scratch() {
  local dir=$1 who=$2 m
  for m in $(awk -v w="$dir/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || echo "$who: could not unmount $m" >&2
  done
  if awk -v w="$dir/" 'index($2, w) == 1 {found=1} END {exit !found}' /proc/self/mounts; then
    echo "$who: mounts left under $dir; not deleting it" >&2
  else
    rm -rf --one-file-system "$dir"
  fi
}
