#!/usr/bin/env bash
# make ee: builds the execution environment (execution-environment.yml) with ansible-builder, tagged
# erpstack/erpnext-ee:<galaxy.yml version>, then checks that its ansible-core is in meta/runtime.yml's range.
#   EE_BASE_IMAGE=IMAGE  another base image (Python 3.11+ and pip at /usr/local/bin), e.g. a mirror of the public one
#   EE_TAG=NAME:TAG      another tag
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=$root/.venv/bin/python
version=$(sed -n 's/^version: //p' galaxy.yml)
tag=${EE_TAG:-erpstack/erpnext-ee:$version}
base=${EE_BASE_IMAGE:-$("$py" -c 'import yaml; print(yaml.safe_load(open("execution-environment.yml"))["images"]["base_image"]["name"])')}
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; then
  echo "make ee: the base image $base is neither here nor pullable (no registry reachable?)." >&2
  echo "  Pull it where a registry answers and 'docker load' it here, or set EE_BASE_IMAGE to a local image" >&2
  echo "  with Python 3.11 or newer and pip at /usr/local/bin." >&2
  exit 1
fi
mkdir -p .cache/ee/build
rm -f .cache/ee/build/*.tar.gz
"$root/.venv/bin/ansible-galaxy" collection build --force --output-path .cache/ee/build . >/dev/null
cp .cache/ee/build/erpstack-erpnext-"$version".tar.gz .cache/ee/erpstack-erpnext.tar.gz
log=.cache/ee/build.log
if ! "$root/.venv/bin/ansible-builder" build -f execution-environment.yml --context .cache/ee/context \
    --container-runtime docker --tag "$tag" --build-arg "EE_BASE_IMAGE=$base" -v 3 >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "make ee: ansible-builder failed (whole log: $log)" >&2
  exit 1
fi
core=$(docker run --rm --entrypoint /usr/local/bin/python3 "$tag" -c 'import ansible.release; print(ansible.release.__version__)')
"$py" - "$core" <<'PY'
import sys, yaml
from packaging.specifiers import SpecifierSet
core, wanted = sys.argv[1], yaml.safe_load(open("meta/runtime.yml"))["requires_ansible"]
if core not in SpecifierSet(wanted):
    sys.exit(f"make ee: the image's ansible-core {core} is outside meta/runtime.yml's requires_ansible {wanted}")
print(f"ansible-core {core} (requires_ansible {wanted})")
PY
echo "built $tag from $base"
