#!/usr/bin/env bash
# A ktls/ client (ktls_peer) offloads TX and RX after its handshake with a real openssl s_server,
# for each TLS 1.3 suite and the TLS 1.2 AES-GCM suites; bytes both ways checked by sha256, the
# kernel's tls_stat must show both keys installed, TLS 1.3 tickets arrive as control records,
# and the close_notify each side sends is seen by the other.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files

port=4433
for s in "${SUITES[@]}"; do
	set -- $s
	name=$1
	tls_stat_snapshot "$WORK/stat" || fail "no tls_stat"
	# s_server sends its stdin and writes what it receives to stdout; it ends the connection
	# at stdin's EOF, so stdin (a fifo) stays open until the client is done.
	rm -f "$WORK/fifo"
	mkfifo "$WORK/fifo"
	openssl s_server -quiet -naccept 1 -accept $port -cert "$WORK/cert.pem" \
		-key "$WORK/key.pem" $(openssl_suite_args "$2" "$3") <"$WORK/fifo" \
		>"$WORK/got_c2s" 2>"$WORK/server.err" &
	spid=$!
	exec 3>"$WORK/fifo"
	cat "$WORK/s2c" >&3 &
	"$KTESTS/ktls_peer" --connect $port $(peer_suite_args "$2" "$3") --send "$WORK/c2s" \
		--recv "$WORK/got_s2c" --expect "$(size "$WORK/s2c")" >"$WORK/peer.out" 2>&1
	rc=$?
	# s_server ends at stdin's EOF even with bytes still unread in its socket: let it write
	# all it was sent before closing the fifo (at most 60 s).
	for _ in $(seq 600); do
		[ "$(size "$WORK/got_c2s")" -ge "$(size "$WORK/c2s")" ] && break
		sleep 0.1
	done
	exec 3>&-
	wait $spid
	src=$?
	cat "$WORK/peer.out"
	[ $rc -eq 0 ] || { cat "$WORK/server.err"; fail "$name: ktls_peer exited $rc"; }
	[ $src -eq 0 ] || { cat "$WORK/server.err"; fail "$name: s_server exited $src"; }
	same_bytes "$WORK/c2s" "$WORK/got_c2s" "$name client to server"
	same_bytes "$WORK/s2c" "$WORK/got_s2c" "$name server to client"
	grep -q "^state: tx=kernel rx=kernel" "$WORK/peer.out" || fail "$name: socket state"
	tls_stat_expect_offload "$WORK/stat" 1 || fail "$name: not offloaded"
	if [ "$2" = -tls1_3 ]; then
		grep -q "tickets=2" "$WORK/peer.out" || fail "$name: the 2 tickets were not control records"
		grep -q "cipher=$3" "$WORK/peer.out" || fail "$name: state names the wrong cipher"
	fi
	port=$((port + 1))
done
echo "PASS"
