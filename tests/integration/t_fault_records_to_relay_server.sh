#!/usr/bin/env bash
# Broken TLS records from the TLS peer, mid-stream, on their way into a relay server: openssl
# s_client -> faultproxy -> relay server -> plaintext sink. After 256 KiB the injector flips a
# ciphertext byte, cuts a record in half and ends the stream, slips in a record whose header says
# 2^14 + 2048 bytes, sends a record twice, drops one, or replaces one by a forged plaintext
# close_notify and ends the stream (a truncation dressed as a clean end). Each time the relay
# must end the connection with its reason logged, the sink must see a reset (never a clean end,
# which would pass a cut stream off as whole), and what reached the sink must be an exact prefix
# of what was sent: no byte of a record that failed its check gets through. A pass-through run
# (fault none) first proves that the injector itself delivers every byte.
# On the kernel path (the VM) the kernel checks the records (and counts TlsDecryptError for the
# records whose tag fails); the relay must still log and reset.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/../faults/faults.sh"

make_certs
pick_port; P_FP=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
relay_server_conf "$T/server.conf"
start_relay "$T/server.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
make_random "$T/src" 1
AFTER=262144

# fault NAME REASON_REGEX: one connection through the injector with fault NAME.
n=0
fault()
{
	local f=$1 re=$2 line
	n=$((n + 1))
	[ "$KTLS_MODE" = on ] && tls_stat_snapshot "$T/tls_stat.$f"
	sink_start "got.$f" "$P_OUT"
	faultproxy "fp.$f" "$P_FP" "$P_TLS" --dir up --after "$AFTER" --fault "$f"
	timeout 60 openssl s_client -connect "127.0.0.1:$P_FP" -quiet -no_ign_eof -nocommands \
		-CAfile "$T/ca.pem" -verify_return_error -verify_hostname localhost <"$T/src" \
		>>"$T/s_client.out" 2>>"$T/s_client.$f.err"
	wait_pid "$SINK_PID" 30 || fail "$f: the sink is still connected 30 s later"
	wait_pid "$FP_PID" 30 || fail "$f: the injector is still running 30 s later"
	grep -q "faultproxy: up: $f at byte" "$T/fp.$f.err" ||
		fail "$f: the injector never applied the fault: the test proves nothing"
	wait_closed "$SERVER_LOG" "$n" 10 || fail "$f: the relay logged no close for connection #$n"
	line=$(closed_line "$SERVER_LOG" "$n")
	log "$f: relay: ${line#*\] }"
	kernel_saw "$f"
	if [ "$f" = none ]; then
		same_bytes "$T/src" "$T/got.$f" "$f (pass-through)"
		saw_reset "got.$f" && fail "$f: the sink saw a reset on a clean transfer"
		echo "$line" | grep -q 'result=ok' || fail "$f: not a clean close: $line"
		return 0
	fi
	expect_prefix "$T/src" "$T/got.$f" "$f"
	saw_reset "got.$f" || fail "$f: the plaintext side saw a clean end of stream"
	echo "$line" | grep -Eq "result=reset why=\"TLS read: .*($re)" ||
		fail "$f: the close line does not give the reason /$re/: $line"
	relay_alive "$SERVER" "$SERVER_LOG"
}

fault none ''
fault flip 'bad record mac|Bad message'
fault truncate 'truncated'
fault oversize 'encrypted length too long|Message too long'
fault dup 'bad record mac|Bad message'
fault drop 'bad record mac|Bad message'
fault close 'bad record type|Bad message'
stop_relay "$SERVER"
pass
