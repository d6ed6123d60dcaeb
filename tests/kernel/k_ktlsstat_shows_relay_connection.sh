#!/usr/bin/env bash
# With a relay connection open (openssl s_client -> ktlsrelay server with kTLS -> plaintext
# sink), ktlsstat lists the relay's TLS socket, from the kernel's own sock_diag answer, with
# TLSv1.3, the negotiated suite by its IANA name, tx and rx in software kTLS, and the owning
# process; for each TLS 1.3 suite, in the table and in --json; --pid and --port filter it.
. "$(dirname "$0")/lib.sh"
require_ktls
make_files
cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.pem"
B=$KTLSRELAY_BIN

port=4633
for s in "${SUITES[@]}"; do
	set -- $s
	name=$1 suite=$3
	[ "$2" = -tls1_3 ] || continue
	sink=$((port + 100))
	socat -u TCP4-LISTEN:$sink,bind=127.0.0.1,reuseaddr OPEN:/dev/null 2>"$WORK/sink.err" &
	cat >"$WORK/relay.conf" <<-CONF
		foreground = yes
		syslog = no
		debug = 6
		[svc]
		accept = 127.0.0.1:$port
		connect = 127.0.0.1:$sink
		cert = $WORK/server.pem
		ciphersuites = $suite
		ktls = on
	CONF
	"$B/ktlsrelay" "$WORK/relay.conf" >"$WORK/relay.log" 2>&1 &
	relay=$!
	for i in $(seq 1 100); do
		grep -q "listening on" "$WORK/relay.log" && break
		sleep 0.1
	done
	rm -f "$WORK/fifo"
	mkfifo "$WORK/fifo"
	openssl s_client -quiet -connect 127.0.0.1:$port -tls1_3 -ciphersuites "$suite" \
		<"$WORK/fifo" >/dev/null 2>"$WORK/client.err" &
	client=$!
	exec 3>"$WORK/fifo"
	echo hello >&3
	for i in $(seq 1 100); do
		grep -q "established" "$WORK/relay.log" && break
		sleep 0.1
	done
	grep -q "established.*tx=kernel rx=kernel" "$WORK/relay.log" ||
		{ cat "$WORK/relay.log"; fail "$name: the relay did not offload"; }

	"$B/ktlsstat" >"$WORK/table" 2>&1 || { cat "$WORK/table"; fail "$name: ktlsstat failed"; }
	cat "$WORK/table"
	grep -E "^ESTAB +127\.0\.0\.1:$port +127\.0\.0\.1:[0-9]+ +ktlsrelay\($relay\) +TLSv1\.3 +$suite +sw +sw " \
		"$WORK/table" || fail "$name: no table row for the relay's socket"
	"$B/ktlsstat" --json --port $port >"$WORK/json" || fail "$name: ktlsstat --json failed"
	cat "$WORK/json"
	[ "$(grep -c '"state"' "$WORK/json")" -eq 1 ] || fail "$name: --port $port: not one socket"
	grep -q "\"local_port\": $port, .*\"pid\": $relay, \"process\": \"ktlsrelay\".*\"version\": \"TLSv1.3\", \"cipher\": \"$suite\".*\"tx\": \"sw\", \"rx\": \"sw\"" \
		"$WORK/json" || fail "$name: JSON does not describe the relay's socket"
	grep -q '"tls_stat": {.*"TlsCurrTxSw": [1-9]' "$WORK/json" || fail "$name: JSON tls_stat"
	"$B/ktlsstat" --json --pid $relay | grep -q "\"local_port\": $port," ||
		fail "$name: --pid $relay does not show the relay's socket"
	"$B/ktlsstat" --json --pid $client | grep -q '"state"' &&
		fail "$name: --pid of s_client (a user-space TLS socket) shows a kTLS socket"

	exec 3>&-
	kill $client $relay 2>/dev/null
	wait $client $relay 2>/dev/null
	port=$((port + 1))
done
echo "PASS"
