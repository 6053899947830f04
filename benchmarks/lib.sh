# shellcheck shell=bash
# Sourced by the benchmark scripts: every container, volume and network a run creates is named "$id-..." and removed
# when the script exits, however it exits.

cleanup_on_exit() {  # $1 the run's name prefix, $2 its network
  _bench_id=$1 _bench_net=$2
  trap _bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

_bench_cleanup() {
  local c v
  mapfile -t c < <(docker ps -aq --filter "name=^$_bench_id-")
  [ ${#c[@]} -eq 0 ] || docker rm -f "${c[@]}" >/dev/null 2>&1 || true
  mapfile -t v < <(docker volume ls -q --filter "name=^$_bench_id-")
  [ ${#v[@]} -eq 0 ] || docker volume rm "${v[@]}" >/dev/null 2>&1 || true
  docker network rm "$_bench_net" >/dev/null 2>&1 || true
}

require_images() {  # $1 the script's name for the message, then the images it needs
  local script=$1 img; shift
  for img in "$@"; do
    docker image inspect "$img" >/dev/null 2>&1 || { echo "$script: no image $img (run: make images)" >&2; exit 2; }
  done
}
