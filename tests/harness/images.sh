#!/usr/bin/env bash
# Builds every test image on this machine (no registry), cached by a hash of its build inputs, and saves each to a
# tarball under .cache/images/ for Molecule targets (air-gapped image loading).
# usage: tests/harness/images.sh [NAME...]   (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${ERPSTACK_CACHE:-$here/.cache}
mkdir -p "$cache/images"
ns=erpstack-test

# name|context dir|tag|build args (space separated)|parent image
images=(
  "debian|tests/images/base|$ns/debian:bookworm||"
  "systemd|tests/images/systemd-host|$ns/systemd:bookworm||debian"
  "mariadb|tests/images/mariadb|$ns/mariadb:10.11||debian"
  "redis|tests/images/redis|$ns/redis:7.0||debian"
  "erpnext-v16|tests/images/erpnext-standin|$ns/erpnext:v16.32.3|FRAPPE_VERSION=16.32.3|debian"
  "erpnext-v15|tests/images/erpnext-standin|$ns/erpnext:v15.85.1|FRAPPE_VERSION=15.85.1|debian"
)
declare -A hash_of tag_of

input_hash() {  # $1 dir, $2 build args, $3 parent hash
  (cd "$here/$1" && find . -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum; echo "$2"; echo "$3") \
    | sha256sum | cut -c1-16
}

build_one() {  # name dir tag args parent
  local name=$1 dir=$2 tag=$3 args=$4 parent=$5 h label
  h=$(input_hash "$dir" "$args" "${parent:+${hash_of[$parent]}}")
  hash_of[$name]=$h; tag_of[$name]=$tag
  label=$(docker image inspect -f '{{ index .Config.Labels "org.erpstack.inputs" }}' "$tag" 2>/dev/null || true)
  local start=$SECONDS
  if [ "$label" != "$h" ]; then
    if [ "$name" = debian ]; then
      "$here/$dir/build.sh" "$tag.tmp" >/dev/null
      printf 'FROM %s\nLABEL org.erpstack.inputs=%s\n' "$tag.tmp" "$h" | DOCKER_BUILDKIT=0 docker build -q -t "$tag" - >/dev/null 2>&1
      docker rmi "$tag.tmp" >/dev/null
    else
      local bargs=(--label "org.erpstack.inputs=$h" --build-arg "BASE=${parent:+${tag_of[$parent]}}")
      for a in $args; do bargs+=(--build-arg "$a"); done
      DOCKER_BUILDKIT=0 docker build -q "${bargs[@]}" -t "$tag" "$here/$dir" >/dev/null 2>"$cache/build-$name.log" \
        || { cat "$cache/build-$name.log" >&2; echo "images.sh: building $tag failed" >&2; return 1; }
    fi
    echo "built   $tag ($((SECONDS - start)) s)"
  else
    echo "cached  $tag"
  fi
  case $name in debian|systemd) return 0 ;; esac
  local tar="$cache/images/$name.tar"
  if [ ! -s "$tar" ] || [ "$(cat "$tar.inputs" 2>/dev/null)" != "$h" ]; then
    docker save -o "$tar.tmp" "$tag" && mv "$tar.tmp" "$tar" && echo "$h" >"$tar.inputs"
  fi
}

want=("$@")
for spec in "${images[@]}"; do
  IFS='|' read -r name dir tag args parent <<<"$spec"
  [ -d "$here/$dir" ] || { echo "skip    $tag (no $dir yet)"; continue; }
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} debian " == *" $name "* ]]; then
    hash_of[$name]=$(input_hash "$dir" "$args" "${parent:+${hash_of[$parent]}}"); tag_of[$name]=$tag; continue
  fi
  build_one "$name" "$dir" "$tag" "$args" "$parent"
done
