#!/usr/bin/env bash
# A PostgreSQL scale-out topology on one machine, for tests/it/topology.rs
# and benches/scaleout.rs: a primary (initdb) and a `pg_basebackup -R`
# hot standby on their own ports and data directories, with
# pg_stat_statements on both, and PgBouncer in transaction pooling mode in
# front of the primary. Everything lives under DIR; `stop` ends it all.
#
#   topology.sh start DIR PRIMARY_PORT STANDBY_PORT BOUNCER_PORT
#   topology.sh stop-standby DIR | start-standby DIR
#   topology.sh restart-bouncer DIR
#   topology.sh stop DIR          (also removes DIR)
#
# initdb, postgres and pgbouncer refuse to run as root: as root, they run
# as the `postgres` OS user, which owns DIR.
set -euo pipefail

BIN="${ACCORD_PG_BIN:-/usr/lib/postgresql/15/bin}"
command="$1"
dir="$2"

as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ctl_() { as_postgres "$BIN/pg_ctl" "$@"; }

start_bouncer() {
  as_postgres pgbouncer -d -q "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do
    [[ -s "$dir/pgbouncer.pid" ]] && return 0
    sleep 0.1
  done
  echo "pgbouncer did not start; its log:" >&2
  cat "$dir/pgbouncer.log" >&2 || true
  return 1
}

stop_bouncer() {
  if [[ -s "$dir/pgbouncer.pid" ]]; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [[ -e "$dir/pgbouncer.pid" ]] || return 0
      sleep 0.1
    done
  fi
}

case "$command" in
  start)
    primary_port="$3" standby_port="$4" bouncer_port="$5"
    mkdir -p "$dir"
    [[ "$(id -u)" == 0 ]] && chown postgres "$dir"
    as_postgres "$BIN/initdb" --no-sync -D "$dir/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    cat >>"$dir/primary/postgresql.conf" <<CONF
port = $primary_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
wal_level = replica
max_wal_senders = 5
hot_standby = on
hot_standby_feedback = on
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    pg_ctl_ -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
    as_postgres "$BIN/psql" -h 127.0.0.1 -p "$primary_port" -U postgres -d postgres -qAt \
      -c 'CREATE DATABASE accord' >/dev/null
    as_postgres "$BIN/psql" -h 127.0.0.1 -p "$primary_port" -U postgres -d accord -qAt \
      -c 'CREATE EXTENSION pg_stat_statements' >/dev/null
    as_postgres "$BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/standby" -R -X stream -c fast --no-sync
    echo "port = $standby_port" >>"$dir/standby/postgresql.auto.conf"
    pg_ctl_ -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
    echo '"postgres" ""' >"$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<CONF
[databases]
accord = host=127.0.0.1 port=$primary_port dbname=accord

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 10
max_client_conn = 200
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
CONF
    chown postgres "$dir/userlist.txt" "$dir/pgbouncer.ini" 2>/dev/null || true
    start_bouncer
    ;;
  stop-standby)
    pg_ctl_ -D "$dir/standby" -m fast -w stop >/dev/null
    ;;
  start-standby)
    pg_ctl_ -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
    ;;
  restart-bouncer)
    stop_bouncer
    start_bouncer
    ;;
  stop)
    stop_bouncer
    for server in standby primary; do
      if [[ -f "$dir/$server/postmaster.pid" ]]; then
        pg_ctl_ -D "$dir/$server" -m immediate -w stop >/dev/null 2>&1 || true
      fi
    done
    rm -rf "$dir"
    ;;
  *)
    echo "unknown command $command" >&2
    exit 2
    ;;
esac
