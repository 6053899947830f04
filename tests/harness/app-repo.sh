#!/usr/bin/env bash
# Serves the test app (tests/fixtures/apps/erpstack_notes) as a git repository, the way a company serves its own app:
#   tests/harness/app-repo.sh start DIR [PORT]   # a bare repository DIR/erpstack_notes.git, tag v1.0.0, on git://:PORT
#   tests/harness/app-repo.sh stop DIR
# It prints the commit of the tag. The repository is made fresh from the fixture each time (fixed author and dates,
# so the commit id is the same on every machine); `git daemon` serves it read-only to the targets' image builds.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
action=${1:?start or stop}
dir=${2:?a directory for the repository}
port=${3:-9418}

case "$action" in
  start)
    "$0" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir/work" "$dir/erpstack_notes.git"
    mkdir -p "$dir/work"
    cp -r "$here/tests/fixtures/apps/erpstack_notes/." "$dir/work/"
    export GIT_AUTHOR_NAME=erpstack GIT_AUTHOR_EMAIL=tests@erpstack.invalid GIT_COMMITTER_NAME=erpstack \
      GIT_COMMITTER_EMAIL=tests@erpstack.invalid GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
      GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
    git -C "$dir/work" init --quiet --initial-branch=main
    git -C "$dir/work" add -A
    git -C "$dir/work" commit --quiet -m "erpstack_notes 1.0.0"
    git -C "$dir/work" tag v1.0.0
    git clone --quiet --bare "$dir/work" "$dir/erpstack_notes.git"
    git daemon --detach --reuseaddr --export-all --base-path="$dir" --port="$port" \
      --pid-file="$dir/git-daemon.pid" "$dir"
    for _ in $(seq 50); do
      git ls-remote "git://127.0.0.1:$port/erpstack_notes.git" v1.0.0 >/dev/null 2>&1 && break
      sleep 0.1
    done
    git -C "$dir/erpstack_notes.git" rev-parse 'v1.0.0^{commit}'
    ;;
  stop)
    if [[ -f "$dir/git-daemon.pid" ]]; then
      kill "$(cat "$dir/git-daemon.pid")" 2>/dev/null || true
      rm -f "$dir/git-daemon.pid"
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
