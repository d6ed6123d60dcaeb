#!/usr/bin/env bash
# metrics: the counters of a client -> server chain move as the traffic says. Scraped with a real
# client during a transfer (connections open, the bytes flushed while it lives), then after it:
# relayed bytes equal each direction's byte count on both relays, connections total, the data
# path (kernel with ktls = on in the VM, else why not), failed handshakes by reason (a TLS 1.2
# client and a client that refuses the server's certificate), a maxconn refusal, resets by cause,
# reloads (one taken, one refused), the certificate's time left, the kernel's tls_stat counters
# where the kernel has kTLS (read by the client relay from inside its chroot, as nobody). Every
# scrape passes promtool check metrics (on the host; the VM has no promtool).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/metrics_lib.sh"

is_stunnel && skip "stunnel has no metrics endpoint"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
pick_port; M_SERVER=$PORT
pick_port; M_CLIENT=$PORT
cat >"$T/server.conf" <<CONF
$(relay_globals)
metrics = $M_SERVER
[server]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_OUT
cert = $T/server.pem
sslVersion = TLSv1.3
maxconn = 1
CONF
# The client relay runs chrooted as nobody: its endpoint and /proc/net/tls_stat were opened before.
mkdir "$T/jail" && chmod 755 "$T/jail" || fail "mkdir jail"
cat >"$T/client.conf" <<CONF
$(relay_globals)
chroot = $T/jail
setuid = nobody
setgid = nobody
metrics = 127.0.0.1:$M_CLIENT
[client]
client = yes
accept = 127.0.0.1:$P_IN
connect = 127.0.0.1:$P_TLS
CAfile = $T/ca.pem
verifyChain = yes
checkHost = localhost
CONF
start_relay "$T/server.conf" "$P_TLS" "$M_SERVER"
SERVER=$RELAY_PID
SERVER_LOG=$RELAY_LOG
# LeakSanitizer reads /proc/PID/task at exit, which the chroot hides (as in
# t_privileges_dropped_in_chroot): off for the chrooted relay only, the server keeps it.
CLIENT_ASAN=${ASAN_OPTIONS:-}
grep -q __asan_init "$KTLSRELAY_BIN/ktlsrelay" && CLIENT_ASAN=${CLIENT_ASAN:+$CLIENT_ASAN:}detect_leaks=0
ASAN_OPTIONS=$CLIENT_ASAN start_relay "$T/client.conf" "$P_IN" "$M_CLIENT"
CLIENT=$RELAY_PID
S='service="server"'
C='service="client"'

scrape "$M_SERVER" "$T/s0.prom"
expect_sample "$T/s0.prom" "ktlsrelay_connections_total{$S}" 0 "before any connection"
expect_sample "$T/s0.prom" "ktlsrelay_accepting" 1 "a started relay"
# The test certificate was made moments ago with -days 2: 172800 s left, less the time since.
left=$(sample "$T/s0.prom" "ktlsrelay_certificate_expiry_seconds{$S}")
[ -n "$left" ] && [ "$left" -le 172800 ] && [ "$left" -gt $((172800 - 600)) ] ||
	fail "the test certificate (-days 2) has '$left' seconds left"

# Upload, held open: the bytes are in the sink, the connection still lives.
UP_BYTES=$((MB * 1024 * 1024 + 123))
head -c "$UP_BYTES" /dev/urandom >"$T/up.src"
sink_start up.got "$P_OUT"
mkfifo "$T/up.fifo"
spawn up.client socat -u "OPEN:$T/up.fifo,rdonly" "TCP4:127.0.0.1:$P_IN"
UP_CLIENT=$SPAWN_PID
exec 7>"$T/up.fifo"
cat "$T/up.src" >&7
wait_size "$T/up.got" "$UP_BYTES" 60 || fail "upload: the sink got $(file_size "$T/up.got") of $UP_BYTES bytes"
wait_until 5 sample_is "$M_SERVER" "ktlsrelay_relayed_bytes_total{$S,direction=\"to_plaintext\"}" "$UP_BYTES" ||
	fail "during the transfer the server's to_plaintext bytes never reached $UP_BYTES: $(grep relayed_bytes "$T/poll.prom")"
scrape "$M_SERVER" "$T/s1.prom"
scrape "$M_CLIENT" "$T/c1.prom"
expect_sample "$T/s1.prom" "ktlsrelay_connections_open{$S}" 1 "server, during the upload"
expect_sample "$T/c1.prom" "ktlsrelay_connections_open{$C}" 1 "client, during the upload"
log "during the upload: $(grep -E '^ktlsrelay_(connections_open|relayed_bytes_total)' "$T/s1.prom" | tr '\n' ' ')"
exec 7>&-
wait_pid "$SINK_PID" 30 || fail "upload: the sink never saw the end of the stream"
wait_pid "$UP_CLIENT" 30
same_bytes "$T/up.src" "$T/up.got" "upload"

# Download, a size of its own, so a direction mixed up shows.
DOWN_BYTES=$((1024 * 1024 + 7))
head -c "$DOWN_BYTES" /dev/urandom >"$T/down.src"
source_start down.srv "$P_OUT" "$T/down.src"
recv_file "$P_IN" "$T/down.got" || fail "download: client socat failed"
wait_pid "$SOURCE_PID" 30
same_bytes "$T/down.src" "$T/down.got" "download"
wait_until 5 sample_is "$M_SERVER" "ktlsrelay_connections_open{$S}" 0 || fail "the server still counts an open connection"
wait_until 5 sample_is "$M_CLIENT" "ktlsrelay_connections_open{$C}" 0 || fail "the client still counts an open connection"

scrape "$M_SERVER" "$T/s2.prom"
scrape "$M_CLIENT" "$T/c2.prom"
expect_sample "$T/s2.prom" "ktlsrelay_relayed_bytes_total{$S,direction=\"to_plaintext\"}" "$UP_BYTES" "server bytes to plaintext"
expect_sample "$T/s2.prom" "ktlsrelay_relayed_bytes_total{$S,direction=\"to_tls\"}" "$DOWN_BYTES" "server bytes to TLS"
expect_sample "$T/c2.prom" "ktlsrelay_relayed_bytes_total{$C,direction=\"to_tls\"}" "$UP_BYTES" "client bytes to TLS"
expect_sample "$T/c2.prom" "ktlsrelay_relayed_bytes_total{$C,direction=\"to_plaintext\"}" "$DOWN_BYTES" "client bytes to plaintext"
for f in s2:$S c2:$C; do
	expect_sample "$T/${f%%:*}.prom" "ktlsrelay_connections_total{${f#*:}}" 2 "${f%%:*}: two connections"
	for cause in handshake backend peer timeout stopping refused error; do
		expect_sample "$T/${f%%:*}.prom" "ktlsrelay_resets_total{${f#*:},cause=\"$cause\"}" 0 "${f%%:*}: no reset"
	done
done

# A reload is counted, and the service keeps its counters across it.
kill -HUP "$SERVER"
wait_until 10 grep -q 'configuration reloaded' "$SERVER_LOG" || fail "no reload logged"
scrape "$M_SERVER" "$T/s2r.prom"
expect_sample "$T/s2r.prom" 'ktlsrelay_reloads_total{result="ok"}' 1 "one reload"
expect_sample "$T/s2r.prom" "ktlsrelay_connections_total{$S}" 2 "the count kept across the reload"
cp "$T/server.conf" "$T/server.conf.good"
echo "no_such_option = 1" >>"$T/server.conf"
kill -HUP "$SERVER"
wait_until 10 grep -q 'reload refused' "$SERVER_LOG" || fail "the broken file was not refused"
cp "$T/server.conf.good" "$T/server.conf"
scrape "$M_SERVER" "$T/s2f.prom"
expect_sample "$T/s2f.prom" 'ktlsrelay_reloads_total{result="failed"}' 1 "one refused reload"
expect_sample "$T/s2f.prom" 'ktlsrelay_reloads_total{result="ok"}' 1 "still one reload"

# The data path, and why not the kernel's.
if [ "$KTLS_MODE" = on ] || { [ "$KTLS_MODE" != off ] && [ -r /proc/net/tls_stat ]; }; then
	path=kernel
else
	path=user
	if [ "$KTLS_MODE" = off ]; then why=ktls_off; else why=no_tls_ulp; fi
	expect_sample "$T/s2.prom" "ktlsrelay_user_path_connections_total{$S,why=\"$why\"}" 2 "why the user path"
fi
other=$([ $path = kernel ] && echo user || echo kernel)
for f in s2:$S c2:$C; do
	expect_sample "$T/${f%%:*}.prom" "ktlsrelay_connections_established_total{${f#*:},path=\"$path\"}" 2 "${f%%:*}: path $path"
	expect_sample "$T/${f%%:*}.prom" "ktlsrelay_connections_established_total{${f#*:},path=\"$other\"}" 0 "${f%%:*}: path $other"
done
if [ -r /proc/net/tls_stat ]; then
	[ -n "$(sample "$T/c2.prom" 'ktlsrelay_kernel_tls_stat_total{counter="TlsTxSw"}')" ] ||
		fail "the chrooted client relay's scrape has no tls_stat TlsTxSw"
	tx=$(sample "$T/s2.prom" 'ktlsrelay_kernel_tls_stat_total{counter="TlsTxSw"}')
	cur=$(sample "$T/s2.prom" 'ktlsrelay_kernel_tls_stat_current{counter="TlsCurrTxSw"}')
	[ -n "$tx" ] && [ -n "$cur" ] || fail "the kernel has /proc/net/tls_stat, the scrape has no TlsTxSw or TlsCurrTxSw"
	expect_sample "$T/s2.prom" "ktlsrelay_kernel_tls_ulp" 1 "kTLS found"
	if [ $path = kernel ]; then
		# Both relays share this namespace: 4 kTLS sockets, plus what their probes added.
		[ "$tx" -ge 4 ] || fail "tls_stat TlsTxSw is $tx after 4 kernel-path sockets"
		# The TLS 1.3 server's NewSessionTickets reach the client relay's kernel as control
		# records, read with recvmsg and skipped.
		tickets=$(sample "$T/c2.prom" "ktlsrelay_kernel_control_records_total{$C,type=\"new_session_ticket\"}")
		[ "${tickets:-0}" -ge 2 ] || fail "the client relay counted '$tickets' NewSessionTicket records on 2 kernel-path connections"
		log "kernel path: the client relay skipped $tickets NewSessionTicket records"
	fi
	log "kernel: $(grep '^ktlsrelay_kernel_tls_stat' "$T/s2.prom" | tr '\n' ' ')"
else
	expect_sample "$T/s2.prom" "ktlsrelay_kernel_tls_ulp" 0 "no kTLS on this kernel"
fi

# Failed handshakes by reason: TLS 1.2 against sslVersion = TLSv1.3, then a client that does not
# trust the server's certificate (it sends an unknown_ca alert).
openssl s_client -connect "127.0.0.1:$P_TLS" -tls1_2 </dev/null >/dev/null 2>>"$T/s_client.err"
openssl s_client -connect "127.0.0.1:$P_TLS" -CAfile "$T/wrongca.pem" -verify_return_error \
	</dev/null >/dev/null 2>>"$T/s_client.err"
wait_until 5 sample_is "$M_SERVER" "ktlsrelay_handshakes_failed_total{$S,reason=\"certificate\"}" 1 ||
	fail "the refused certificate was not counted: $(grep handshakes_failed "$T/poll.prom")"
scrape "$M_SERVER" "$T/s3.prom"
expect_sample "$T/s3.prom" "ktlsrelay_handshakes_failed_total{$S,reason=\"version\"}" 1 "a TLS 1.2 client"
for r in timeout closed cipher protocol other; do
	expect_sample "$T/s3.prom" "ktlsrelay_handshakes_failed_total{$S,reason=\"$r\"}" 0 "no $r failure"
done
expect_sample "$T/s3.prom" "ktlsrelay_resets_total{$S,cause=\"handshake\"}" 2 "two handshakes reset"

# maxconn = 1: one connection held through the chain, a second one is refused and counted.
echo_server echo "$P_OUT"
hold
spawn holder socat -T 60 "OPEN:$HOLD,rdonly!!OPEN:$T/holder.back,wronly,creat" "TCP4:127.0.0.1:$P_IN"
wait_until 10 sample_is "$M_SERVER" "ktlsrelay_connections_open{$S}" 1 || fail "the held connection is not open"
openssl s_client -connect "127.0.0.1:$P_TLS" </dev/null >/dev/null 2>>"$T/s_client.err"
scrape "$M_SERVER" "$T/s4.prom"
expect_sample "$T/s4.prom" "ktlsrelay_connections_refused_total{$S,reason=\"maxconn\"}" 1 "a refusal over maxconn"
expect_sample "$T/s4.prom" "ktlsrelay_connections_total{$S}" 5 "served: 2 transfers, 2 failed handshakes, the holder"
log "sample: $(grep -E '^ktlsrelay_(connections_(total|refused_total|established_total)|handshakes_failed_total)\{.*\} [1-9]' "$T/s4.prom" | tr '\n' ';')"
kill "$SPAWN_PID"
stop_relay "$CLIENT"
stop_relay "$SERVER"
pass
