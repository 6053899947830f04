#!/usr/bin/env bash
# Links the assets baked into the image into the (volume-backed) sites directory, then runs the command.
set -e
umask 0002

baked=/home/frappe/frappe-bench/assets
link=/home/frappe/frappe-bench/sites/assets

echo "Linking fresh assets to volume..."
rm -rf "$link"
mkdir -p "$(dirname "$link")"
# -n -f: several containers of one bench start at the same time and share the sites volume.
ln -sfn "$baked" "$link"

exec "$@"
