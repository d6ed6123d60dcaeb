#!/usr/bin/env bash
# SSLKEYLOGFILE (the convention of browsers and curl) is honoured only when set: the relay then
# writes each connection's TLS secrets there in the NSS key log format, with a warning at start;
# unset, no secret is written anywhere. The kernel path still works with it (ktls/ chains the
# keylog callback).
. "$(dirname "$0")/lib.sh"

export SSLKEYLOGFILE=$T/keys.log
setup_chain
unset SSLKEYLOGFILE
make_random "$T/a" 1
sink_start got "$P_OUT"
send_file "$P_IN" "$T/a" || fail "send failed"
wait_size "$T/got" "$(file_size "$T/a")" 20 || fail "the bytes never arrived"
same_bytes "$T/a" "$T/got" "transfer with SSLKEYLOGFILE set"
stop_relay "$CLIENT"
stop_relay "$SERVER"

if is_stunnel; then pass; fi
log_expect "$SERVER_LOG" 'warning SSLKEYLOGFILE=.*for debugging only' '' "start-up warning"
# Both relays share the file: each wrote the four TLS 1.3 traffic secrets of its side.
for label in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET \
	CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0; do
	n=$(grep -cE "^$label [0-9a-f]{64} [0-9a-f]{64,96}\$" "$T/keys.log")
	[ "$n" -eq 2 ] || fail "$label: $n lines in the key log, expected 2 (one per relay)"
done
[ "$(stat -c %a "$T/keys.log")" = 600 ] || fail "the key log is readable by others"
log "key log: $(wc -l <"$T/keys.log") lines, mode 600"

# Unset: nothing.
rm -f "$T/keys.log"
pick_port; P2=$PORT
cat >"$T/plain.conf" <<CONF
$(relay_globals)
[again]
accept = 127.0.0.1:$P2
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
CONF
start_relay "$T/plain.conf" "$P2"; AGAIN=$RELAY_PID; AGAIN_LOG=$RELAY_LOG
grep -q SSLKEYLOGFILE "$AGAIN_LOG" && fail "SSLKEYLOGFILE mentioned though unset"
stop_relay "$AGAIN"
[ ! -e "$T/keys.log" ] || fail "a key log appeared without SSLKEYLOGFILE"
pass
