#!/usr/bin/env bash
# Make the services the tests need answer locally (idempotent; run as root):
#   PostgreSQL on 127.0.0.1:5432 (role postgres/postgres, database tradedesk),
#   Redis on 127.0.0.1:6379, Debian's chromium at /usr/bin/chromium.
# With --bench, also wrk (bench/load.py's HTTP load generator: a Python client would share the two cores
# with the server under test and compress every ratio).
# Prints one line per service saying what it found or did.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PG_HOST=127.0.0.1
PG_PORT=5432
PG_DB=tradedesk
REDIS_HOST=127.0.0.1
REDIS_PORT=${ENSURE_SERVICES_REDIS_PORT:-6379}  # overridable only to test the start path
WAIT_SECONDS=${ENSURE_SERVICES_WAIT:-60}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND every 0.5 s for up to WAIT_SECONDS.
wait_for() {
    local what=$1 deadline=$((SECONDS + WAIT_SECONDS))
    shift
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "ensure-services: $what not ready after ${WAIT_SECONDS}s" >&2
            return 1
        fi
        sleep 0.5
    done
}

as_postgres() {
    if command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }

# --- PostgreSQL -----------------------------------------------------------------------------------------
pg_note="already answering"
if ! { command -v pg_isready >/dev/null 2>&1 && pg_ready; }; then
    pg_note=""
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls -A /etc/postgresql 2>/dev/null)" ]; then
        apt_install postgresql
        pg_note="installed postgresql; "
    fi
    pg_version=$(ls /etc/postgresql | sort -V | head -1)
    # "already running" exits non-zero; readiness below is what counts.
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
    wait_for "PostgreSQL on $PG_HOST:$PG_PORT" pg_ready
    pg_note="${pg_note}started cluster $pg_version/main"
fi
# Role password and database, over the local socket as the postgres OS user (peer auth on Debian).
as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER ROLE postgres WITH PASSWORD 'postgres'" >/dev/null
if [ "$(as_postgres psql -X -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" = "1" ]; then
    db_note="database $PG_DB exists"
else
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PG_DB OWNER postgres" >/dev/null
    db_note="created database $PG_DB"
fi
echo "postgresql: $pg_note on $PG_HOST:$PG_PORT; password of role postgres set; $db_note"

# --- Redis ----------------------------------------------------------------------------------------------
redis_ready() { [ "$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

redis_note="already answering"
if ! { command -v redis-cli >/dev/null 2>&1 && redis_ready; }; then
    redis_note=""
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        apt_install redis-server
        redis_note="installed redis-server; "
    fi
    mkdir -p /var/lib/redis /var/log/redis
    # The Debian package may have started its own server by now.
    if ! redis_ready; then
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log
        redis_note="${redis_note}started redis-server"
    fi
    wait_for "Redis on $REDIS_HOST:$REDIS_PORT" redis_ready
fi
echo "redis: $redis_note on $REDIS_HOST:$REDIS_PORT"

# --- Chromium -------------------------------------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then
    chromium_note="present"
else
    apt_install chromium
    chromium_note="installed"
fi
echo "chromium: $chromium_note at /usr/bin/chromium"

# A CJK font, so the page's Simplified Chinese labels render in screenshots (5 MB).
if fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "cjk font: present"
else
    apt_install fonts-wqy-microhei
    echo "cjk font: installed fonts-wqy-microhei"
fi

if [ "${1:-}" = "--bench" ]; then
    if command -v wrk >/dev/null 2>&1; then
        echo "wrk: present"
    else
        apt_install wrk
        echo "wrk: installed"
    fi
fi
