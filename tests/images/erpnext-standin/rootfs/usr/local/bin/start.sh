#!/usr/bin/env bash
# Default command: the backend, gunicorn serving frappe.app:application on port 8000.
set -e

GUNICORN_WORKERS=${GUNICORN_WORKERS:-2}
GUNICORN_THREADS=${GUNICORN_THREADS:-4}
GUNICORN_TIMEOUT=${GUNICORN_TIMEOUT:-120}

echo "Booting Gunicorn with $GUNICORN_WORKERS workers and $GUNICORN_THREADS threads..."

exec /home/frappe/frappe-bench/env/bin/gunicorn \
  --chdir=/home/frappe/frappe-bench/sites \
  --bind=0.0.0.0:8000 \
  --worker-class=gthread \
  --workers="$GUNICORN_WORKERS" \
  --threads="$GUNICORN_THREADS" \
  --timeout="$GUNICORN_TIMEOUT" \
  --preload \
  --worker-tmp-dir=/dev/shm \
  frappe.app:application
