#!/usr/bin/env bash
# Proves the README's deploy command on a bare server: a Debian container that has only python3 (no make, git,
# python3-venv, Docker), as root, from a copy of this checkout without .git, and a half-made .venv left by an
# earlier failed attempt. `./make deploy` must install what it needs, rebuild the .venv, install Docker, and stop at
# the image pull (no registry here) with the message that lists the images: exit non-zero, no traceback.
# Also: `make deploy` as another user is refused, and `make images-list` prints the inventory's images.
# KEEP=1 keeps a failed run's container for a look inside.
# usage: tests/harness/bare-deploy.sh [SUITE...]   (bookworm: Python 3.11, ansible-core 2.19; trixie: Python 3.13,
#        ansible-core 2.21, the path Ubuntu 24.04's Python 3.12 takes; default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/tests/output/bare-deploy
mkdir -p "$out"
ns=erpstack-test
caps=(AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK
      IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST
      NET_RAW SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT
      SYS_PTRACE SYS_RAWIO SYS_TIME SYS_TTY_CONFIG WAKE_ALARM)

# A bare server: debootstrap's minbase, the init system every Debian server boots (systemd), and python3; nothing
# else (no make, git, python3-venv, curl, sudo or Docker)
bare_image() {  # $1 suite
  local suite=$1 base=$ns/debian:$1 bare=$ns/bare:$1
  if ! docker image inspect "$base" >/dev/null 2>&1; then SUITE=$suite "$root/tests/images/base/build.sh" "$base" >/dev/null; fi
  if ! docker image inspect "$bare" >/dev/null 2>&1; then
    DOCKER_BUILDKIT=0 docker build -q -t "$bare" - >/dev/null <<EOF_DOCKERFILE
FROM $base
ENV container=docker
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd systemd-sysv \\
      dbus python3 \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\
 && systemctl mask getty.target console-getty.service systemd-logind.service systemd-udevd.service \\
      systemd-udev-trigger.service systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount \\
 && rm -f /etc/machine-id && touch /etc/machine-id
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
EOF_DOCKERFILE
  fi
  echo "$bare"
}

check() {  # $1 description, then a command that exits 0 when it holds
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "  ok     $what"; else echo "  FAILED $what"; failed=1; fi
}
# shellcheck disable=SC2317 # called through check
has() { grep -q -- "$2" "$1"; }                 # has FILE TEXT
# shellcheck disable=SC2317 # called through check
all_of() { local f=$1 t; shift; for t in "$@"; do has "$f" "$t" || return 1; done; }

# What a server on this network is configured with: HTTPS here goes through an intercepting proxy whose CA the host
# trusts, and pip reads it from the host's settings (PIP_CERT). The container gets the same, nothing more.
netconf=()
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -r "$host_ca" ]; then
  netconf=(-v "$host_ca:/etc/erpstack-host-ca.pem:ro" -e PIP_CERT=/etc/erpstack-host-ca.pem)
fi

run_suite() {
  local suite=$1 image name=erpstack-bare-$1 log=$out/$1.log rc start=$SECONDS
  image=$(bare_image "$suite")
  docker rm -f -v "$name" >/dev/null 2>&1 || true
  capargs=(); for c in "${caps[@]}"; do capargs+=(--cap-add "$c"); done
  docker run -d --name "$name" "${capargs[@]}" --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    "${netconf[@]}" "$image" >/dev/null
  docker exec "$name" timeout 30 systemctl is-system-running --wait >/dev/null 2>&1 || true  # running or degraded
  # the checkout as a user would copy it: tracked and new files, no .git; then a .venv a failed attempt left behind
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -c --no-recursion -f -) \
    | docker exec -i "$name" sh -c 'mkdir -p /srv/erpstack && tar -x -C /srv/erpstack'
  docker exec "$name" sh -c 'cd /srv/erpstack && mkdir -p .venv/bin && ln -s /usr/bin/python3 .venv/bin/python'
  echo "bare $suite: $(docker exec "$name" sh -c 'python3 --version; for t in make git curl dockerd; do command -v $t >/dev/null && echo "has $t"; done; python3 -c "import ensurepip" 2>/dev/null && echo has ensurepip' | tr '\n' ' ')"

  docker exec "$name" sh -c 'cd /srv/erpstack && ./make deploy' >"$log" 2>&1 && rc=0 || rc=$?
  failed=0
  check "./make deploy exits non-zero at the pull (rc $rc)" test "$rc" -ne 0
  check "./make installed make, git and python3-venv" has "$log" './make: installing make git python3-venv'
  check "the half-made .venv was made again" has "$log" 'is incomplete'
  check "Docker was installed and started by the docker role" docker exec "$name" docker info
  check "it stopped at the image pull, naming make images-list" \
    all_of "$log" 'cannot reach the image registry' 'make images-list'
  check "no Python traceback" test "$(grep -c Traceback "$log")" -eq 0
  # ansible-core 2.20+ warns where a role reads a fact as a top-level variable (gone in 2.24): ansible_facts only
  check "no fact read as a top-level variable" test "$(grep -c INJECT_FACTS_AS_VARS "$log")" -eq 0
  core=$(docker exec "$name" /srv/erpstack/.venv/bin/python -c 'import ansible.release as r; print(r.__version__)' || true)
  check "the .venv runs ansible-core ${core:-(none)}" test -n "$core"
  docker exec "$name" sh -c 'cd /srv/erpstack && make images-list' >"$out/$suite-images.log" 2>&1 && rc=0 || rc=$?
  check "make images-list exits 0 (rc $rc)" test "$rc" -eq 0
  check "make images-list lists the Traefik, ERPNext and monitoring images" \
    all_of "$out/$suite-images.log" 'traefik:' 'frappe/erpnext:' 'prom/prometheus:'
  docker exec "$name" sh -c 'cd /srv/erpstack && su nobody -s /bin/sh -c "make deploy"' >"$out/$suite-nonroot.log" 2>&1 && rc=0 || rc=$?
  check "make deploy as another user is refused (rc $rc) with the reason" all_of "$out/$suite-nonroot.log" 'run it as root'
  echo "bare $suite: $((SECONDS - start)) s, log: $log"
  grep -E 'Could not pull|fatal:' "$log" | head -n 3 | cut -c1-400
  if [ "$failed" -eq 0 ] || [ -z "${KEEP:-}" ]; then docker rm -f -v "$name" >/dev/null 2>&1 || true; fi
  return $failed
}

status=0
for suite in "${@:-bookworm trixie}"; do
  for s in $suite; do run_suite "$s" || status=1; done
done
exit $status
