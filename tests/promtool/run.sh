#!/usr/bin/env bash
# Unit tests of the Prometheus alert rules: renders roles/monitoring/templates/alerts.yml.j2 with the fixture benches
# (render.py), then runs `promtool check rules` and `promtool test rules` on every *.test.yml here, in the Prometheus
# test image without network. Prints one summary line; exits non-zero on any failure.
# Environment: PYTHON (default .venv/bin/python of the repository), PROMETHEUS_IMAGE (default the test image).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
image=${PROMETHEUS_IMAGE:-erpstack-test/prometheus:v2.42.0}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" "$here/render.py" "$work/alerts.yml"
cp "$here"/*.test.yml "$work/"
# the image runs promtool as nobody
chmod -R a+rX "$work"

tests=()
for file in "$work"/*.test.yml; do
  tests+=("$(basename "$file")")
done
alerts=$(grep -c '^ *- alert: ' "$work/alerts.yml")

promtool() {
  docker run --rm --network none --entrypoint promtool -v "$work:/w:ro" -w /w "$image" "$@"
}

if ! promtool check rules alerts.yml; then
  echo "promtool: FAILED: check rules (${alerts} alerts)"
  exit 1
fi
if ! promtool test rules "${tests[@]}"; then
  echo "promtool: FAILED: test rules (${#tests[@]} test files, ${alerts} alerts)"
  exit 1
fi
echo "promtool: OK: ${alerts} alerts checked, ${#tests[@]} test files passed"
