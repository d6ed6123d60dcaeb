#!/usr/bin/env bash
# When the kernel cannot take a connection's keys, `ktls = auto` runs it in user space and the
# established line says why; `ktls = on` refuses it. Two conditions, whichever this machine has:
# - a kernel without the TLS module (the host here): auto -> why="kernel has no TLS ULP";
#   on -> the relay refuses to start, naming the file, line and reason;
# - a kTLS kernel (the VM): TLS_AES_128_CCM_SHA256, which ktls/ does not install: auto -> user
#   space, why names the cipher; on -> the connection is refused (result=refused), the backend
#   gets no byte.
. "$(dirname "$0")/lib.sh"
# This test decides ktls itself, per service; the suite-wide kernel-path check does not apply.
KTLS_MODE=""

CCM="ciphersuites = TLS_AES_128_CCM_SHA256"
if "$KTLSRELAY_BIN/ktlsrelay" --version | grep -q "^kTLS: yes"; then
	kernel=yes
	why_re='why="[^"]*TLS_AES_128_CCM_SHA256[^"]*"'
else
	kernel=no
	why_re='why="kernel has no TLS ULP"'
fi

# auto: the transfer runs in user space, intact, and the log says why.
setup_chain "$CCM"$'\n'"ktls = auto" "$CCM"$'\n'"ktls = auto"
xfer_up_down "$P_IN" "$P_OUT"
for l in "$CLIENT_LOG" "$SERVER_LOG"; do
	log_expect "$l" "established .*cipher=TLS_AES_128_CCM_SHA256 tx=user rx=user $why_re" '' \
		"user-space fallback with its reason in ${l#"$T"/}"
done
stop_relay "$CLIENT"
stop_relay "$SERVER"

# on: refused.
pick_port; P_TLS2=$PORT
pick_port; P_OUT2=$PORT
cat >"$T/on.conf" <<CONF
$(relay_globals)
[strict]
accept = 127.0.0.1:$P_TLS2
connect = 127.0.0.1:$P_OUT2
cert = $T/server.pem
$CCM
ktls = on
CONF
if [ $kernel = no ]; then
	"$KTLSRELAY_BIN/ktlsrelay" --foreground "$T/on.conf" >"$T/on.log" 2>&1 &&
		fail "ktls = on started on a kernel without the TLS module"
	grep -Eq "on.conf:[0-9]+: \[strict\] ktls = on, but kernel has no TLS ULP" "$T/on.log" ||
		fail "unclear refusal: $(cat "$T/on.log")"
	log "ktls = on refused to start: $(tail -n 1 "$T/on.log")"
else
	start_relay "$T/on.conf" "$P_TLS2"; STRICT=$RELAY_PID; STRICT_LOG=$RELAY_LOG
	sink_start strict.got "$P_OUT2"
	make_random "$T/small" 1
	openssl s_client -quiet -connect "127.0.0.1:$P_TLS2" -CAfile "$T/ca.pem" \
		-ciphersuites TLS_AES_128_CCM_SHA256 <"$T/small" >/dev/null 2>"$T/s_client.err"
	sleep 1
	log_expect "$STRICT_LOG" 'closed .*result=refused why="ktls = on, but [^"]*CCM' '' \
		"ktls = on refused the connection"
	[ "$(file_size "$T/strict.got")" -eq 0 ] || fail "the backend got bytes of a refused connection"
	stop_relay "$STRICT"
fi
pass
