#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests and benchmarks.
#
# Sourced (the normal use):
#     source scripts/pg.sh
#     pg_start            # starts a cluster, exports KPIBOT_TEST_DATABASE_URL,
#                         # and installs an EXIT trap that stops it and deletes it
#     ...                 # run things against "$KPIBOT_TEST_DATABASE_URL"
#
# Executed:
#     bash scripts/pg.sh -- CMD [ARGS...]   # run CMD with a throwaway cluster, return its status
#     bash scripts/pg.sh                    # start a cluster, print the URL, wait for Ctrl-C
#
# Functions:
#     pg_find_bindir  print the directory holding initdb/pg_ctl/postgres (status 1 if none)
#     pg_start        start the cluster (status 1 if no server binaries / start failed)
#     pg_stop         stop the cluster and delete its directory (idempotent; the trap calls it)
#
# Exported by pg_start:
#     KPIBOT_TEST_DATABASE_URL  postgresql+psycopg://kpibot@127.0.0.1:<port>/kpibot_test
#     KPIBOT_PG_PORT            the TCP port (loopback only)
#     KPIBOT_PG_DIR             the temp directory (data in ./data, socket in ./sock, log in ./log)
#     KPIBOT_PG_BINDIR          the server binaries used
#
# Overrides: KPIBOT_PG_BINDIR (binaries to use), KPIBOT_PG_USER (unprivileged user when root).
# The cluster trusts every local connection and runs with fsync off: it is for tests only.

_pg_log() { printf 'pg.sh: %s\n' "$*" >&2; }

_pg_bindir_ok() {
    [ -n "${1:-}" ] && [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]
}

pg_find_bindir() {
    local d exe
    if [ -n "${KPIBOT_PG_BINDIR:-}" ]; then
        if _pg_bindir_ok "$KPIBOT_PG_BINDIR"; then
            printf '%s\n' "$KPIBOT_PG_BINDIR"
            return 0
        fi
        _pg_log "KPIBOT_PG_BINDIR=$KPIBOT_PG_BINDIR has no initdb/pg_ctl/postgres; searching"
    fi
    # 1. PATH (resolve symlinks such as /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb)
    for exe in initdb pg_ctl; do
        if d=$(command -v "$exe" 2>/dev/null) && [ -n "$d" ]; then
            d=$(dirname "$(readlink -f "$d" 2>/dev/null || printf '%s' "$d")")
            if _pg_bindir_ok "$d"; then
                printf '%s\n' "$d"
                return 0
            fi
        fi
    done
    # 2. Debian/Ubuntu layout, highest version first
    d=$(
        for x in /usr/lib/postgresql/*/bin; do
            _pg_bindir_ok "$x" && printf '%s\n' "$x"
        done | sort -t/ -k5,5 -V -r | head -n 1
    )
    if [ -n "$d" ]; then
        printf '%s\n' "$d"
        return 0
    fi
    return 1
}

# Run a command as the cluster owner (root cannot run initdb/postgres).
_pg_as() {
    if [ -z "${_PG_RUN_USER:-}" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$_PG_RUN_USER" -- "$@"
    elif command -v setpriv >/dev/null 2>&1; then
        setpriv --reuid="$_PG_RUN_USER" --regid="$(id -g "$_PG_RUN_USER")" --init-groups -- "$@"
    else
        local q
        q=$(printf '%q ' "$@")
        su -s /bin/sh "$_PG_RUN_USER" -c "$q"
    fi
}

# When root: choose an unprivileged user that can run the binaries and write into $1.
_pg_pick_user() {
    local dir=$1 bindir=$2 u
    local candidates=()
    if [ -n "${KPIBOT_PG_USER:-}" ]; then candidates+=("$KPIBOT_PG_USER"); fi
    candidates+=(postgres nobody kpibot-test)
    for u in "${candidates[@]}"; do
        if ! id -u "$u" >/dev/null 2>&1; then
            if [ "$u" = kpibot-test ] && command -v useradd >/dev/null 2>&1; then
                useradd --system --no-create-home --home-dir /nonexistent \
                    --shell /usr/sbin/nologin kpibot-test >/dev/null 2>&1 || true
            fi
            id -u "$u" >/dev/null 2>&1 || continue
        fi
        [ "$(id -u "$u")" = 0 ] && continue
        chown "$u:$(id -g "$u")" "$dir" || continue
        if _PG_RUN_USER=$u _pg_as test -w "$dir" -a -x "$bindir/initdb" -a -x "$bindir/postgres" \
            2>/dev/null; then
            printf '%s\n' "$u"
            return 0
        fi
        chown root: "$dir" 2>/dev/null || true
    done
    return 1
}

_pg_free_port() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
            return
        fi
    done
    # no python: pick a random high port and hope
    printf '%s\n' $((20000 + RANDOM % 30000))
}

pg_stop() {
    local dir=${_PG_DIR:-}
    [ -n "$dir" ] || return 0
    _PG_DIR=
    if [ -f "$dir/data/postmaster.pid" ]; then
        (cd "$dir" && _pg_as "$_PG_BINDIR/pg_ctl" stop -D "$dir/data" -m immediate -s -w -t 30) \
            >/dev/null 2>&1 || _pg_log "warning: pg_ctl stop failed (cluster in $dir)"
    fi
    rm -rf -- "$dir"
    return 0
}

_pg_on_exit() {
    local rc=$?
    pg_stop
    if [ -n "${_PG_PREV_EXIT_TRAP:-}" ]; then
        eval "$_PG_PREV_EXIT_TRAP"
    fi
    exit "$rc"
}

pg_start() {
    if [ -n "${_PG_DIR:-}" ]; then
        _pg_log "already running on port ${KPIBOT_PG_PORT:-?}"
        return 0
    fi
    local bindir dir port attempt started=0
    if ! bindir=$(pg_find_bindir); then
        _pg_log "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found"
        return 1
    fi
    _PG_BINDIR=$bindir
    _PG_RUN_USER=
    # /tmp rather than $TMPDIR: the unprivileged owner must reach it, and the unix socket
    # path (<dir>/sock/.s.PGSQL.<port>) must stay under ~100 characters.
    dir=$(mktemp -d /tmp/kpibot-pg.XXXXXX) || return 1
    chmod 0755 "$dir"

    # Install the cleanup trap before anything can leave a server behind.  An existing EXIT
    # trap (of the script sourcing us) still runs, after ours.
    _PG_DIR=$dir
    if [ -z "${_PG_TRAP_SET:-}" ]; then
        local prev
        prev=$(trap -p EXIT)
        _PG_PREV_EXIT_TRAP=
        if [ -n "$prev" ]; then
            eval "set -- $prev" # -> trap -- 'COMMAND' EXIT
            [ "${3:-}" != _pg_on_exit ] && _PG_PREV_EXIT_TRAP=${3:-}
        fi
        trap _pg_on_exit EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
        _PG_TRAP_SET=1
    fi

    if [ "$(id -u)" = 0 ]; then
        if ! _PG_RUN_USER=$(_pg_pick_user "$dir" "$bindir"); then
            _pg_log "running as root and found no unprivileged user able to run $bindir/initdb"
            pg_stop
            return 1
        fi
        _pg_log "root: running the throwaway cluster as user '$_PG_RUN_USER'"
    fi

    if ! (cd "$dir" && _pg_as "$bindir/initdb" -D "$dir/data" -A trust -U kpibot \
        --no-locale -E UTF8 --no-sync) >"$dir/initdb.log" 2>&1; then
        _pg_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        pg_stop
        return 1
    fi
    (cd "$dir" && _pg_as mkdir -m 0700 "$dir/sock")

    for attempt in 1 2 3 4 5; do
        port=$(_pg_free_port)
        if (cd "$dir" && _pg_as "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 60 -s \
            -o "-F -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1 -k $dir/sock") \
            >/dev/null 2>&1; then
            started=1
            break
        fi
        _pg_log "start on port $port failed (attempt $attempt)"
    done
    if [ "$started" != 1 ]; then
        _pg_log "could not start PostgreSQL; server log:"
        tail -n 30 "$dir/log" >&2 2>/dev/null || true
        pg_stop
        return 1
    fi

    local isready=pg_isready
    [ -x "$bindir/pg_isready" ] && isready=$bindir/pg_isready
    local i
    for i in $(seq 1 100); do
        if "$isready" -q -h 127.0.0.1 -p "$port" -U kpibot -d postgres 2>/dev/null; then
            break
        fi
        if [ "$i" = 100 ]; then
            _pg_log "server on port $port never became ready; log:"
            tail -n 30 "$dir/log" >&2 || true
            pg_stop
            return 1
        fi
        sleep 0.1
    done

    local createdb=createdb
    [ -x "$bindir/createdb" ] && createdb=$bindir/createdb
    if ! "$createdb" -h 127.0.0.1 -p "$port" -U kpibot kpibot_test; then
        _pg_log "createdb kpibot_test failed"
        pg_stop
        return 1
    fi

    export KPIBOT_PG_PORT=$port
    export KPIBOT_PG_DIR=$dir
    export KPIBOT_PG_BINDIR=$bindir
    export KPIBOT_TEST_DATABASE_URL="postgresql+psycopg://kpibot@127.0.0.1:$port/kpibot_test"
    local version
    version=$("$bindir/postgres" --version 2>/dev/null || echo postgres)
    _pg_log "throwaway $version on 127.0.0.1:$port (data in $dir)"
    return 0
}

# Executed directly rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    pg_start || exit 1
    if [ "${1:-}" = "--" ]; then shift; fi
    if [ $# -gt 0 ]; then
        set +e
        "$@"
        rc=$?
        set -e
        exit "$rc"
    fi
    printf 'export KPIBOT_TEST_DATABASE_URL=%q\n' "$KPIBOT_TEST_DATABASE_URL"
    _pg_log "Ctrl-C to stop and delete the cluster"
    while :; do
        sleep 3600 &
        wait $! || true # `wait` returns at once on a signal, so the traps run promptly
    done
fi
