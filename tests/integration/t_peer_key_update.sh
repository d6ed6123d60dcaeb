#!/usr/bin/env bash
# A TLS peer sends a KeyUpdate mid-stream (openssl s_client's `k` command calls SSL_key_update).
# User path: OpenSSL follows the new keys and the transfer goes on: everything arrives.
# Kernel path (KTLSRELAY_TEST_KTLS=on, in the VM): Linux before 6.14 cannot take new receive
# keys, so the relay must end the connection at the KeyUpdate, loudly: every byte sent before it
# arrives, none after, and the plaintext side sees a reset, not a clean end.
#
# The data is hex text (0-9a-f) so that no chunk s_client reads starts with one of its command
# letters (k, K, Q, R); the `k` line is written alone, after the first part has arrived. (Not
# -quiet: it implies -ign_eof, which turns the command letters off.)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
sink_start got "$P_OUT"

head -c 262144 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$T/before"
head -c 65536 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$T/after"
mkfifo "$T/cmd"
exec 7<>"$T/cmd"
SPAWN_IN=$T/cmd spawn s_client openssl s_client -connect "127.0.0.1:$P_TLS" \
	-CAfile "$T/ca.pem" -verify_return_error
CLIENT=$SPAWN_PID
cat "$T/before" >&7
wait_size "$T/got" "$(file_size "$T/before")" 30 || fail "the bytes before the KeyUpdate never arrived"
sleep 0.5
printf 'k\n' >&7
sleep 1
timeout 5 cat "$T/after" >&7 # s_client may be gone (kernel path): never block on the fifo
sleep 2
exec 7>&-
grep -q KEYUPDATE "$T/s_client.err" || fail "s_client did not send a KeyUpdate: the test proves nothing"

if [ "$KTLS_MODE" = on ] && ! is_stunnel; then
	wait_pid "$SINK_PID" 20 || fail "the plaintext receiver is still connected after the KeyUpdate"
	same_bytes "$T/before" "$T/got" "bytes before the KeyUpdate (an exact prefix, nothing after)"
	saw_reset got || fail "the plaintext side saw a clean end after a KeyUpdate the kernel cannot follow"
	log_expect "$SERVER_LOG" 'closed .*result=reset why="peer sent KeyUpdate' '' "KeyUpdate logged"
else
	cat "$T/before" "$T/after" >"$T/all"
	wait_size "$T/got" "$(file_size "$T/all")" 30 || fail "the bytes after the KeyUpdate never arrived"
	same_bytes "$T/all" "$T/got" "everything, across the KeyUpdate"
fi
kill "$CLIENT" 2>/dev/null
stop_relay "$SERVER"
pass
