#!/usr/bin/env bash
# ktlscat on the kernel path follows a real peer's TLS 1.3 KeyUpdates where the kernel can take
# new keys (Linux >= 6.14, the probe's rekey_tx=yes rekey_rx=yes), and ends loudly where it
# cannot (6.1), for every TLS 1.3 suite:
#
# - recv: ktlscat is the server, openssl s_client sends text with "k" (update_not_requested) and
#   "K" (update_requested) typed in between: every KeyUpdate installs the next RX key, every "K"
#   also makes ktlscat send its own KeyUpdate and install the next TX key. Bytes intact (sha256),
#   ktlscat's count of updates, and tls_stat: TlsRxRekeyOk, TlsRxRekeyReceived by the number of
#   KeyUpdates, TlsTxRekeyOk by the number of "K", the *Error counters and TlsDecryptError
#   unmoved.
# - send (one suite): ktlscat is the client sending a file to openssl s_server, which gets "K",
#   "K", "k" typed in during the transfer (its output drained slowly, so the transfer lasts):
#   every "K" makes ktlscat answer and switch its TX key between two sendfile() calls; s_server
#   can read the rest only if that key is right. Bytes intact, the same tls_stat checks.
# - 6.1: the first KeyUpdate ends the transfer with result=error and a why= saying this kernel
#   cannot follow it and a newer one would; the file holds exactly the bytes sent before it.
#
# s_client/s_server read commands only without -quiet, from the start of a read() of stdin: the
# payload is hex text (no k, K, Q, R), each command written alone between pauses.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.pem"
B=$KTLSRELAY_BIN
trap '' PIPE

probe=$("$KTESTS/ktls_probe_print")
echo "$probe"
rekey=no
grep -q "rekey_tx=yes rekey_rx=yes" <<<"$probe" && rekey=yes

# Hex text, 64 characters a line: CHUNKS pieces of CHUNK_KB each.
CHUNKS=6
CHUNK_KB=${KTLSRELAY_TEST_KEYUPDATE_KB:-256}
for i in $(seq $CHUNKS); do
	head -c $((CHUNK_KB * 512)) /dev/urandom | xxd -p -c 32 >"$WORK/chunk$i"
done
cat "$WORK"/chunk? >"$WORK/all"
# The commands typed between the chunks: alternately not requested and requested.
CMDS=(k K k K K)
n_k=${#CMDS[@]}
n_K=0
for c in "${CMDS[@]}"; do [ "$c" = K ] && n_K=$((n_K + 1)); done

wait_size() { # FILE BYTES
	for _ in $(seq 200); do [ "$(size "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}

# wait_stat NAME N: until tls_stat's NAME moved by N since the snapshot (20 s at most).
wait_stat() {
	for _ in $(seq 200); do
		[ "$(tls_stat_delta "$WORK/stat" "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

wait_for() { # FILE PATTERN
	for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# recv: ktlscat server <- s_client typing k/K between chunks.
recv_case() { # NAME SUITE PORT
	local name=$1 suite=$2 port=$3 i rc
	rm -f "$WORK/got" "$WORK/fifo" "$WORK/cli.out"
	mkfifo "$WORK/fifo"
	"$B/ktlscat" recv 127.0.0.1:$port "$WORK/got" --cert "$WORK/server.pem" \
		>"$WORK/recv.out" 2>"$WORK/recv.err" &
	local rpid=$!
	wait_for "$WORK/recv.err" listening || fail "$name: ktlscat recv did not listen"
	# After ktlscat's own probe (which rekeys test sockets on a rekey kernel).
	tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
	openssl s_client -connect 127.0.0.1:$port -tls1_3 -ciphersuites "$suite" \
		<"$WORK/fifo" >"$WORK/cli.out" 2>"$WORK/cli.err" &
	local cpid=$!
	exec 3>"$WORK/fifo"
	wait_for "$WORK/cli.out" "^CONNECTED" || fail "$name: s_client did not connect"
	local total=0
	for i in $(seq $CHUNKS); do
		cat "$WORK/chunk$i" >&3 2>/dev/null
		total=$((total + $(size "$WORK/chunk$i")))
		[ "$i" -le $n_k ] || break
		# The command must reach s_client alone, after the whole chunk: wait until ktlscat
		# has written it all.
		wait_size "$WORK/got" $total || fail "$name: chunk $i did not arrive"
		printf '%s\n' "${CMDS[$((i - 1))]}" >&3 2>/dev/null
		# 6.1: ktlscat ends here. Otherwise it must follow before the next chunk.
		[ $rekey = yes ] || break
		wait_stat TlsRxRekeyOk $i || fail "$name: KeyUpdate $i not followed within 20 s"
	done
	exec 3>&-
	wait $rpid
	rc=$?
	wait $cpid
	cat "$WORK/recv.out"
	grep -c KEYUPDATE "$WORK/cli.err" | sed 's/^/s_client KEYUPDATE lines: /'
	if [ $rekey = yes ]; then
		[ $rc -eq 0 ] || { cat "$WORK/recv.err"; tail -5 "$WORK/cli.err"; fail "$name: recv exited $rc"; }
		grep -q "^ktlscat: recv result=ok bytes=$(size "$WORK/all") .*cipher=$suite tx=kernel rx=kernel" \
			"$WORK/recv.out" || fail "$name: recv summary is not ok/kernel"
		same_bytes "$WORK/all" "$WORK/got" "$name: s_client to ktlscat across $n_k KeyUpdates"
		grep -q "^ktlscat: key updates: rx=$n_k tx=$n_K " "$WORK/recv.out" ||
			fail "$name: ktlscat did not count rx=$n_k tx=$n_K"
		expect_rekeys "$name recv" $n_k $n_K
	else
		[ $rc -ne 0 ] || fail "$name: recv succeeded on a kernel that cannot rekey"
		grep -q '^ktlscat: recv result=error .*why="peer sent KeyUpdate (update_not_requested): this kernel cannot take new receive keys .*a newer kernel would have followed it' \
			"$WORK/recv.out" || fail "$name: recv did not end loudly at the KeyUpdate"
		same_bytes "$WORK/chunk1" "$WORK/got" "$name: exactly the bytes before the KeyUpdate"
	fi
}

# The kernel's own counts: KeyUpdates received and followed, our TX updates, no error.
expect_rekeys() { # WHAT RX TX
	local c d
	for c in TlsRxRekeyOk:$2 TlsRxRekeyReceived:$2 TlsTxRekeyOk:$3 TlsRxRekeyError:0 \
		TlsTxRekeyError:0 TlsDecryptError:0; do
		d=$(tls_stat_delta "$WORK/stat" "${c%%:*}") || fail "$1: no ${c%%:*} in tls_stat"
		echo "tls_stat: $1: ${c%%:*} +$d (want +${c#*:})"
		[ "$d" -eq "${c#*:}" ] || fail "$1: ${c%%:*} moved by $d, want ${c#*:}"
	done
}

# send: ktlscat client -> s_server typing K/K/k while the file flows (rekey kernels only). Each
# command waits until ktlscat followed the one before (TlsRxRekeyOk): s_server reads a command
# only at the start of a read() of its stdin, so two queued together would be one.
send_case() { # NAME SUITE PORT
	local name=$1 suite=$2 port=$3 c rc k=0
	rm -f "$WORK/fifo" "$WORK/srv.raw"
	mkfifo "$WORK/fifo"
	# Its output drained a MiB at a time with pauses: the transfer lasts many sendfile() calls.
	openssl s_server -naccept 1 -accept $port -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
		-tls1_3 -ciphersuites "$suite" <"$WORK/fifo" 2>"$WORK/srv.err" |
		while :; do
			n=$(head -c 1048576 | tee -a "$WORK/srv.raw" | wc -c)
			[ "$n" -gt 0 ] || break
			sleep 0.2
		done &
	local spid=$!
	exec 3>"$WORK/fifo"
	sleep 1
	"$B/ktlscat" send "$WORK/big" 127.0.0.1:$port --ciphersuites "$suite" --ktls on \
		>"$WORK/send.out" 2>"$WORK/send.err" &
	local kpid=$!
	# The snapshot once ktlscat is connected: after its probe, which rekeys test sockets.
	for _ in $(seq 200); do
		[ -n "$(ss -Htn state established "( dport = :$port )")" ] && break
		sleep 0.1
	done
	tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
	sleep 1
	# Both requests first: a request that lands after the last sendfile() (ktlscat has sent
	# its close_notify) is followed on RX only, with nothing more to send.
	for c in K K k; do
		printf '%s\n' $c >&3 2>/dev/null
		k=$((k + 1))
		wait_stat TlsRxRekeyOk $k || fail "$name: KeyUpdate $k ($c) not followed within 20 s"
	done
	wait $kpid
	rc=$?
	exec 3>&-
	wait $spid
	cat "$WORK/send.out"
	[ $rc -eq 0 ] || { cat "$WORK/send.err"; tail -5 "$WORK/srv.err"; fail "$name: send exited $rc"; }
	grep -q "^ktlscat: send result=ok bytes=$(size "$WORK/big") .*tx=kernel rx=kernel" \
		"$WORK/send.out" || fail "$name: send summary is not ok/kernel"
	# s_server's stdout mixes its notes into the data: drop them, keep the hex lines.
	sed -z -e 's/Read BLOCK\n//g' -e 's/SSL_do_handshake -> 1\n//g' "$WORK/srv.raw" |
		grep -E '^[0-9a-f]{64}$' >"$WORK/srv.got"
	same_bytes "$WORK/big" "$WORK/srv.got" "$name: ktlscat to s_server across KeyUpdates"
	grep -q "^ktlscat: key updates: rx=3 tx=2 " "$WORK/send.out" ||
		fail "$name: ktlscat did not follow K, K, k (rx=3 tx=2)"
	expect_rekeys "$name send" 3 2
}

# The send case for one suite (its TX keys are checked by s_server reading on; each suite's
# derivation against OpenSSL is in tests/unit/test_ktls_handover.c): SHA-384's.
SEND_SUITE=${KTLSRELAY_TEST_KEYUPDATE_SEND_SUITE:-TLS_AES_256_GCM_SHA384}
port=4633
for s in "${SUITES[@]}"; do
	set -- $s
	[ "$2" = -tls1_3 ] || continue
	recv_case "$1" "$3" $port
	port=$((port + 1))
	if [ $rekey = yes ] && [ "$3" = "$SEND_SUITE" ]; then
		for i in 1 2 3 4 5 6 7 8; do cat "$WORK/all"; done >"$WORK/big"
		send_case "$1" "$3" $port
		port=$((port + 1))
	fi
done
echo "PASS (rekey=$rekey)"
