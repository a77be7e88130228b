#!/usr/bin/env bash
# A private PostgreSQL server for UniRank team projects on this machine: the tests' server, or a
# local team server to try things out. Uses Debian's postgresql package (scripts/install-deps.sh).
#
#   scripts/pg-server.sh start DIR [PORT]   initdb (once), start on 127.0.0.1:PORT (default: the port it
#                                           had before, else a free one), write the admin URL to DIR/url
#                                           and print it
#   scripts/pg-server.sh stop DIR           stop it (fast shutdown); the data stays
#   scripts/pg-server.sh destroy DIR        stop it and remove DIR and the data
#
# The cluster's data lives in DIR/data. As root (CI containers) the server runs as the user 'nobody'
# (PostgreSQL refuses to run as root), so the data then lives in a folder of its own under
# ${TMPDIR:-/tmp}, where 'nobody' can reach it even when DIR is inside a private home folder; the path
# is kept in DIR/datadir either way.
#
# The server listens on the loopback address only and trusts local connections (any role name, no
# password): it is for tests and for one workstation. A real team server is set up as the README says.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; }
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { usage; exit 2; }

bindir="$(pg_config --bindir 2>/dev/null || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
fi
[ -x "$bindir/initdb" ] || { echo "pg-server: PostgreSQL's initdb not found (apt-get install postgresql)" >&2; exit 1; }

as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi

free_port() {
  python3 - <<'PY' 2>/dev/null || echo 55432
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/datadir" ] && [ -f "$(cat "$dir/datadir")/PG_VERSION" ]; then
      data="$(cat "$dir/datadir")"
    else
      if [ ${#as_owner[@]} -eq 0 ]; then
        data="$dir/data"
      else
        cluster="$(mktemp -d "${TMPDIR:-/tmp}/unirank-pg.XXXXXX")"
        chmod 755 "$cluster"
        data="$cluster/data"
        echo "pg-server: running as root, so the server runs as 'nobody' and its data lives in $data" \
             "(a temporary folder the system may clear; keep real work on a server set up as the README says)" >&2
      fi
      echo "$data" >"$dir/datadir"
      mkdir -p "$data"
      [ ${#as_owner[@]} -eq 0 ] || chown nobody:nogroup "$data"
      chmod 700 "$data"
      "${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      cat "$dir/url"; exit 0
    fi
    # The port given, else the one this server had before (its URL stays valid), else a free one.
    port="${3:-}"
    if [ -z "$port" ] && [ -f "$dir/url" ]; then port="$(sed -n 's|.*@127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/url")"; fi
    [ -n "$port" ] || port="$(free_port)"
    # The Unix socket goes to a short path (a socket path is limited to 107 bytes); clients use TCP.
    sockets="$data"; [ ${#as_owner[@]} -ne 0 ] || sockets="${TMPDIR:-/tmp}"
    # fsync stays on: the kill tests count on a COMMIT being durable, as on a real server.
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $sockets -c max_connections=200" start >/dev/null \
      || { cat "$data/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
    cat "$dir/url"
    ;;
  stop|destroy)
    data="$(cat "$dir/datadir" 2>/dev/null || true)"
    if [ -n "$data" ] && [ -f "$data/PG_VERSION" ]; then
      "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ "$cmd" = destroy ]; then
      case "$data" in
        "$dir"/*|"") ;;                       # inside DIR: removed with it
        *) rm -rf "$(dirname "$data")" ;;     # the root case's folder under TMPDIR
      esac
      rm -rf "$dir"
    fi
    ;;
  *) usage; exit 2 ;;
esac
