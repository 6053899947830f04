#!/usr/bin/env bash
# Copies the collection's files (tracked and new, not ignored) to a fresh ansible_collections/erpstack/erpnext tree,
# as git, for ansible-test, which needs that path. Left out: collections/ and playbooks/collections (the checkout's
# links back to itself) and the top-level inventory names (links into inventories/ for `ansible-playbook site.yml -i
# prod`), as in the built collection (galaxy.yml build_ignore). Prints the copy's path.
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=$(mktemp -d)/ansible_collections/erpstack/erpnext
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | grep -zvE '^(collections/|playbooks/collections$|(prod|staging|dev|local)$)' \
  | xargs -0 cp -P --parents -t "$dest"
(cd "$dest" && git init -q && git add -A)
echo "$dest"
