#!/usr/bin/env bash
# The relay's layering, checked on its sources:
# - the event loop (relay/worker.c) knows operations and handlers, not connections: it includes
#   no connection header and calls no conn_* function;
# - the connection and the data paths know the worker's API, not io_uring: no io_uring_* call,
#   no liburing type, in relay/conn.c, relay/pump.c, relay/path_*.c;
# - the connection does not test which path it has (no `path == &path_...`): the ops say it.
# Usage: layering.sh SOURCE_DIR. Exit 0 pass, 1 fail.
set -u
src=${1:?usage: layering.sh SOURCE_DIR}/relay
status=0

# check WHAT REGEX FILE...: no line of FILE... (comments aside) may match REGEX.
check()
{
	local what=$1 re=$2 hits
	shift 2
	hits=$(grep -nE -- "$re" "$@" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
	if [ -n "$hits" ]; then
		echo "FAIL: $what:"
		echo "$hits"
		status=1
	fi
}

for f in "$src/worker.c" "$src/worker.h" "$src/conn.c" "$src/pump.c" "$src/path.h"; do
	[ -e "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done
paths=("$src"/path_*.c)
[ -e "${paths[0]}" ] || { echo "FAIL: no relay/path_*.c"; exit 1; }

check "worker includes a connection or data-path header" \
	'#include[[:space:]]+"(conn|path)[^"]*\.h"' "$src/worker.c" "$src/worker.h"
check "worker calls into connections" '\bconn_[a-z_]+[[:space:]]*\(' \
	"$src/worker.c" "$src/worker.h"
check "worker knows the connection type" 'struct[[:space:]]+conn\b' \
	"$src/worker.c" "$src/worker.h"
check "connection or data path calls io_uring" '\bio_uring_[a-z_]+[[:space:]]*\(' \
	"$src/conn.c" "$src/conn.h" "$src/pump.c" "$src/path.h" "${paths[@]}"
check "connection or data path uses liburing types" \
	'struct[[:space:]]+io_uring|#include[[:space:]]+<liburing' \
	"$src/conn.c" "$src/conn.h" "$src/pump.c" "$src/path.h" "${paths[@]}"
check "connection tests which data path it has" '(==|!=)[[:space:]]*&path_' \
	"$src/conn.c" "$src/pump.c" "${paths[@]}"

[ "$status" = 0 ] && echo "PASS: layering"
exit "$status"
