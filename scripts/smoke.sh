#!/usr/bin/env bash
# Smoke run of the embedded defaults: SQLite + Celery filesystem broker + simulator engine, all state in a
# fresh temp dir. Starts web, worker, beat and the ingest watcher, places one market order through the API and waits for FILLED.
# Ends with "smoke: 1 passed, 0 failed" or "smoke: 0 passed, 1 failed" (exit 1).
# SMOKE_KEEP=1 keeps the temp dir after a pass (it is always kept after a failure).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=$(command -v python3); fi
FILL_TIMEOUT=${SMOKE_FILL_TIMEOUT:-60}
START_TIMEOUT=${SMOKE_START_TIMEOUT:-60}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tradedesk-smoke.XXXXXX")
export TRADEDESK_VAR_DIR=$tmp
export TRADEDESK_SIM_IDLE_TIMEOUT=30
unset DATABASE_URL CELERY_BROKER_URL TRADEDESK_EXECUTION_ROOT
export PYTHONUNBUFFERED=1

pids=()
passed=0

# start NAME COMMAND...: run in the background in its own session/process group, output to $tmp/NAME.log.
start() {
    local name=$1
    shift
    setsid "$@" >"$tmp/$name.log" 2>&1 </dev/null &
    pids+=("$!")
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# engine_pids: pids recorded in $tmp/execution/engines/*/engine.pid, either plain ("123") or JSON
# ({"pid": 123, "supervisor": 122, ...}: both the engine and its supervisor). Only live processes whose
# command line or working directory lies in $tmp are listed, so a recycled pid is never touched.
engine_pids() {
    local f
    for f in "$tmp"/execution/engines/*/engine.pid; do
        [ -f "$f" ] || continue
        "$PY" - "$f" "$tmp" <<'PYEOF' 2>/dev/null || true
import json, os, sys
root = os.path.realpath(sys.argv[2])
text = open(sys.argv[1], encoding="utf-8").read().strip()
try:
    data = json.loads(text)
except ValueError:
    data = None
if isinstance(data, int):
    pids = [data]
elif isinstance(data, dict):
    pids = [data.get("pid"), data.get("supervisor")]
else:
    pids = [int(text)] if text.isdigit() else []
for pid in pids:
    if not isinstance(pid, int) or pid <= 1:
        continue
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().decode("utf-8", "replace")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        continue
    if root in cmdline or cwd == root or cwd.startswith(root + os.sep):
        print(pid)
PYEOF
    done
    return 0
}

# stop_all: TERM the process groups we started and any engine, wait up to 10 s, then KILL what is left.
stop_all() {
    local pid i left
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $(engine_pids); do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for i in $(seq 1 40); do
        left=0
        for pid in "${pids[@]}" $(engine_pids); do
            alive "$pid" && left=1
        done
        [ "$left" -eq 0 ] && break
        sleep 0.25
    done
    # Late-starting engines included: the worker may have spawned one while shutting down.
    for pid in "${pids[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    for pid in $(engine_pids); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    [ "${#pids[@]}" -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
}

show_logs() {
    local f
    for f in "$tmp"/*.log "$tmp"/execution/engines/*/*.log; do
        [ -f "$f" ] || continue
        echo "----- tail of ${f#"$tmp"/} -----"
        tail -n 40 "$f"
    done
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [ "$passed" -eq 1 ] && [ "$rc" -eq 0 ]; then
        if [ "${SMOKE_KEEP:-0}" = "1" ]; then echo "smoke: state kept in $tmp"; else rm -rf "$tmp"; fi
        echo "smoke: 1 passed, 0 failed"
        exit 0
    fi
    show_logs
    echo "smoke: state kept in $tmp"
    echo "smoke: 0 passed, 1 failed"
    exit 1
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    echo "smoke: FAIL: $*" >&2
    exit 1
}

# json_field FIELD < json: print one top-level field of a JSON object ("" when absent or not JSON).
json_field() {
    "$PY" -c '
import json, sys
try:
    value = json.load(sys.stdin).get(sys.argv[1], "")
except Exception:
    value = ""
print("" if value is None else value)
' "$1"
}

echo "smoke: state in $tmp"
"$PY" manage.py migrate --noinput >"$tmp/migrate.log" 2>&1 || fail "migrate failed"
"$PY" manage.py seed_demo >"$tmp/seed_demo.out" 2>"$tmp/seed_demo.log" || {
    cat "$tmp/seed_demo.out" >>"$tmp/seed_demo.log"
    fail "seed_demo failed"
}
token=$(awk '{ for (i = 1; i <= NF; i++) w = $i } END { print w }' "$tmp/seed_demo.out")
[ -n "$token" ] || fail "seed_demo printed no token"

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

start web "$PY" manage.py runserver "127.0.0.1:$port" --noreload
start worker "$PY" -m celery -A tradedesk worker -l info --pool threads --concurrency 4 --hostname "smoke-$$@%h"
start beat "$PY" -m celery -A tradedesk beat -l info --schedule "$tmp/celerybeat-schedule"
start ingest "$PY" manage.py ingest_watch

deadline=$((SECONDS + START_TIMEOUT))
until curl -s -o /dev/null --max-time 2 "$base/"; do
    alive "${pids[0]}" || fail "web server exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "web server not answering on port $port after ${START_TIMEOUT}s"
    sleep 0.25
done
alive "${pids[1]}" || fail "celery worker exited"
alive "${pids[2]}" || fail "celery beat exited"
alive "${pids[3]}" || fail "ingest watcher exited"

code=$(curl -sS -o "$tmp/create.json" -w '%{http_code}' --max-time 30 \
    -X POST "$base/api/trade/orders" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"symbol":"AAPL","side":"BUY","quantity":1,"order_type":"MKT"}') || fail "POST /api/trade/orders failed"
if [ "$code" != "201" ]; then
    cat "$tmp/create.json" >&2 || true
    echo >&2
    fail "POST /api/trade/orders answered $code, expected 201"
fi
order_id=$(json_field id <"$tmp/create.json")
[ -n "$order_id" ] || fail "no id in $(cat "$tmp/create.json")"
echo "smoke: placed order $order_id"

status=""
deadline=$((SECONDS + FILL_TIMEOUT))
while :; do
    code=$(curl -sS -o "$tmp/order.json" -w '%{http_code}' --max-time 10 \
        -H "Authorization: Bearer $token" "$base/api/trade/orders/$order_id") || code=000
    if [ "$code" = "200" ]; then
        status=$(json_field status <"$tmp/order.json")
        case "$status" in
            FILLED) break ;;
            REJECTED | CANCELED | CANCELLED | FAILED | ERROR | INVALID | EXPIRED)
                cat "$tmp/order.json" >&2
                echo >&2
                fail "order $order_id ended $status"
                ;;
        esac
    fi
    alive "${pids[1]}" || fail "celery worker exited while order $order_id was $status"
    alive "${pids[2]}" || fail "celery beat exited while order $order_id was $status"
    [ "$SECONDS" -lt "$deadline" ] || {
        cat "$tmp/order.json" >&2 2>/dev/null || true
        echo >&2
        fail "order $order_id not FILLED after ${FILL_TIMEOUT}s (last HTTP $code, status '${status}')"
    }
    sleep 0.5
done

"$PY" -m json.tool <"$tmp/order.json"
passed=1
