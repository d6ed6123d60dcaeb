#!/usr/bin/env bash
# checkHost = wrong.example on a relay client: the server's certificate (for localhost) is
# refused; the plaintext client's connection is closed promptly, no byte reaches the far
# backend, the refusal is logged with the word "certificate", and the relay keeps running.
# vm-newest: no (configuration only: refused in the handshake, no kTLS socket)
. "$(dirname "$0")/lib.sh"

checkhost_setup wrong.example
sink_start up.got "$P_OUT"
make_random "$T/a" 1
t0=$(now_ms)
send_file "$P_IN" "$T/a"
log "client socat exited with $? after $(($(now_ms) - t0)) ms"
[ $(($(now_ms) - t0)) -lt 10000 ] || fail "the refused connection was kept open"
sleep 0.3
port_listening "$P_OUT" || fail "a connection reached the backend despite the wrong name"
[ "$(file_size "$T/up.got")" -eq 0 ] || fail "bytes reached the backend despite the wrong name"
log_expect "$CLIENT_LOG" '\[client\] #[0-9]+ .*certificate' 'Rejected by CERT' \
	"refusal logged"
relay_alive "$CLIENT" "$CLIENT_LOG"
stop_relay "$CLIENT"
stop_relay "$PEER"
pass
