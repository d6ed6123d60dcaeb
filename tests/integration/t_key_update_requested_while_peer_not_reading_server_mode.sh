#!/usr/bin/env bash
# A TLS client peer (openssl s_client, `K` command: a KeyUpdate with update_requested) sends
# KeyUpdates while it does not read what the relay (server mode) sends it, so the relay's TLS
# socket toward it is full whenever a KeyUpdate arrives and OpenSSL must queue the relay's own
# KeyUpdate behind the records that wait. The transfer must go on: 32 MiB each way intact, and
# the relay logs result=ok (it once reset with `TLS read: TLS side: Resource temporarily
# unavailable`: OpenSSL 3.0's buffering BIO hid the write BIO's retry flag).
#
# s_client reads `K` commands only without -quiet; -brief keeps its stdout to the data alone.
# What it sends (stdin) is hex text, and each `K` line is written alone, after everything before
# it has reached the backend, so no data chunk starts with a command letter.
#
# Kernel path (KTLSRELAY_TEST_KTLS=on, the VM): skipped (77). A peer's KeyUpdate ends a
# kernel-path connection there, by design before Linux 6.14, which cannot follow one (the relay
# does not follow one on newer kernels yet either: issue 14 section 2); t_peer_key_update.sh
# checks that end. This test is for the user path.
. "$(dirname "$0")/lib.sh"

[ "$KTLS_MODE" = on ] && ! is_stunnel &&
	skip "kernel path: a peer's KeyUpdate ends the connection there (by design before Linux 6.14; t_peer_key_update.sh checks that end)"

ROUNDS=8
SIZE_MB=$((MB < 32 ? MB : 32))

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG

# Down: random bytes from the backend to s_client. Up: hex text from s_client to the backend, in
# ROUNDS parts with a KeyUpdate request after each.
make_random "$T/down.src" "$SIZE_MB"
head -c $((SIZE_MB * 512 * 1024)) /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$T/up.src"
UP_SIZE=$(file_size "$T/up.src")
PART=$(((UP_SIZE + ROUNDS - 1) / ROUNDS))
split -b "$PART" -d "$T/up.src" "$T/up.part." || fail "split"
duplex_server backend "$P_OUT" "$T/down.src" "$T/up.got"

# s_client's stdout goes through a fifo to a reader that is stopped while the KeyUpdates are
# sent: s_client stops reading its socket, and the relay's socket toward it fills up.
reader_has_fifo()
{
	local fd
	for fd in /proc/"$READER"/fd/*; do
		[ "$(readlink "$fd")" = "$T/down.fifo" ] && return 0
	done
	return 1
}

# Both fifos are held open here (fds 7 and 8) so that no open() waits for the other end.
mkfifo "$T/cmd" "$T/down.fifo"
exec 7<>"$T/cmd" 8<>"$T/down.fifo"
cat "$T/down.fifo" 7>&- 8>&- >"$T/down.got" &
READER=$!
track_pid "$READER"
# Stopped only once it holds the fifo: fd 8 closes below, and a fifo without a reader would make
# s_client's writes fail (it then drops what it reads, and reads on).
wait_until 10 reader_has_fifo || fail "the reader never opened its fifo"
kill -STOP "$READER"
openssl s_client -connect "127.0.0.1:$P_TLS" -brief -CAfile "$T/ca.pem" -verify_return_error \
	7>&- 8>&- <"$T/cmd" >"$T/down.fifo" 2>"$T/s_client.err" &
CLIENT=$!
track_pid "$CLIENT"
keep_log "$T/s_client.err"
exec 8>&-
wait_until 10 grep -q ' established ' "$SERVER_LOG" || fail "the TLS connection was not established"
sleep 1

sent=0
for part in "$T"/up.part.*; do
	kill -0 "$CLIENT" 2>/dev/null || fail "s_client ended during the transfer"
	timeout 60 cat "$part" >&7 || fail "s_client stopped taking data"
	sent=$((sent + $(file_size "$part")))
	wait_size "$T/up.got" "$sent" 60 || fail "the backend got $(file_size "$T/up.got") of $sent bytes"
	printf 'K\n' >&7
	sleep 0.3
	! grep -q ' closed ' "$SERVER_LOG" ||
		fail "the connection ended while the peer was not reading: $(grep ' closed ' "$SERVER_LOG")"
done
keyupdates=$(grep -c KEYUPDATE "$T/s_client.err")
[ "$keyupdates" -eq "$ROUNDS" ] || fail "s_client sent $keyupdates KeyUpdates, not $ROUNDS"

kill -CONT "$READER"
wait_size "$T/down.got" "$(file_size "$T/down.src")" 60 ||
	fail "s_client got $(file_size "$T/down.got") of $(file_size "$T/down.src") bytes"
# The backend's end of the down stream comes to s_client as close_notify: it ends, and its own
# close_notify ends the up stream at the backend.
wait_pid "$CLIENT" 30 || fail "s_client did not end after the backend's end of stream"
wait_pid "$DUPLEX_PID" 30 || fail "the backend did not see the end of the up stream"
exec 7>&-
same_bytes "$T/up.src" "$T/up.got" "up, $ROUNDS KeyUpdates requested by the peer"
same_bytes "$T/down.src" "$T/down.got" "down, to a peer that stopped reading"
wait_until 10 grep -q ' closed ' "$SERVER_LOG" || fail "the relay never logged the close"
log_expect "$SERVER_LOG" ' closed .*result=ok' '' "the relay's close"
stop_relay "$SERVER"
pass
