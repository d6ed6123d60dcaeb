#!/usr/bin/env bash
# failover = prio with several connect lines: every connection goes to the first backend that
# answers, in the order written. A first backend that refuses (nothing listens) is skipped, each
# attempt logged; a first backend that never answers a SYN (a full accept queue: a dead host on
# loopback) is skipped after TIMEOUTconnect, logged as a timeout; when the first live backend
# dies, the next connections go to the one after it. Every connection carries a checksummed
# echo through real TLS (stunnel4 client -> relay server -> socat echo backends).
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

pick_port; P_DEAD=$PORT
pick_port; P_HOLE=$PORT
pick_port; P_A=$PORT
pick_port; P_B=$PORT
pick_port; P_C=$PORT
holdserver hole "$P_HOLE" --blackhole
echo_backend a "$P_A"; ECHO_A=$ECHO_PID
echo_backend b "$P_B"
echo_backend c "$P_C"
failover_setup "refused prio $P_DEAD $P_A $P_B" "hole prio $P_HOLE $P_C"

# The first backend refuses: all four go to A, none to B, each after a logged attempt on DEAD.
for i in 1 2 3 4; do
	check_echo_kb "${FAILOVER_IN[refused]}" 256 "prio connection $i"
done
[ "$(echo_connections a)" -eq 4 ] && [ "$(echo_connections b)" -eq 0 ] ||
	fail "prio: A got $(echo_connections a) connections, B $(echo_connections b) (want 4 and 0)"
[ "$(connect_failures "$SERVER_LOG" "$P_DEAD")" -eq 4 ] ||
	fail "prio: $(connect_failures "$SERVER_LOG" "$P_DEAD") logged attempts on the dead first" \
		"backend, not 4"
log_expect "$SERVER_LOG" \
	"\\[refused\\] #[0-9]+ connect to 127.0.0.1:$P_DEAD failed: Connection refused" '' \
	"the dead first backend's refusal logged"
log "prio: 4 connections to A, 0 to B, 4 logged refusals of the dead first backend"

# A dies: the next two go to B, after logged attempts on DEAD and A.
kill "$ECHO_A"
wait_pid "$ECHO_A" 5
for i in 1 2; do
	check_echo_kb "${FAILOVER_IN[refused]}" 256 "prio connection after A died $i"
done
[ "$(echo_connections b)" -eq 2 ] ||
	fail "prio: B got $(echo_connections b) connections after A died, not 2"
[ "$(connect_failures "$SERVER_LOG" "$P_A")" -eq 2 ] ||
	fail "prio: $(connect_failures "$SERVER_LOG" "$P_A") logged attempts on the dead A, not 2"
log "prio: with A dead, 2 connections to B"

# The first backend swallows SYNs: the connect times out (TIMEOUTconnect = 2) and C serves.
check_echo_kb "${FAILOVER_IN[hole]}" 256 "prio past a backend that never answers"
[ "$(echo_connections c)" -eq 1 ] || fail "prio: C got $(echo_connections c) connections, not 1"
log_expect "$SERVER_LOG" \
	"\\[hole\\] #[0-9]+ connect to 127.0.0.1:$P_HOLE failed: timeout \\(TIMEOUTconnect=2s\\)" \
	'' "the silent first backend's timeout logged"
stop_relay "$SERVER"
pass
