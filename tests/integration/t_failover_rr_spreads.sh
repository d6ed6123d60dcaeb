#!/usr/bin/env bash
# failover = rr with several connect lines: consecutive connections take the backends in turn
# (six connections over three live backends: two each), and a dead backend in the rotation is
# skipped (its attempts logged) while the live ones still share the load. Every connection
# carries a checksummed echo through real TLS (stunnel4 client -> relay server -> socat echo
# backends), and the count per backend comes from the backends' own accept logs.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

pick_port; P_A=$PORT
pick_port; P_B=$PORT
pick_port; P_C=$PORT
pick_port; P_D=$PORT
pick_port; P_DEAD=$PORT
pick_port; P_E=$PORT
for b in a:$P_A b:$P_B c:$P_C d:$P_D e:$P_E; do
	echo_backend "${b%:*}" "${b#*:}"
done
failover_setup "live rr $P_A $P_B $P_C" "dead rr $P_D $P_DEAD $P_E"

for i in 1 2 3 4 5 6; do
	check_echo_kb "${FAILOVER_IN[live]}" 256 "rr connection $i"
done
counts="A=$(echo_connections a) B=$(echo_connections b) C=$(echo_connections c)"
log "rr over three live backends: $counts"
[ "$counts" = "A=2 B=2 C=2" ] || fail "rr: six connections were not spread two per backend: $counts"

for i in 1 2 3 4 5 6; do
	check_echo_kb "${FAILOVER_IN[dead]}" 256 "rr connection with a dead backend $i"
done
d=$(echo_connections d)
e=$(echo_connections e)
tries=$(connect_failures "$SERVER_LOG" "$P_DEAD")
log "rr with the middle backend dead: D=$d E=$e, $tries logged attempts on the dead one"
[ $((d + e)) -eq 6 ] || fail "rr: D and E served $((d + e)) connections, not 6"
[ "$d" -ge 1 ] && [ "$e" -ge 1 ] || fail "rr: the live backends did not share the load: D=$d E=$e"
[ "$tries" -ge 1 ] || fail "rr: the dead backend was never tried: it should be in the rotation"
log_expect "$SERVER_LOG" "\\[dead\\] #[0-9]+ connect to 127.0.0.1:$P_DEAD failed: Connection refused" \
	'' "the dead backend's refusal logged"
stop_relay "$SERVER"
pass
