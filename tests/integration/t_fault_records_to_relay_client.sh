#!/usr/bin/env bash
# Broken TLS records from the TLS server, mid-stream, on their way into a relay client: openssl
# s_server (sending a file) -> faultproxy -> relay client -> plaintext receiver (socat). After
# 256 KiB the injector flips a ciphertext byte, cuts a record in half and ends the stream, slips
# in a record whose header says 2^14 + 2048 bytes, sends a record twice, drops one, or replaces
# one by a forged plaintext close_notify and ends the stream (a truncation dressed as a clean
# end). Each time the relay must end the connection with its reason logged, the receiver must
# see a reset (never a clean end), and what it received must be an exact prefix of what s_server
# sent. A pass-through run (fault none) first proves that the injector itself delivers every byte.
# On the kernel path (the VM) the kernel checks the records (and counts TlsDecryptError for the
# records whose tag fails); the relay must still log and reset.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT # the injector, where the relay client connects
pick_port; P_SRV=$PORT
relay_client_conf "$T/client.conf"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG
make_random "$T/src" 1
AFTER=262144
hold

n=0
fault()
{
	local f=$1 re=$2 line
	n=$((n + 1))
	[ "$KTLS_MODE" = on ] && tls_stat_snapshot "$T/tls_stat.$f"
	# -nbio: see t_relay_client_to_openssl_s_server.sh. s_server sends its stdin, then closes.
	SPAWN_IN=$T/src spawn "s_server.$f" openssl s_server -quiet -nbio -naccept 1 \
		-accept "127.0.0.1:$P_SRV" -tls1_3 -cert "$T/server.crt" -key "$T/server.key"
	SRV=$SPAWN_PID
	wait_port "$P_SRV" 5 || fail "s_server not listening"
	faultproxy "fp.$f" "$P_TLS" "$P_SRV" --dir down --after "$AFTER" --fault "$f"
	# -d: socat reports a reset only as a warning (see saw_reset).
	spawn "got.$f" socat -d -T 30 "OPEN:$HOLD,rdonly!!OPEN:$T/got.$f,wronly,creat,trunc" \
		"TCP4:127.0.0.1:$P_IN"
	wait_pid "$SPAWN_PID" 30 || fail "$f: the receiver is still connected 30 s later"
	wait_pid "$FP_PID" 30 || fail "$f: the injector is still running 30 s later"
	kill "$SRV" 2>/dev/null
	grep -q "faultproxy: down: $f at byte" "$T/fp.$f.err" ||
		fail "$f: the injector never applied the fault: the test proves nothing"
	wait_closed "$CLIENT_LOG" "$n" 10 || fail "$f: the relay logged no close for connection #$n"
	line=$(closed_line "$CLIENT_LOG" "$n")
	log "$f: relay: ${line#*\] }"
	kernel_saw "$f"
	if [ "$f" = none ]; then
		same_bytes "$T/src" "$T/got.$f" "$f (pass-through)"
		saw_reset "got.$f" && fail "$f: the receiver saw a reset on a clean transfer"
		echo "$line" | grep -q 'result=ok' || fail "$f: not a clean close: $line"
		return 0
	fi
	expect_prefix "$T/src" "$T/got.$f" "$f"
	saw_reset "got.$f" || fail "$f: the plaintext side saw a clean end of stream"
	echo "$line" | grep -Eq "result=reset why=\"TLS read: .*($re)" ||
		fail "$f: the close line does not give the reason /$re/: $line"
	relay_alive "$CLIENT" "$CLIENT_LOG"
}

fault none ''
fault flip 'bad record mac|Bad message'
fault truncate 'truncated'
fault oversize 'encrypted length too long|Message too long'
fault dup 'bad record mac|Bad message'
fault drop 'bad record mac|Bad message'
fault close 'bad record type|Bad message'
stop_relay "$CLIENT"
pass
