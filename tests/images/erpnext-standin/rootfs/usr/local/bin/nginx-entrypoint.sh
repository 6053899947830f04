#!/usr/bin/env bash
# Frontend: renders the nginx site configuration from the environment, then runs nginx in the foreground.
set -e

default() {
  local name=$1 value=$2
  if [[ -z "${!name}" ]]; then
    echo "$name defaulting to $value"
    export "$name=$value"
  fi
}

default BACKEND 0.0.0.0:8000
default SOCKETIO 0.0.0.0:9000
default UPSTREAM_REAL_IP_ADDRESS 127.0.0.1
default UPSTREAM_REAL_IP_HEADER X-Forwarded-For
default UPSTREAM_REAL_IP_RECURSIVE off
# shellcheck disable=SC2016 # the literal nginx variable $host
default FRAPPE_SITE_NAME_HEADER '$host'
default PROXY_READ_TIMEOUT 120
default CLIENT_MAX_BODY_SIZE 50m

# Only the listed variables are substituted: nginx's own $variables stay as they are.
# shellcheck disable=SC2016
envsubst '${BACKEND} ${SOCKETIO} ${UPSTREAM_REAL_IP_ADDRESS} ${UPSTREAM_REAL_IP_HEADER}
  ${UPSTREAM_REAL_IP_RECURSIVE} ${FRAPPE_SITE_NAME_HEADER} ${PROXY_READ_TIMEOUT} ${CLIENT_MAX_BODY_SIZE}' \
  </templates/nginx/frappe.conf.template >/etc/nginx/conf.d/frappe.conf

exec nginx -g 'daemon off;'
