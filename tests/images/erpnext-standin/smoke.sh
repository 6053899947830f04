#!/usr/bin/env bash
# Smoke test of the ERPNext stand-in image: runs a throwaway bench with plain `docker run` on a private network
# (MariaDB, two password-protected Redis, configurator, backend, websocket, worker, scheduler, frontend) and checks
# the contract end to end. Everything it starts is removed on exit, also on failure.
#
#   tests/images/erpnext-standin/smoke.sh [IMAGE]     (default erpstack-test/erpnext:v16.32.3)
#
# It builds nothing, except a throwaway MariaDB or Redis image when erpstack-test/mariadb:10.11 or
# erpstack-test/redis:7.0 is missing (from erpstack-test/debian:bookworm). Secrets travel on standard input or in
# files under a private temporary directory, never on a command line.
set -Eeuo pipefail

IMAGE=${1:-erpstack-test/erpnext:v16.32.3}
DB_IMAGE=${DB_IMAGE:-erpstack-test/mariadb:10.11}
REDIS_IMAGE=${REDIS_IMAGE:-erpstack-test/redis:7.0}
BASE_IMAGE=${BASE_IMAGE:-erpstack-test/debian:bookworm}

P="standin-smoke-$$-"
NET="${P}net"
SITES="${P}sites"
LOGS="${P}logs"
SITE=smoke.localhost
BENCH=/home/frappe/frappe-bench
started=()
built=()
tmp=$(mktemp -d)
started_at=$SECONDS
checks=0

log() { printf '%s [%3ss] %s\n' "$(date +%T)" "$((SECONDS - started_at))" "$*"; }
ok() { checks=$((checks + 1)); log "ok: $*"; }
fail() { log "FAIL: $*" >&2; exit 1; }

dump_logs() {
  local c
  for c in "${started[@]}"; do
    echo "----- docker logs $c (tail) -----" >&2
    docker logs --tail 40 "$c" >&2 2>&1 || true
  done
}

cleanup() {
  local rc=$?
  trap - EXIT ERR
  [[ $rc -ne 0 ]] && dump_logs
  local c
  for c in "${started[@]}"; do docker rm -fv "$c" >/dev/null 2>&1 || true; done
  docker volume rm "$SITES" "$LOGS" >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
  for c in "${built[@]}"; do docker rmi "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
  if [[ $rc -eq 0 ]]; then log "smoke test passed: $checks checks"; else log "smoke test FAILED (rc=$rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "error on line $LINENO: $BASH_COMMAND" >&2' ERR

secret() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

# Runs `bench ARGS...` as frappe in the backend; standard input is passed through.
bench() { docker exec -i -u frappe -w "$BENCH" "${P}backend" bench "$@"; }
# Root SQL in the database container; the password goes through the environment of mariadb, not its argv.
root_sql() {
  printf '%s\n' "$ROOT_PW" | docker exec -i "${P}db" bash -c 'IFS= read -r MYSQL_PWD; export MYSQL_PWD; exec mariadb -uroot -N -B -e "$1"' root-sql "$1"
}
# redis-cli in a Redis container; the password goes through stdin into REDISCLI_AUTH, not onto a command line.
rcli() { # rcli CONTAINER PASSWORD ARGS...
  local c=$1 pw=$2
  shift 2
  printf '%s\n' "$pw" | docker exec -i "$c" bash -c 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; exec redis-cli "$@"' redis-cli "$@"
}
redis_queue() { rcli "${P}redis-queue" "$QUEUE_PW" "$@"; }
redis_cache() { rcli "${P}redis-cache" "$CACHE_PW" "$@"; }
redis_ready() { [[ "$(redis_queue PING)" == PONG && "$(redis_cache PING)" == PONG ]]; }
# queue_client REGEX: a line of redis-queue's CLIENT LIST matches (output captured first: no SIGPIPE under pipefail).
queue_client() {
  local clients
  clients=$(redis_queue CLIENT LIST) && grep -qE -- "$1" <<<"$clients"
}
container_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  fail "timed out after ${limit}s waiting for $what"
}

run_bg() { # run_bg NAME DOCKER-RUN-ARGS...
  local name=$1
  shift
  started+=("$name")
  docker run -d --name "$name" --network "$NET" "$@" >/dev/null
}

docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE not found: build it first (see README.md)"

# ----------------------------------------------------------------------------------------------------------
log "preparing helper images"
if ! docker image inspect "$DB_IMAGE" >/dev/null 2>&1; then
  DB_IMAGE="${P}mariadb:tmp"
  cat >"$tmp/db-entrypoint.sh" <<'EOF'
#!/bin/bash
# Minimal MariaDB init: root@% with the password from MARIADB_ROOT_PASSWORD_FILE.
set -e
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock & pid=$!
  for i in $(seq 60); do mariadb --socket=/run/mysqld/init.sock -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
  pw=$(sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g" "$MARIADB_ROOT_PASSWORD_FILE")
  printf "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('%s'); CREATE USER 'root'@'%%' IDENTIFIED BY '%s'; %s" "$pw" "$pw" \
    "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; FLUSH PRIVILEGES;" | mariadb --socket=/run/mysqld/init.sock
  kill "$pid"; wait "$pid" || true
fi
exec mariadbd --user=mysql --bind-address=0.0.0.0 --skip-name-resolve
EOF
  cat >"$tmp/Dockerfile.db" <<EOF
FROM $BASE_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server \\
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql/* && mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld /var/lib/mysql
COPY db-entrypoint.sh /db-entrypoint.sh
CMD ["bash", "/db-entrypoint.sh"]
EOF
  docker build -q -t "$DB_IMAGE" -f "$tmp/Dockerfile.db" "$tmp" >/dev/null
  built+=("$DB_IMAGE")
fi
if ! docker image inspect "$REDIS_IMAGE" >/dev/null 2>&1; then
  REDIS_IMAGE="${P}redis:tmp"
  docker build -q -t "$REDIS_IMAGE" - >/dev/null <<EOF
FROM $BASE_IMAGE
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \\
 && rm -rf /var/lib/apt/lists/*
CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0"]
EOF
  built+=("$REDIS_IMAGE")
fi

ROOT_PW=$(secret)
ADMIN_PW=$(secret)
NEW_ADMIN_PW=$(secret)
OLD_ADMIN_PW=
CACHE_PW=$(secret)
QUEUE_PW="$(secret)@:/%+" # characters that have to be percent-encoded in a URL
QUEUE_PW_URI=$(printf '%s' "$QUEUE_PW" | jq -sRr @uri)
WRONG_PW="$(secret)@:/%"
WRONG_PW_URI=$(printf '%s' "$WRONG_PW" | jq -sRr @uri)
printf '%s' "$ROOT_PW" >"$tmp/db-root"
printf 'bind 0.0.0.0\nprotected-mode no\nrequirepass "%s"\n' "$CACHE_PW" >"$tmp/redis-cache.conf"
printf 'bind 0.0.0.0\nprotected-mode no\nrequirepass "%s"\n' "$QUEUE_PW" >"$tmp/redis-queue.conf"
# Read by the servers' own users inside their containers; $tmp itself is private.
chmod 0644 "$tmp/db-root" "$tmp/redis-cache.conf" "$tmp/redis-queue.conf"

docker network create "$NET" >/dev/null
docker volume create "$SITES" >/dev/null
docker volume create "$LOGS" >/dev/null
VOLS=(-v "$SITES:$BENCH/sites" -v "$LOGS:$BENCH/logs")

# ----------------------------------------------------------------------------------------------------------
log "starting MariaDB and Redis (requirepass from a configuration file)"
run_bg "${P}db" -e MARIADB_ROOT_PASSWORD_FILE=/run/secrets/db-root -e MARIADB_ROOT_HOST=% \
  -v "$tmp/db-root:/run/secrets/db-root:ro" "$DB_IMAGE"
for r in cache queue; do
  run_bg "${P}redis-$r" -v "$tmp/redis-$r.conf:/etc/redis/smoke.conf:ro" "$REDIS_IMAGE" redis-server /etc/redis/smoke.conf
done
wait_for 90 "MariaDB" root_sql "SELECT 1"
wait_for 30 "Redis" redis_ready
for r in cache queue; do
  [[ "$(docker exec "${P}redis-$r" redis-cli PING 2>&1)" == NOAUTH* ]] || fail "redis-$r answers without a password"
done
ok "MariaDB and Redis answer; both Redis refuse clients without the password"

# ----------------------------------------------------------------------------------------------------------
log "configurator"
started+=("${P}configurator")
docker run --name "${P}configurator" --network "$NET" "${VOLS[@]}" \
  -e DB_HOST="${P}db" -e DB_PORT=3306 -e REDIS_CACHE="${P}redis-cache:6379" -e REDIS_QUEUE="${P}redis-queue:6379" \
  -e SOCKETIO_PORT=9000 --entrypoint bash "$IMAGE" -c '
    ls -1 apps > sites/apps.txt;
    bench set-config -g db_host $DB_HOST;
    bench set-config -gp db_port $DB_PORT;
    bench set-config -g redis_cache "redis://$REDIS_CACHE";
    bench set-config -g redis_queue "redis://$REDIS_QUEUE";
    bench set-config -g redis_socketio "redis://$REDIS_QUEUE";
    bench set-config -gp socketio_port $SOCKETIO_PORT;' >/dev/null
[[ "$(docker inspect -f '{{.State.ExitCode}}' "${P}configurator")" == 0 ]] || fail "configurator exited non-zero"

run_bg "${P}backend" "${VOLS[@]}" "$IMAGE"
wait_for 30 "backend" docker exec "${P}backend" test -f "$BENCH/sites/common_site_config.json"
common=$(docker exec "${P}backend" cat "$BENCH/sites/common_site_config.json")
[[ "$(jq -r '.db_port | type' <<<"$common")" == number && "$(jq -r .socketio_port <<<"$common")" == 9000 ]] ||
  fail "common_site_config.json: -p did not parse numbers: $common"
[[ "$(jq -r .redis_queue <<<"$common")" == "redis://${P}redis-queue:6379" ]] || fail "redis_queue not set: $common"
[[ "$(docker exec "${P}backend" cat "$BENCH/sites/apps.txt" | tr '\n' ' ')" == "erpnext frappe " ]] ||
  fail "apps.txt is not the list of apps/"
ok "configurator wrote apps.txt and common_site_config.json (numbers parsed with -p)"

# Credentials into the Redis URLs, percent-encoded by jq; the passwords reach jq on its standard input.
# shellcheck disable=SC2016 # jq variables, not shell ones
URL_FILTER='input as $cache_pw | input as $queue_pw | $conf[0] + {
  redis_cache: "redis://:\($cache_pw | @uri)@\($cache_host)",
  redis_queue: "redis://:\($queue_pw | @uri)@\($queue_host)",
  redis_socketio: "redis://:\($queue_pw | @uri)@\($queue_host)"}'
printf '%s\n%s\n' "$CACHE_PW" "$QUEUE_PW" | docker exec -i -u frappe -w "$BENCH/sites" "${P}backend" bash -c '
  jq -Rn --slurpfile conf common_site_config.json --arg cache_host "$1" --arg queue_host "$2" "$3" >common_site_config.json.new &&
    mv common_site_config.json.new common_site_config.json' set-redis-urls "${P}redis-cache:6379" "${P}redis-queue:6379" "$URL_FILTER"
common=$(docker exec "${P}backend" cat "$BENCH/sites/common_site_config.json")
[[ "$(jq -r .redis_queue <<<"$common")" == "redis://:$QUEUE_PW_URI@${P}redis-queue:6379" &&
  "$(jq -r .redis_socketio <<<"$common")" == "redis://:$QUEUE_PW_URI@${P}redis-queue:6379" &&
  "$(jq -r .redis_cache <<<"$common")" == "redis://:$CACHE_PW@${P}redis-cache:6379" ]] || fail "Redis URLs with credentials not written"
ok "common_site_config.json has the Redis URLs with percent-encoded passwords"

# ----------------------------------------------------------------------------------------------------------
log "new-site with the passwords on standard input"
out=$(printf '%s\n%s\n' "$ROOT_PW" "$ADMIN_PW" |
  bench new-site "$SITE" --db-root-username root --mariadb-user-host-login-scope=% --install-app erpnext 2>&1) ||
  fail "new-site failed: $out"
grep -q 'MySQL root password: ' <<<"$out" || fail "new-site did not prompt for the root password: $out"
grep -q 'Set Administrator password: ' <<<"$out" || fail "new-site did not prompt for the admin password: $out"
grep -q '^\*\*\* Scheduler is disabled \*\*\*$' <<<"$out" || fail "new-site did not report the scheduler: $out"
grep -qF -e "$ROOT_PW" -e "$ADMIN_PW" <<<"$out" && fail "new-site echoed a password"
site_config=$(docker exec "${P}backend" cat "$BENCH/sites/$SITE/site_config.json")
DB_NAME=$(jq -r .db_name <<<"$site_config")
[[ "$DB_NAME" =~ ^_[0-9a-f]{16}$ ]] || fail "unexpected db_name $DB_NAME"
[[ -n "$(jq -r '.encryption_key // empty' <<<"$site_config")" && "$(jq -r .db_type <<<"$site_config")" == mariadb ]] ||
  fail "site_config lacks encryption_key/db_type"
[[ "$(root_sql "SELECT host FROM mysql.user WHERE user = '$DB_NAME'")" == "%" ]] || fail "site user not created @'%'"
grants=$(root_sql "SHOW GRANTS FOR '$DB_NAME'@'%'")
grep -qF "GRANT ALL PRIVILEGES ON \`$DB_NAME\`.*" <<<"$grants" || fail "grant missing: $grants"
ok "new-site created database $DB_NAME, user @'%' and site_config.json"

out=$(printf '%s\n%s\n' "$ROOT_PW" "$ADMIN_PW" | bench new-site "$SITE" --db-root-username root 2>&1) &&
  fail "second new-site succeeded"
grep -q "^Site $SITE already exists" <<<"$out" || fail "unexpected message: $out"
ok "new-site on an existing site exits non-zero with 'Site ... already exists'"

out=$(printf '%s\n%s\n' "$ROOT_PW" "$ADMIN_PW" | bench new-site other.localhost --install-app nosuchapp 2>&1) &&
  fail "new-site with an unknown app succeeded"
grep -q "nosuchapp" <<<"$out" || fail "unknown app not reported: $out"
out=$(printf 'wrong-password\n' | bench new-site third.localhost 2>&1) && fail "new-site with a wrong root password succeeded"
grep -q "Access denied" <<<"$out" || fail "wrong root password not reported: $out"
grep -q "wrong-password" <<<"$out" && fail "wrong root password echoed"
# Like Frappe, a failed new-site leaves its directory behind; this one has no database, so remove it, as an operator
# would (other.localhost keeps its database: `--site all` below covers two sites).
docker exec -u frappe "${P}backend" rm -rf "$BENCH/sites/third.localhost"
ok "new-site fails on an unknown app and on a wrong root password (without echoing it)"

apps=$(bench --site "$SITE" list-apps)
[[ "$(awk '{print $1}' <<<"$apps" | tr '\n' ' ')" == "frappe erpnext " ]] || fail "list-apps text: $apps"
version=$(docker exec "${P}backend" cat "$BENCH/apps/frappe/frappe/VERSION")
awk -v v="$version" '$2 != v {exit 1}' <<<"$apps" || fail "list-apps versions are not $version: $apps"
json=$(bench --site "$SITE" list-apps --format json)
[[ "$(jq -c . <<<"$json")" == "{\"$SITE\":[\"frappe\",\"erpnext\"]}" ]] || fail "list-apps json: $json"
ok "list-apps text and --format json list frappe then erpnext at $version"

[[ "$(bench use "$SITE")" == "Current Site set to $SITE" ]] || fail "use"
bench --site "$SITE" set-config -p max_file_size 1048576
[[ "$(docker exec "${P}backend" jq .max_file_size "$BENCH/sites/$SITE/site_config.json")" == 1048576 ]] || fail "set-config -p"
ok "use and site set-config -p"

# ----------------------------------------------------------------------------------------------------------
log "websocket, worker, frontend"
run_bg "${P}websocket" "${VOLS[@]}" "$IMAGE" node "$BENCH/apps/frappe/socketio.js"
run_bg "${P}queue-short" "${VOLS[@]}" "$IMAGE" bench worker --queue short,default
ws_ip=$(container_ip "${P}websocket")
# A subscription (sub=1) from the websocket's address exists only once its AUTH was accepted.
ws_client="(^| )addr=${ws_ip//./\\.}:[0-9]+ .* sub=1 "
wait_for 30 "worker registration" queue_client 'name=rq:worker:'
wait_for 30 "websocket subscription" queue_client "$ws_client"
[[ "$(redis_queue SCARD rq:workers)" -ge 1 ]] || fail "worker not in rq:workers"
[[ "$(redis_queue PUBSUB NUMSUB events | tail -n1)" -ge 1 ]] || fail "no subscriber on the events channel"
for c in queue-short websocket; do
  logs=$(docker logs "${P}$c" 2>&1)
  grep -qF "redis://:***@${P}redis-queue:6379" <<<"$logs" || fail "$c does not log the masked Redis URL: $logs"
done
ok "worker registered (CLIENT SETNAME rq:worker:*, rq:workers), websocket authenticated and subscribed (URL logged masked)"
rc=0; out=$(bench worker --queue short,nosuch 2>&1) || rc=$?
[[ $rc == 1 && "$out" == *"Queue should be one of short, default, long"* ]] ||
  fail "a worker of an unknown queue: exit $rc: $out"
ok "a worker of an unknown queue is refused as Frappe's validate_queue does"

log "Redis authentication failures"
# bad_run NAME PASSWORD KEY COMMAND...: runs COMMAND in a throwaway container of the image whose common config points
# KEY at redis-queue with PASSWORD (none when empty); the password reaches jq on stdin. Sets bad_rc and bad_out.
# shellcheck disable=SC2016 # jq variables
BAD_FILTER='input as $pw | {($key): ("redis://" + (if $pw == "" then "" else ":" + ($pw | @uri) + "@" end) + $host), socketio_port: 9000}'
# shellcheck disable=SC2016 # container-side variables
bad_run() {
  local name=$1 pw=$2 key=$3
  shift 3
  started+=("${P}$name")
  bad_rc=0
  bad_out=$(printf '%s\n' "$pw" | timeout 60 docker run --rm -i --name "${P}$name" --network "$NET" --entrypoint bash "$IMAGE" -c '
    jq -Rn --arg key "$1" --arg host "$2" "$3" >sites/common_site_config.json && shift 3 && exec "$@"' \
    "$name" "$key" "${P}redis-queue:6379" "$BAD_FILTER" "$@" 2>&1) || bad_rc=$?
}
bad_run bad-worker "$WRONG_PW" redis_queue bench worker --queue short
[[ $bad_rc -eq 1 ]] || fail "worker with a wrong Redis password exited $bad_rc: $bad_out"
grep -q '^redis.exceptions.AuthenticationError: ' <<<"$bad_out" || fail "worker: no authentication error: $bad_out"
bad_run noauth-worker "" redis_queue bench worker --queue short
if [[ $bad_rc -ne 1 ]] || ! grep -q 'AuthenticationError: Authentication required' <<<"$bad_out"; then
  fail "worker without a password: exit $bad_rc: $bad_out"
fi
bad_run bad-websocket "$WRONG_PW" redis_socketio node "$BENCH/apps/frappe/socketio.js"
[[ $bad_rc -eq 1 ]] || fail "websocket with a wrong Redis password exited $bad_rc: $bad_out"
grep -qF "redis authentication failed for redis://:***@${P}redis-queue:6379: WRONGPASS" <<<"$bad_out" ||
  fail "websocket: no authentication error: $bad_out"
bad_out_all=$bad_out
bad_run bad-worker-log "$WRONG_PW" redis_queue bash -c 'bench worker --queue short; echo "exit $?"'
bad_out_all+=$bad_out
grep -qF -e "$WRONG_PW" -e "$WRONG_PW_URI" -e "$QUEUE_PW" -e "$QUEUE_PW_URI" <<<"$bad_out_all" &&
  fail "a Redis password was printed: $bad_out_all"
ok "a wrong or missing Redis password: worker and websocket exit 1 with an authentication error, no password printed"

run_bg "${P}frontend" "${VOLS[@]}" -e BACKEND="${P}backend:8000" -e SOCKETIO="${P}websocket:9000" "$IMAGE" nginx-entrypoint.sh
docker exec -u frappe -w "$BENCH/sites/$SITE/public/files" "${P}backend" bash -c \
  "printf 'standin-marker\n' >standin-marker.txt && printf '<svg xmlns=\"http://www.w3.org/2000/svg\"/>' >pic.svg"

# HTTP checks from inside the network; the admin password is the first line of standard input.
cat >"$tmp/http_checks.py" <<'EOF'
import base64, http.client, json, os, sys, urllib.parse

admin_pw = sys.stdin.readline().rstrip("\n")
old_pw = sys.stdin.readline().rstrip("\n")
front, site, phase = sys.argv[1], sys.argv[2], sys.argv[3]
cookie = None
COOKIE_FILE = "/tmp/standin-smoke-cookie"  # a session kept across phases, inside the backend container


def request(method, path, body=None, headers=None, host=site):
    conn = http.client.HTTPConnection(front, 8080, timeout=15)
    hdrs = {"Host": host}
    if cookie:
        hdrs["Cookie"] = cookie
    hdrs.update(headers or {})
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp, data


def expect(cond, message):
    if not cond:
        print("FAIL:", message)
        sys.exit(1)
    print("ok:", message)


def post_login(password):
    form = "usr=Administrator&pwd=" + urllib.parse.quote(password)
    return request("POST", "/api/method/login", form, {"Content-Type": "application/x-www-form-urlencoded"})


def login():
    global cookie
    status, resp, data = post_login(admin_pw)
    expect(status == 200 and json.loads(data)["message"] == "Logged In", f"login: {status} {data[:200]!r}")
    sid = [c for c in resp.headers.get_all("Set-Cookie") if c.startswith("sid=")]
    expect(bool(sid) and "HttpOnly" in sid[0], "login sets an HttpOnly sid cookie")
    cookie = sid[0].split(";", 1)[0]


def todos():
    status, resp, data = request("GET", '/api/resource/ToDo?fields=["name","description"]&limit_page_length=0')
    expect(status == 200, f"ToDo list: {status}")
    return {row["description"]: row["name"] for row in json.loads(data)["data"]}


if phase == "before":
    status, resp, data = request("GET", "/api/method/ping")
    expect(status == 200 and json.loads(data) == {"message": "pong"}, f"ping through the frontend: {status} {data!r}")
    status, resp, data = request("GET", "/assets/frappe/images/frappe-framework-logo.svg")
    expect(status == 200 and len(data) > 0 and b"<svg" in data, f"logo asset served by nginx: {status}")
    expect(resp.getheader("X-Frame-Options") == "SAMEORIGIN" and resp.getheader("X-Content-Type-Options") == "nosniff"
           and resp.getheader("Strict-Transport-Security") and resp.getheader("Referrer-Policy"), "security headers")
    status, resp, data = request("GET", "/files/standin-marker.txt")
    expect(status == 200 and data == b"standin-marker\n", f"/files/ marker served from the site's public files: {status}")
    status, resp, data = request("GET", "/files/pic.svg")
    expect(status == 200 and resp.getheader("Content-Disposition") == "attachment", "/files/*.svg as attachment")
    status, resp, data = request("GET", "/socket.io/?EIO=4&transport=polling")
    body = data.decode()
    expect(status == 200 and body.startswith("0{"), f"socket.io handshake: {status} {body[:80]}")
    opened = json.loads(body[1:])
    expect(opened["upgrades"] == [] and opened["pingInterval"] == 25000 and opened["pingTimeout"] == 20000
           and opened["maxPayload"] == 1000000 and len(opened["sid"]) == 20, "Engine.IO v4 open packet")
    status, resp, data = request("GET", "/api/method/ping", host="unknown.localhost")
    expect(status == 404 and json.loads(data)["exc_type"] == "IncorrectSitePath", f"unknown site -> 404: {status}")
    status, resp, data = request("GET", "/api/resource/ToDo")
    expect(status == 403, f"ToDo as Guest -> 403: {status}")
    status, resp, data = request("POST", "/api/method/login", "usr=Administrator&pwd=wrong",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 401, f"wrong password -> 401: {status}")
    # Frappe's handler.execute_cmd: a whitelisted method without allow_guest, a function that is not whitelisted,
    # an app the site does not have
    for method, why in (("frappe.auth.get_logged_user", "a Guest"), ("frappe.auth.hash_password", "not whitelisted")):
        status, resp, data = request("GET", "/api/method/" + method)
        body = json.loads(data)
        expect(status == 403 and body["exc_type"] == "PermissionError"
               and f"Function <strong>{method}</strong> is not whitelisted." in body["message"],
               f"{method} ({why}) -> 403: {status} {data[:160]!r}")
    status, resp, data = request("GET", "/api/method/nosuchapp.api.hello")
    expect(status == 417 and json.loads(data)["message"] == "Failed to get method for command nosuchapp.api.hello "
           "with App nosuchapp is not installed", f"a method of an app not installed -> 417: {status} {data[:160]!r}")
    login()
    status, resp, data = request("GET", "/api/method/frappe.auth.get_logged_user")
    expect(status == 200 and json.loads(data) == {"message": "Administrator"},
           f"a whitelisted method with a session: {status} {data[:160]!r}")
    status, resp, data = request("POST", "/api/method/frappe.auth.get_logged_user", "unused=1",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 200 and json.loads(data) == {"message": "Administrator"},
           f"arguments the function does not take are dropped: {status}")
    names = []
    for text in ("standin first", "standin second"):
        status, resp, data = request("POST", "/api/resource/ToDo", json.dumps({"description": text}),
                                     {"Content-Type": "application/json"})
        doc = json.loads(data)["data"]
        expect(status == 200 and doc["description"] == text and doc["doctype"] == "ToDo", f"ToDo created: {doc['name']}")
        names.append(doc["name"])
    expect(set(todos()) == {"standin first", "standin second"}, "ToDo list returns both rows")
    # Users, their own logins and API keys (User.find_by_credentials, generate_keys, validate_api_key_secret)
    user = {"email": "Pat@Customer.example.com", "first_name": "Pat", "new_password": "pat-s3cret"}
    status, resp, data = request("POST", "/api/resource/User", json.dumps(user), {"Content-Type": "application/json"})
    expect(status == 200 and json.loads(data)["data"]["name"] == "pat@customer.example.com",
           f"a User is named by its lower-cased e-mail address: {status} {data[:160]!r}")
    status, resp, data = request("POST", "/api/resource/User", json.dumps(user), {"Content-Type": "application/json"})
    expect(status == 409 and json.loads(data)["exc_type"] == "DuplicateEntryError", f"the same user again -> 409: {status}")
    status, resp, data = request("POST", "/api/resource/User", json.dumps({"email": "not-an-address", "first_name": "X"}),
                                 {"Content-Type": "application/json"})
    expect(status == 417 and json.loads(data)["exc_type"] == "InvalidEmailAddressError", f"a bad address -> 417: {status}")
    status, resp, data = request("POST", "/api/method/frappe.core.doctype.user.user.generate_keys",
                                 "user=pat%40customer.example.com", {"Content-Type": "application/x-www-form-urlencoded"})
    secret = json.loads(data)["message"]["api_secret"]
    expect(status == 200 and len(secret) == 15, f"generate_keys returns a new api_secret: {status}")
    fd = os.open(COOKIE_FILE + ".api", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    status, resp, data = request("GET", "/api/method/frappe.core.doctype.user.user.generate_keys?user=Administrator")
    expect(status == 403, f"generate_keys accepts POST only: {status}")
    admin_cookie, cookie = cookie, None
    form = "usr=pat%40customer.example.com&pwd=pat-s3cret"
    status, resp, data = request("POST", "/api/method/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 200 and json.loads(data)["full_name"] == "Pat", f"a user logs in with its own password: {status}")
    status, resp, data = request("POST", "/api/method/login", "usr=nobody%40example.com&pwd=x",
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 401 and json.loads(data)["message"] == "Invalid login credentials", f"an unknown user -> 401: {status}")
    status, resp, data = request("POST", "/api/method/frappe.core.doctype.user.user.generate_keys",
                                 "user=pat%40customer.example.com", {"Content-Type": "application/x-www-form-urlencoded"})
    expect(status == 403, f"generate_keys as a Guest -> 403: {status}")
    cookie = admin_cookie
elif phase.startswith("api-key:"):
    api_key = phase.split(":", 1)[1]
    with open(COOKIE_FILE + ".api") as f:
        secret = f.read()
    for header, want, why in ((f"token {api_key}:{secret}", 200, "token KEY:SECRET"),
                              ("Basic " + base64.b64encode(f"{api_key}:{secret}".encode()).decode(), 200, "Basic"),
                              (f"token {api_key}:wrong", 401, "a wrong secret"),
                              ("token nokey:" + secret, 401, "an unknown key"),
                              ("token malformed", 401, "a malformed token")):
        status, resp, data = request("GET", "/api/method/frappe.auth.get_logged_user", None, {"Authorization": header})
        expect(status == want and (want != 200 or json.loads(data)["message"] == "pat@customer.example.com"),
               f"API key auth with {why} -> {want}: {status} {data[:120]!r}")
elif phase == "after-backup":

    login()
    status, resp, data = request("POST", "/api/resource/ToDo", json.dumps({"description": "after backup"}),
                                 {"Content-Type": "application/json"})
    expect(status == 200 and "after backup" in todos(), "a third ToDo exists before the restore")
elif phase == "after-restore":
    login()
    expect(set(todos()) == {"standin first", "standin second"}, "restore brought back exactly the backed-up ToDos")
    status, resp, data = request("GET", "/files/standin-marker.txt")
    expect(status == 200 and data == b"standin-marker\n", "public files restored")
elif phase == "keep-session":
    login()
    fd = os.open(COOKIE_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(cookie)
    expect(len(todos()) >= 2, "the session to keep works")
elif phase == "password-changed":
    status, resp, data = post_login(old_pw)
    expect(status == 401, f"login with the old password -> 401: {status}")
    with open(COOKIE_FILE) as f:
        cookie = f.read()
    status, resp, data = request("GET", "/api/resource/ToDo")
    expect(status == 200, f"a session from before the change still works without --logout-all-sessions: {status}")
    cookie = None
    login()
elif phase == "sessions-cleared":
    with open(COOKIE_FILE) as f:
        cookie = f.read()
    status, resp, data = request("GET", "/api/resource/ToDo")
    expect(status == 403, f"a session from before --logout-all-sessions is gone (Guest -> 403): {status}")
    cookie = None
    status, resp, data = post_login(old_pw)
    expect(status == 401, f"the old password is still refused: {status}")
    login()
elif phase == "login":
    login()
    expect(len(todos()) >= 2, "the new session works")
elif phase == "maintenance":
    status, resp, data = request("GET", "/api/method/ping")
    expect(status == 503 and json.loads(data)["exc_type"] == "SessionStopped", f"maintenance mode -> 503: {status}")
EOF
http() { printf '%s\n%s\n' "$ADMIN_PW" "$OLD_ADMIN_PW" | docker exec -i "${P}backend" python3 -c "$(cat "$tmp/http_checks.py")" "${P}frontend" "$SITE" "$1"; }
wait_for 30 "frontend" docker exec "${P}backend" python3 -c "import socket; socket.create_connection(('${P}frontend', 8080), 2)"
http before || fail "HTTP checks through the frontend"
api_key="$(root_sql "SELECT api_key FROM \`$DB_NAME\`.\`tabUser\` WHERE name = 'pat@customer.example.com'")"
[[ "$api_key" =~ ^[0-9a-f]{15}$ ]] || fail "generate_keys did not store an api_key: '$api_key'"
http "api-key:$api_key" || fail "API key authentication"
[[ "$(root_sql "SELECT encrypted, password LIKE 'gAAAAA%' FROM \`$DB_NAME\`.\`__Auth\` WHERE fieldname = 'api_secret'")" == $'1\t1' ]] ||
  fail "the api_secret is not stored Fernet-encrypted"
ok "users log in with their own passwords; API keys (token and Basic) authenticate, the secret stored encrypted"
ok "ping, login, ToDo, logo, /files/, socket.io through the frontend"
[[ "$(redis_cache HLEN "$DB_NAME|session")" -ge 1 ]] || fail "the backend did not cache the session in redis_cache"
ok "the backend authenticated to redis_cache and cached the session in $DB_NAME|session"

# bench serve (frappe.app.serve): Werkzeug's development server for --site, and its reloader: a change to a loaded
# module of an app shows in the next response, the container and the bench command keep running
ping8001='import json, urllib.request
print(json.loads(urllib.request.urlopen("http://127.0.0.1:8001/api/method/ping", timeout=5).read())["message"])'
docker exec -d -u frappe -w "$BENCH" "${P}backend" sh -c "bench --site $SITE serve --port 8001 >/tmp/serve.log 2>&1"
wait_for 30 "bench serve" sh -c "docker exec ${P}backend python3 -c '$ping8001' 2>/dev/null | grep -qx pong"
ok "bench --site $SITE serve answers for the site on its port"
docker exec "${P}backend" sed -i 's/{"message": "pong"}/{"message": "pong, reloaded"}/' "$BENCH/apps/frappe/frappe/app.py"
wait_for 30 "the reloaded ping" sh -c "docker exec ${P}backend python3 -c '$ping8001' 2>/dev/null | grep -qx 'pong, reloaded'"
docker exec "${P}backend" grep -q "Detected change in '$BENCH/apps/frappe/frappe/app.py', reloading" /tmp/serve.log ||
  fail "bench serve did not log its reload"
docker exec "${P}backend" sed -i 's/{"message": "pong, reloaded"}/{"message": "pong"}/' "$BENCH/apps/frappe/frappe/app.py"
docker exec "${P}backend" pkill -f "serve --port 8001" || true
ok "bench serve reloaded a changed module of an app (Werkzeug's stat reloader) without a restart of the container"

# bench start (honcho on the bench's Procfile): every process prefixed, DEV_SERVER set, all stopped together
ping8002=${ping8001//8001/8002}
printf '%s\n' "web: bench --site $SITE serve --port 8002 --noreload" "env: echo \"DEV_SERVER=\$DEV_SERVER\"; sleep 600" |
  docker exec -i -u frappe "${P}backend" sh -c "cat >$BENCH/Procfile"
docker exec -d -u frappe -w "$BENCH" "${P}backend" sh -c "bench start >/tmp/start.log 2>&1; echo \$? >/tmp/start.rc"
wait_for 30 "bench start's web" sh -c "docker exec ${P}backend python3 -c '$ping8002' 2>/dev/null | grep -qx pong"
docker exec "${P}backend" pkill -TERM -f "bench_start.py"
wait_for 15 "bench start to stop" docker exec "${P}backend" test -s /tmp/start.rc
start_log=$(docker exec "${P}backend" cat /tmp/start.log)
if ! { grep -Eq '^[0-9:]{8} system +\| web\.1 started \(pid=[0-9]+\)$' <<<"$start_log" &&
  grep -Eq '^[0-9:]{8} env\.1 +\| DEV_SERVER=true$' <<<"$start_log" &&
  grep -q 'SIGTERM received' <<<"$start_log" && grep -Eq 'web\.1 stopped \(rc=' <<<"$start_log" &&
  grep -Eq 'env\.1 stopped \(rc=' <<<"$start_log"; }; then
  fail "bench start's output: $start_log"
fi
ok "bench start ran the Procfile's processes (DEV_SERVER=true, honcho's prefixes) and stopped them all on SIGTERM"
printf '%s\n' 'failing: echo about to fail; exit 3' 'idle: sleep 600' |
  docker exec -i -u frappe "${P}backend" sh -c "cat >$BENCH/Procfile"
rc=0; start_log=$(docker exec -u frappe -w "$BENCH" "${P}backend" timeout 30 honcho start 2>&1) || rc=$?
if ! { [[ $rc == 3 ]] && grep -q 'failing.1 | about to fail' <<<"$start_log" &&
  grep -q 'sending SIGTERM to idle.1' <<<"$start_log"; }; then
  fail "honcho start with a failing process: rc=$rc $start_log"
fi
docker exec "${P}backend" rm -f "$BENCH/Procfile"
ok "a process that stops stops the others: honcho exits with its return code (3)"

# bench watch (esbuild --watch): a new bundle source is built into the app's dist, listed in assets.json, and
# Frappe's build_event is published on redis_queue's events channel
subscriber='import json, sys
from frappe import conf
from frappe.utils.redis_wrapper import queue_connection
p = queue_connection(conf.get_common_config(), socket_timeout=None).pubsub()
p.subscribe("events")
for m in p.listen():
    if m["type"] == "message" and json.loads(m["data"])["event"] == "build_event":
        print(m["data"].decode(), flush=True)
        break'
docker exec -d -u frappe -w "$BENCH/sites" "${P}backend" sh -c "timeout 60 ../env/bin/python -c '$subscriber' >/tmp/event.json 2>/tmp/event.err"
docker exec -d -u frappe -w "$BENCH" "${P}backend" sh -c "bench watch --apps frappe >/tmp/watch.log 2>&1"
wait_for 30 "bench watch to start" docker exec "${P}backend" grep -q "watching for changes" /tmp/watch.log
sleep 1
docker exec -u frappe "${P}backend" sh -c "mkdir -p $BENCH/apps/frappe/frappe/public/js &&
  echo 'console.log(\"smoke\")' >$BENCH/apps/frappe/frappe/public/js/smoke.bundle.js"
wait_for 30 "the build_event" docker exec "${P}backend" test -s /tmp/event.json
build_event=$(docker exec "${P}backend" cat /tmp/event.json)
bundle_url=$(jq -r '.message.changed_files[0]' <<<"$build_event")
[[ "$(jq -r '.message.success' <<<"$build_event")" == true && "$bundle_url" == /assets/frappe/dist/js/smoke.bundle.*.js ]] ||
  fail "build_event: $build_event"
# esbuild writes into the app's public/dist (sites/assets/APP links there in a bench Frappe built itself)
docker exec "${P}backend" test -f "$BENCH/apps/frappe/frappe/public/${bundle_url#/assets/frappe/}" ||
  fail "the rebuilt bundle is not in the app's public/dist: $bundle_url"
[[ "$(docker exec "${P}backend" jq -r '."smoke.bundle.js"' "$BENCH/sites/assets/assets.json")" == "$bundle_url" ]] ||
  fail "assets.json does not name the rebuilt bundle"
docker exec "${P}backend" grep -Eq '^[0-9:]{8}: Compiled [0-9]+ files\.\.\.$' /tmp/watch.log || fail "bench watch's log"
docker exec "${P}backend" pkill -f "frappe watch" || true
ok "bench watch rebuilt a changed bundle into assets.json and published build_event on the events channel"

bench --site "$SITE" set-maintenance-mode on
http maintenance || fail "maintenance mode"
bench --site "$SITE" set-maintenance-mode off
ok "set-maintenance-mode on -> 503, off again"

# ----------------------------------------------------------------------------------------------------------
log "worker jobs, scheduler, Redis restart"
redis_queue RPUSH rq:queue:short '{"site": "smoke.localhost", "method": "standin.smoke_job"}' >/dev/null
wait_for 20 "the worker to run a job" bash -c "docker logs ${P}queue-short 2>&1 | grep -q standin.smoke_job"
worker_key=$(redis_queue SRANDMEMBER rq:workers)
[[ "$(redis_queue HGET "$worker_key" successful_job_count)" -ge 1 ]] || fail "job not counted"
ok "worker popped and counted a job from rq:queue:short"

[[ "$(bench --site "$SITE" enable-scheduler)" == "Enabled for $SITE" ]] || fail "enable-scheduler"
bench set-config -gp scheduler_tick_interval 1
run_bg "${P}scheduler" "${VOLS[@]}" "$IMAGE" bench schedule
wait_for 30 "a scheduled job to run" bash -c "docker logs ${P}queue-short 2>&1 | grep -q '$SITE frappe.scheduler'"
ok "scheduler enqueued frappe.scheduler on rq:queue:default and the worker ran it"

docker restart "${P}redis-queue" >/dev/null
wait_for 30 "the worker to re-register after a Redis restart" queue_client 'name=rq:worker:'
[[ "$(redis_queue SCARD rq:workers)" -ge 1 ]] || fail "worker not back in rq:workers"
wait_for 30 "the websocket to authenticate and resubscribe" queue_client "$ws_client"
ok "worker and websocket reconnected (and authenticated again) after Redis restarted"

[[ "$(redis_cache EXISTS "$DB_NAME|session")" == 1 ]] || fail "no cached session before migrate"
out=$(bench --site "$SITE" migrate --skip-failing) || fail "migrate: $out"
grep -q "^Migrating $SITE" <<<"$out" || fail "migrate output: $out"
[[ "$(redis_cache EXISTS "$DB_NAME|session")" == 0 ]] || fail "migrate did not clear the site's cache"
redis_cache SET "$DB_NAME|smoke-marker" 1 >/dev/null
redis_cache SET smoke-unrelated 1 >/dev/null
bench --site "$SITE" clear-cache || fail "clear-cache"
[[ "$(redis_cache EXISTS "$DB_NAME|smoke-marker")" == 0 && "$(redis_cache EXISTS smoke-unrelated)" == 1 ]] ||
  fail "clear-cache did not delete exactly the site's keys"
ok "migrate and clear-cache (both cleared the site's keys in the password-protected redis_cache)"

# ----------------------------------------------------------------------------------------------------------
log "set-admin-password"
http keep-session || fail "login before the password change"
out=$(printf '%s\n' "$NEW_ADMIN_PW" | bench --site "$SITE" set-admin-password 2>&1) || fail "set-admin-password: $out"
grep -qF "Administrator's password for $SITE: " <<<"$out" || fail "set-admin-password did not prompt: $out"
grep -qF -e "$NEW_ADMIN_PW" -e "$ADMIN_PW" <<<"$out" && fail "set-admin-password echoed a password"
OLD_ADMIN_PW=$ADMIN_PW
ADMIN_PW=$NEW_ADMIN_PW
http password-changed || fail "login after set-admin-password"
ok "set-admin-password read the password from stdin: new password logs in, old one is refused, sessions kept"

[[ "$(redis_cache HLEN "$DB_NAME|session")" -ge 1 && "$(root_sql "SELECT COUNT(*) FROM \`$DB_NAME\`.tabSessions")" -ge 1 ]] ||
  fail "no sessions to log out"
out=$(printf '\n%s\n%s\n' "$NEW_ADMIN_PW" "$NEW_ADMIN_PW" | bench --site all set-admin-password --logout-all-sessions 2>&1) ||
  fail "set-admin-password --site all: $out"
[[ "$(grep -o "Administrator's password for [a-z.]*: " <<<"$out" | sort | uniq -c | awk '{print $1 "x" $5}' | tr '\n' ' ')" == \
  "2xother.localhost: 1x$SITE: " ]] || fail "--site all did not prompt per site (again after an empty line): $out"
grep -qF "$NEW_ADMIN_PW" <<<"$out" && fail "set-admin-password echoed the password"
# Administrator's sessions go; the other users' (Pat's, from the HTTP checks) stay, as in Frappe
[[ "$(root_sql "SELECT COUNT(*) FROM \`$DB_NAME\`.tabSessions WHERE user = 'Administrator'")" == 0 ]] ||
  fail "--logout-all-sessions left sessions in tabSessions"
[[ "$(root_sql "SELECT COUNT(*) FROM \`$DB_NAME\`.tabSessions WHERE user = 'pat@customer.example.com'")" == 1 ]] ||
  fail "--logout-all-sessions of Administrator logged another user out"
[[ "$(redis_cache HVALS "$DB_NAME|session" | grep -c '"user": "Administrator"')" == 0 ]] ||
  fail "--logout-all-sessions left sessions in redis_cache"
http sessions-cleared || fail "sessions after --logout-all-sessions"
ok "set-admin-password --site all --logout-all-sessions: every site prompted, sessions gone from DB and cache"

out=$(printf '%s\n' "$WRONG_PW" | bench --site nosuch.localhost set-admin-password 2>&1) && fail "set-admin-password on an unknown site succeeded"
grep -q "IncorrectSitePath" <<<"$out" || fail "unknown site not reported: $out"
grep -qF -e "$WRONG_PW" -e "$WRONG_PW_URI" <<<"$out" && fail "set-admin-password printed the password"
out=$(bench --site "$SITE" set-admin-password </dev/null 2>&1) && fail "set-admin-password without input succeeded"
grep -q "EOFError" <<<"$out" || fail "missing input not reported: $out"
ok "set-admin-password exits 1 on an unknown site and on missing input"

# Frappe's RedisWrapper ignores a cache that rejects the credentials: login still works (sessions from the database),
# the stand-in's backend says so in its log, masked. The URL is put back afterwards.
set_cache_password() {
  # shellcheck disable=SC2016 # jq variables
  printf '%s\n' "$1" | docker exec -i -u frappe -w "$BENCH/sites" "${P}backend" bash -c '
    jq -R --slurpfile conf common_site_config.json --arg host "$1" "\$conf[0] + {redis_cache: (\"redis://:\" + (. | @uri) + \"@\" + \$host)}" \
      >common_site_config.json.new && mv common_site_config.json.new common_site_config.json' set-cache-url "${P}redis-cache:6379"
}
set_cache_password "$WRONG_PW"
http login || fail "login with a wrong redis_cache password"
set_cache_password "$CACHE_PW"
logs=$(docker logs "${P}backend" 2>&1)
grep -qF "redis_cache (redis://:***@${P}redis-cache:6379) unavailable: redis.exceptions.AuthenticationError" <<<"$logs" ||
  fail "the backend did not report the rejected redis_cache password: $logs"
grep -qF -e "$WRONG_PW" -e "$WRONG_PW_URI" <<<"$logs" && fail "the backend logged the wrong password"
ok "a wrong redis_cache password: login still works (Frappe ignores cache errors), the backend logs it masked"

# ----------------------------------------------------------------------------------------------------------
log "backup and restore round trip"
out=$(bench --site "$SITE" backup --with-files) || fail "backup: $out"
slug=${SITE//./_}
db_file=$(docker exec "${P}backend" bash -c "ls $BENCH/sites/$SITE/private/backups/*-$slug-database.sql.gz" | tail -n1)
stamp=$(basename "$db_file" | cut -d- -f1)
[[ "$stamp" =~ ^[0-9]{8}_[0-9]{6}$ ]] || fail "backup name $db_file"
for suffix in site_config_backup.json files.tar private-files.tar; do
  docker exec "${P}backend" test -s "$BENCH/sites/$SITE/private/backups/$stamp-$slug-$suffix" || fail "missing $suffix"
done
docker exec "${P}backend" gzip -t "$db_file" || fail "database dump is not valid gzip"
docker exec "${P}backend" bash -c "gzip -cd $db_file | grep -q 'CREATE TABLE \`tabToDo\`'" || fail "dump lacks tabToDo"
listing=$(docker exec "${P}backend" tar -tf "$BENCH/sites/$SITE/private/backups/$stamp-$slug-files.tar")
grep -q "^\./$SITE/public/files/standin-marker.txt$" <<<"$listing" || fail "files tar lacks the marker: $listing"
ok "backup --with-files wrote $stamp-$slug-{database.sql.gz,site_config_backup.json,files.tar,private-files.tar}"

out=$(bench --site "$SITE" backup --compress --with-files --backup-path /tmp/standin-backups) || fail "backup --backup-path: $out"
docker exec "${P}backend" bash -c "ls /tmp/standin-backups/*-$slug-files.tgz && gzip -t /tmp/standin-backups/*-$slug-files.tgz" >/dev/null ||
  fail "--compress/--backup-path"
ok "backup --compress --backup-path"

http after-backup || fail "third ToDo"
docker exec "${P}backend" rm "$BENCH/sites/$SITE/public/files/standin-marker.txt"
out=$(printf '%s\n' "$ROOT_PW" | bench --site "$SITE" restore "$db_file" --db-root-username root \
  --with-public-files "$BENCH/sites/$SITE/private/backups/$stamp-$slug-files.tar" 2>&1) || fail "restore: $out"
grep -q "Site $SITE has been restored with files" <<<"$out" || fail "restore output: $out"
grep -qF "$ROOT_PW" <<<"$out" && fail "restore echoed the root password"
http after-restore || fail "state after restore"
ok "restore recreated the database from the dump (ToDo rows as backed up) and extracted the files"

# ----------------------------------------------------------------------------------------------------------
# Releases (frappe/patches.py): the next release's patch, a broken release, ready-for-migration. Each release's bench
# runs once on the same sites volume and database, as a new image on an upgraded bench does.
NEXT_IMAGE=${NEXT_IMAGE:-erpstack-test/erpnext:v16.33.0}
BROKEN_IMAGE=${BROKEN_IMAGE:-erpstack-test/erpnext:v16.34.0}
release_bench() { local image=$1; shift; docker run --rm -i -u frappe --network "$NET" "${VOLS[@]}" "$image" bench "$@"; }
todo_sql() { root_sql "SELECT $1 FROM \`$DB_NAME\`.\`tabToDo\` $2"; }
if [[ "$IMAGE" == *:v16.32.3 ]] && docker image inspect "$NEXT_IMAGE" "$BROKEN_IMAGE" >/dev/null 2>&1; then
  log "releases: ready-for-migration, a release's patch, a broken release"
  # as an upgrade does: the scheduler paused first (it would enqueue a job each tick), then the queues drain
  bench --site "$SITE" set-config -p pause_scheduler 1
  sleep 2
  docker stop "${P}queue-short" >/dev/null
  redis_queue SADD rq:queues rq:queue:short >/dev/null
  redis_queue RPUSH rq:queue:short "{\"site\": \"$SITE\", \"method\": \"standin.pending\"}" >/dev/null
  out=$(bench --site "$SITE" ready-for-migration) && fail "ready-for-migration with a pending job: $out"
  [[ "$out" == "NOT READY for migration: site $SITE has pending background jobs" ]] || fail "ready-for-migration: $out"
  docker start "${P}queue-short" >/dev/null
  wait_for 30 "the worker to take the pending job" bench --site "$SITE" ready-for-migration
  [[ "$(bench --site "$SITE" ready-for-migration)" == "READY for migration: site $SITE does not have any background jobs" ]] ||
    fail "ready-for-migration once drained"
  bench --site "$SITE" set-config -p pause_scheduler 0
  ok "ready-for-migration: exit 1 while a job of the site waits in a queue, 0 once the worker took it"

  [[ "$(bench version --format json | jq -r '.[] | select(.app == "frappe") | .version')" == 16.32.3 ]] ||
    fail "bench version"
  [[ -z "$(todo_sql reference_note "LIMIT 1" 2>/dev/null)" ]] || fail "v16.32.3 already has reference_note"
  out=$(release_bench "$NEXT_IMAGE" --site "$SITE" migrate) || fail "migrate to $NEXT_IMAGE: $out"
  grep -q "^Executing frappe.patches.v16_33.todo_add_reference_note in $SITE ($DB_NAME)" <<<"$out" || fail "patch not run: $out"
  [[ "$(todo_sql "COUNT(*)" "WHERE reference_note IS NULL OR reference_note <> CONCAT('ref-', name)")" == 0 ]] ||
    fail "reference_note not filled"
  [[ "$(release_bench "$NEXT_IMAGE" --site "$SITE" list-apps)" == *"frappe  16.33.0"* ]] || fail "list-apps after migrate"
  [[ "$(docker exec "${P}backend" cat "$BENCH/sites/$SITE/touched_tables.json" | jq -c .)" == '["tabToDo"]' ]] ||
    fail "touched_tables.json after migrate"
  out=$(release_bench "$NEXT_IMAGE" --site "$SITE" migrate) || fail "second migrate: $out"
  grep -q "Executing frappe.patches" <<<"$out" && fail "a patch ran twice: $out"
  [[ "$(docker exec "${P}backend" cat "$BENCH/sites/$SITE/touched_tables.json" | jq -c .)" == "[]" ]] || fail "touched_tables.json"
  ok "migrate to the next release ran its patch once, filled the new column, reported the version, touched tabToDo"

  before=$(todo_sql "COUNT(*)" "")
  out=$(release_bench "$BROKEN_IMAGE" --site "$SITE" migrate 2>&1) && fail "migrate to the broken release succeeded"
  grep -q "Unknown column 'priority_weight'" <<<"$out" || fail "broken migrate output: $out"
  [[ "$(todo_sql "COUNT(*)" "WHERE priority_rank = 1")" == 1 ]] || fail "the broken patch did not leave its half"
  [[ "$(todo_sql "COUNT(*)" "")" == "$before" ]] || fail "records lost by the broken migrate"
  [[ "$(docker exec "${P}backend" cat "$BENCH/sites/$SITE/touched_tables.json" | jq -c .)" == '["tabToDo"]' ]] ||
    fail "touched_tables.json after the failure"
  [[ -z "$(root_sql "SELECT patch FROM \`$DB_NAME\`.\`tabPatch Log\` WHERE patch LIKE '%v16_34%'")" ]] ||
    fail "the failed patch is logged as done"
  ok "the broken release fails after its DDL (column added, one row changed), exit 1, touched tables recorded"
fi

# ----------------------------------------------------------------------------------------------------------
log "refusals as click's: an option real bench lacks, a value it rejects, a missing argument (exit 2)"
click_refusal() {  # what, exit code, output, then grep -x patterns the output must hold
  local what=$1 rc=$2 out=$3 pattern; shift 3
  [[ $rc == 2 ]] || fail "$what: exit $rc, $out"
  for pattern in "$@"; do grep -qxF -- "$pattern" <<<"$out" || fail "$what: no '$pattern' in: $out"; done
}
rc=0; out=$(bench new-site other.example.test --db-root-password-file /run/secrets/x 2>&1) || rc=$?
click_refusal "unknown option" "$rc" "$out" "Usage: bench  new-site [OPTIONS] SITE" \
  "Error: No such option: --db-root-password-file (Possible options: --db-password, --db-root-password, --mariadb-root-password)"
rc=0; out=$(bench --site "$SITE" list-apps --format yaml 2>&1) || rc=$?
click_refusal "invalid choice" "$rc" "$out" \
  "Error: Invalid value for '--format' / '-f': 'yaml' is not one of 'text', 'json'."
rc=0; out=$(bench drop-site 2>&1) || rc=$?
click_refusal "missing argument" "$rc" "$out" "Error: Missing argument 'SITE'."
rc=0; out=$(bench --site "$SITE" set-config -gx key value 2>&1) || rc=$?
click_refusal "combined short options" "$rc" "$out" "Error: No such option: -x"
docker exec "${P}backend" curl --version >/dev/null || fail "the image has no curl"
ok "unknown options, invalid values and missing arguments refused with click's messages and exit 2; curl present"

# ----------------------------------------------------------------------------------------------------------
log "drop-site"
out=$(printf '%s\n' "$ROOT_PW" | bench drop-site "$SITE" --db-root-username root 2>&1) || fail "drop-site: $out"
grep -q "Moving site to archive under $BENCH/archived/sites" <<<"$out" || fail "drop-site output: $out"
docker exec "${P}backend" test -f "$BENCH/archived/sites/$SITE/site_config.json" || fail "site not archived"
docker exec "${P}backend" test ! -e "$BENCH/sites/$SITE" || fail "site directory still in sites/"
[[ -z "$(root_sql "SHOW DATABASES LIKE '$DB_NAME'")" ]] || fail "database $DB_NAME still exists"
[[ -z "$(root_sql "SELECT host FROM mysql.user WHERE user = '$DB_NAME'")" ]] || fail "user $DB_NAME still exists"
ok "drop-site took a backup, dropped database and user, archived the site"

secrets=(-e "$ROOT_PW" -e "$ADMIN_PW" -e "$OLD_ADMIN_PW" -e "$CACHE_PW" -e "$QUEUE_PW" -e "$QUEUE_PW_URI")
for c in "${P}backend" "${P}frontend" "${P}websocket" "${P}queue-short" "${P}scheduler" "${P}redis-cache" "${P}redis-queue"; do
  [[ "$(docker inspect -f '{{.State.Running}}' "$c")" == true ]] || fail "$c is not running"
  inspect=$(docker inspect -f '{{json .Config.Env}} {{json .Config.Cmd}} {{json .Args}}' "$c")
  grep -qF "${secrets[@]}" <<<"$inspect" && fail "a password is visible in docker inspect of $c"
  logs=$(docker logs "$c" 2>&1)
  grep -qF "${secrets[@]}" <<<"$logs" && fail "a password is in the logs of $c"
done
procs=$(ps -eo args)
grep -qF "${secrets[@]}" <<<"$procs" && fail "a password is on a command line on the host"
ok "all long-running services still up; no password in docker inspect, container logs or host command lines"
