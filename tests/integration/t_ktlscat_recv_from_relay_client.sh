#!/usr/bin/env bash
# plaintext source -> relay client -> ktlscat recv: the relay verifies ktlscat's certificate,
# ktlscat writes the file byte for byte, ends on the relay's close_notify, and its summary says
# ok with the whole size, TLS 1.3, the file's SHA-256, and where its crypto ran.
. "$(dirname "$0")/lib.sh"
KTLSCAT=$KTLSRELAY_BIN/ktlscat
[ -x "$KTLSCAT" ] || fail "no $KTLSCAT (build failed?)"
# In the kTLS VM the data must go through the kernel, and tls_stat must show it; on a host
# without kTLS through OpenSSL, with the reason in the summary.
IN_KTLS=0
[ "${KTLSRELAY_IN_VM:-0}" = 1 ] && [ -r /proc/net/tls_stat ] && IN_KTLS=1
MODE=user
[ $IN_KTLS = 1 ] && MODE=kernel
[ $IN_KTLS = 1 ] && . "$LIB_DIR/../vm/tls_stat.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
make_random "$T/in" "$MB"
spawn recv "$KTLSCAT" recv "127.0.0.1:$P_TLS" "$T/got" --cert "$T/server.pem"
RECV=$SPAWN_PID
keep_log "$T/recv.out"
wait_port "$P_TLS" 5 || fail "ktlscat recv not listening"
relay_client_conf "$T/client.conf"
start_relay "$T/client.conf" "$P_IN"
CLIENT=$RELAY_PID
[ $IN_KTLS = 1 ] && { tls_stat_snapshot "$T/stat" || fail "tls_stat"; }

send_file "$P_IN" "$T/in" || fail "plaintext source: socat failed"
wait_pid "$RECV" 30 || fail "ktlscat recv did not finish"
[ "$WAIT_RC" -eq 0 ] || fail "ktlscat recv exited $WAIT_RC: $(cat "$T/recv.out")"
same_bytes "$T/in" "$T/got" "relay client to ktlscat recv"
grep -Eq "^ktlscat: recv result=ok bytes=$(file_size "$T/in") .*version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ tx=$MODE rx=$MODE" \
	"$T/recv.out" || fail "summary: $(cat "$T/recv.out")"
grep -q "^ktlscat: sha256=$(sha "$T/in") " "$T/recv.out" || fail "summary sha256"
expect_tls13 "$RELAY_LOG"
if [ $IN_KTLS = 1 ]; then
	n=2
	is_stunnel && n=1
	tls_stat_expect_offload "$T/stat" $n || fail "not offloaded"
fi
stop_relay "$CLIENT"
pass
