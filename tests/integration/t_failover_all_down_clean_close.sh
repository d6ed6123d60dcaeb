#!/usr/bin/env bash
# Every backend of a service down (two that refuse, one that never answers a SYN), for each
# failover mode: the relay tries every address, in order for prio and from its turn on for rr,
# logs each failure with the address and the reason (refused, or TIMEOUTconnect), and gives the
# TLS peer a clean close_notify (it was told nothing false); the close line says result=error
# and names every address tried; the relay keeps serving, and once a
# backend is back the next connection carries a checksummed echo.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

pick_port; P_D1=$PORT
pick_port; P_HOLE=$PORT
pick_port; P_D2=$PORT
holdserver hole "$P_HOLE" --blackhole
failover_setup "prio prio $P_D1 $P_HOLE $P_D2" "rr rr $P_D1 $P_HOLE $P_D2"

hold
for svc in prio rr; do
	tls=$(awk -v s="[$svc]" '$0 == s { f = 1 } f && /^accept/ { sub(/.*:/, ""); print; exit }' \
		"$T/server.conf")
	# stdin stays open: the relay, not s_client, must be the one that ends the connection.
	SPAWN_IN=$HOLD spawn "$svc" openssl s_client -connect "127.0.0.1:$tls" -CAfile "$T/ca.pem" \
		-verify_return_error -msg -msgfile "$T/$svc.msg"
	wait_pid "$SPAWN_PID" 30 || fail "$svc: s_client still connected 30 s later"
	grep -q "^<<< .*close_notify" "$T/$svc.msg" ||
		fail "$svc: the TLS peer got no close_notify after every backend failed"
	id=$(grep -E "\\[$svc\\] #[0-9]+ accepted" "$SERVER_LOG" | tail -n 1 | sed 's/.*#\([0-9]*\) .*/\1/')
	for p in "$P_D1 failed: Connection refused" \
		"$P_HOLE failed: timeout \\(TIMEOUTconnect=2s\\)" "$P_D2 failed: Connection refused"; do
		log_expect "$SERVER_LOG" "\\[$svc\\] #$id connect to 127.0.0.1:$p" '' \
			"$svc: the attempt on ${p%% *} logged"
	done
	wait_closed "$SERVER_LOG" "$id" 5 || fail "$svc: no close line for #$id"
	line=$(closed_line "$SERVER_LOG" "$id")
	echo "$line" | grep -q 'result=error why="no backend could be reached (tried ' ||
		fail "$svc: the close line does not say no backend could be reached: $line"
	for p in "$P_D1" "$P_HOLE" "$P_D2"; do
		echo "$line" | grep -q "127\.0\.0\.1:$p[,)]" ||
			fail "$svc: the close line does not name 127.0.0.1:$p: $line"
	done
	log "$svc: every address tried and logged; the TLS peer got a close_notify;" \
		"relay: $(closed_line "$SERVER_LOG" "$id" | sed 's/.*\] //')"
done

echo_backend back "$P_D2"
check_echo_kb "${FAILOVER_IN[prio]}" 256 "prio, once the last backend is back"
relay_alive "$SERVER" "$SERVER_LOG"
stop_relay "$SERVER"
pass
