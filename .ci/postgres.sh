#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 cluster for the server's store
# tests: initdb into a temporary directory, listening only on a Unix
# socket in it (no port to collide with), trust auth, one database.
#
#   eval "$(.ci/postgres.sh start)"   # exports CHAINVET_TEST_POSTGRES and CHAINVET_PG_DIR
#   go test ./internal/server/...
#   .ci/postgres.sh stop               # stops the cluster and deletes CHAINVET_PG_DIR
#
# As root (initdb refuses root) the cluster runs as the postgres user.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || bin=$(dirname "$(command -v pg_ctl)")

as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
	dir=$(mktemp -d /tmp/chainvet-pg.XXXXXX)
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=200" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
	as_owner "$bin/createdb" -h "$dir" -U postgres chainvet
	echo "export CHAINVET_PG_DIR='$dir'"
	echo "export CHAINVET_TEST_POSTGRES='postgres://postgres@/chainvet?host=$dir&sslmode=disable'"
	;;
stop)
	dir=${CHAINVET_PG_DIR:?CHAINVET_PG_DIR is not set: nothing to stop}
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
