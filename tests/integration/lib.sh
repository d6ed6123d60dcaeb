# lib.sh - shared helpers of the integration tests; every t_*.sh sources it first.
#
# The same scripts run on the host and inside the kTLS VM (busybox applets, bash, openssl,
# stunnel4, socat), so only those tools are used here: no python, no nc, no coreutils extras.
#
# The relay under test is $KTLSRELAY_BIN/ktlsrelay. With KTLSRELAY_RELAY=stunnel it is stunnel4
# instead: ktlsrelay reads stunnel's configuration format, so every test can check its own
# machinery against the program it replaces.
#
# Environment: KTLSRELAY_BIN (where ktlsrelay is), KTLSRELAY_RELAY=stunnel (self-check),
# KTLSRELAY_TEST_KTLS=on|off|auto (adds `ktls = ...` to every ktlsrelay configuration; with `on`,
# a passing test must also show that every relay connection ran in the kernel: each established
# line says tx=kernel rx=kernel, and /proc/net/tls_stat counted at least that many TX and RX
# sockets — the kernel's own word, not only our log),
# KTLSRELAY_TEST_MB (transfer size, default 64 MiB; the VM uses less), KTLSRELAY_TEST_KEEP=1
# (keep the temporary folder), KTLSRELAY_STUNNEL (stunnel binary, default stunnel4).
#
# Conventions: exit 0 pass, 1 fail, 77 skip. Everything a test starts goes through spawn (or is
# registered with track_pid) so the EXIT trap can kill it; logs registered with keep_log are
# printed when the test fails.

set -u -o pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA_DIR=$LIB_DIR/data
TEST_NAME=$(basename "$0" .sh)
MB=${KTLSRELAY_TEST_MB:-64}
RELAY_KIND=${KTLSRELAY_RELAY:-ktlsrelay}
STUNNEL=${KTLSRELAY_STUNNEL:-stunnel4}

T=$(mktemp -d "${TMPDIR:-/tmp}/ktlsrelay-it.XXXXXX") || exit 1
chmod 755 "$T"

KTLS_MODE=${KTLSRELAY_TEST_KTLS:-}
if [ "$KTLS_MODE" = on ]; then
	. "$LIB_DIR/../vm/tls_stat.sh"
	tls_stat_snapshot "$T/tls_stat.probe" || { echo "ktls = on needs /proc/net/tls_stat" >&2; exit 1; }
	# Each ktlsrelay process probes the kernel once at start with test sockets that the
	# counters see too: measure what one probe adds, so the check can subtract it.
	"$KTLSRELAY_BIN/ktlsrelay" --version >/dev/null
	tls_stat_snapshot "$T/tls_stat.before"
	PROBE_TX=$(($(tls_stat_value TlsTxSw "$T/tls_stat.before") - $(tls_stat_value TlsTxSw "$T/tls_stat.probe")))
	PROBE_RX=$(($(tls_stat_value TlsRxSw "$T/tls_stat.before") - $(tls_stat_value TlsRxSw "$T/tls_stat.probe")))
fi
PIDS=()
LOGS=()
USED_PORTS=" "

log()
{
	echo "[$TEST_NAME] $*" >&2
}

fail()
{
	log "FAIL: $*"
	exit 1
}

skip()
{
	log "SKIP: $*"
	exit 77
}

pass()
{
	[ "$KTLS_MODE" = on ] && ! is_stunnel && kernel_path_check
	log "PASS"
	exit 0
}

# kernel_path_check: with KTLSRELAY_TEST_KTLS=on, every connection the relays established ran
# in the kernel both ways, and the kernel's counters agree.
kernel_path_check()
{
	local n user starts tx rx
	n=$(cat "$T"/relay*.log 2>/dev/null | grep -c ' established .*tx=kernel rx=kernel')
	user=$(cat "$T"/relay*.log 2>/dev/null | grep ' established ' | grep -v 'tx=kernel rx=kernel' | head -n 1)
	[ -z "$user" ] || fail "ktls = on, but a connection ran in user space: $user"
	if [ "$n" -eq 0 ]; then
		log "kernel path: no relay connection was established in this test, nothing to check"
		return 0
	fi
	# Every relay connection has one kTLS socket with TX and RX keys; each relay start added
	# one probe's worth. Fewer than that: some connection did not really get kernel keys.
	starts=$(cat "$T"/relay*.log 2>/dev/null | grep -c ' started: ')
	tx=$(tls_stat_delta "$T/tls_stat.before" TlsTxSw)
	rx=$(tls_stat_delta "$T/tls_stat.before" TlsRxSw)
	[ "$tx" -ge $((n + starts * PROBE_TX)) ] && [ "$rx" -ge $((n + starts * PROBE_RX)) ] ||
		fail "ktls = on: $n connections logged tx=kernel rx=kernel, but /proc/net/tls_stat counted TX +$tx RX +$rx for $starts relay starts (each probe: TX $PROBE_TX RX $PROBE_RX)"
	log "kernel path: $n relay connections in the kernel; tls_stat TX +$tx RX +$rx ($starts relay starts, probe TX $PROBE_TX RX $PROBE_RX)"
}

is_stunnel()
{
	[ "$RELAY_KIND" = stunnel ]
}

track_pid()
{
	PIDS+=("$1")
}

keep_log()
{
	LOGS+=("$1")
}

_cleanup()
{
	local rc=$? p f
	trap - EXIT
	# disowned: no "Killed" job reports in the test output
	disown -a 2>/dev/null
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "${LOGS[@]}"; do
			[ -s "$f" ] || continue
			echo "----- ${f#"$T"/} (last 40 lines) -----" >&2
			tail -n 40 "$f" >&2
		done
	fi
	if [ -n "${KTLSRELAY_TEST_KEEP:-}" ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM HUP

# spawn NAME CMD...: runs CMD in the background, stdout to $T/NAME.out, stderr to $T/NAME.err,
# stdin from $SPAWN_IN (default /dev/null: what bash gives a background job anyway). Sets
# SPAWN_PID.
spawn()
{
	local name=$1
	shift
	"$@" <"${SPAWN_IN:-/dev/null}" >"$T/$name.out" 2>"$T/$name.err" &
	SPAWN_PID=$!
	track_pid "$SPAWN_PID"
	keep_log "$T/$name.err"
}

# wait_pid PID SECONDS: waits for PID to exit, at most SECONDS; sets WAIT_RC (124 on timeout,
# and the process is then killed).
wait_pid()
{
	local pid=$1 limit=$(($2 * 10)) i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge $limit ]; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			WAIT_RC=124
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$pid" 2>/dev/null
	WAIT_RC=$?
	return 0
}

now_ms()
{
	# busybox date has no %N everywhere; /proc/uptime is enough for timing bounds.
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# ---- ports -------------------------------------------------------------------------------

# port_in_use PORT: any TCP socket (any state) on this local port, IPv4 or IPv6.
port_in_use()
{
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'NR > 1 { split($2, a, ":"); if (a[2] == h) found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# port_listening PORT: a socket in LISTEN state (0A) on this port.
port_listening()
{
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'NR > 1 { split($2, a, ":"); if (a[2] == h && $4 == "0A") found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# pick_port: a free port below the ephemeral range (32768+), so no outgoing connection of this
# or another test can hold it. Sets PORT.
pick_port()
{
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		case "$USED_PORTS" in *" $p "*) continue ;; esac
		port_in_use "$p" && continue
		USED_PORTS="$USED_PORTS$p "
		PORT=$p
		return 0
	done
	fail "no free port found"
}

# wait_until SECONDS COMMAND [ARG...]: runs COMMAND every 50 ms until it succeeds (0) or SECONDS
# have passed (1).
wait_until()
{
	local limit=$(($1 * 20)) i=0
	shift
	until "$@"; do
		[ $i -ge $limit ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

# wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT (10 s).
wait_port()
{
	wait_until "${2:-10}" port_listening "$1"
}

# ---- files -------------------------------------------------------------------------------

# make_random FILE MIB
make_random()
{
	head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1" || fail "cannot write $1"
}

sha()
{
	sha256sum "$1" | awk '{ print $1 }'
}

file_size()
{
	if [ -e "$1" ]; then
		wc -c <"$1" | awk '{ print $1 }'
	else
		echo 0
	fi
}

# same_bytes EXPECTED GOT WHAT: fails the test unless both files have the same sha256.
same_bytes()
{
	local a b
	a=$(sha "$1")
	[ -e "$2" ] || fail "$3: $2 was never written"
	b=$(sha "$2")
	[ "$a" = "$b" ] || fail "$3: sha256 differs: sent $(file_size "$1") bytes ($a)," \
		"received $(file_size "$2") bytes ($b)"
	log "$3: $(file_size "$1") bytes, sha256 ok"
}

# wait_size FILE BYTES SECONDS: waits until FILE holds at least BYTES.
wait_size()
{
	wait_until "$3" has_size "$1" "$2"
}

has_size()
{
	[ "$(file_size "$1")" -ge "$2" ]
}

# ---- certificates ------------------------------------------------------------------------

# make_certs: in $T: ca.pem, server.pem, client.pem (each cert + key in one PEM, as stunnel's
# `cert` takes), the same split into *.crt/*.key, and a second, unrelated CA (wrongca.pem) with
# wrongclient.pem signed by it. EC P-256, SAN DNS:localhost and IP:127.0.0.1. Our own openssl
# config: the VM has no openssl.cnf.
make_certs()
{
	cat >"$T/openssl.cnf" <<-'EOF'
		[req]
		distinguished_name = dn
		prompt = no
		[dn]
		CN = unused
		[ca_ext]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		[leaf_ext]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth, clientAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid
	EOF
	local ca name issuer
	for ca in ca wrongca; do
		openssl req -config "$T/openssl.cnf" -x509 -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=ktlsrelay test $ca" -extensions ca_ext -keyout "$T/$ca.key" \
			-out "$T/$ca.pem" 2>"$T/certs.err" ||
			fail "openssl req for $ca: $(cat "$T/certs.err")"
	done
	for name in server:ca client:ca wrongclient:wrongca; do
		issuer=${name#*:}
		name=${name%:*}
		openssl req -config "$T/openssl.cnf" -new -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
			-keyout "$T/$name.key" -out "$T/$name.csr" 2>"$T/certs.err" &&
			openssl x509 -req -in "$T/$name.csr" -CA "$T/$issuer.pem" \
				-CAkey "$T/$issuer.key" -set_serial "$RANDOM$RANDOM" -days 2 \
				-extfile "$T/openssl.cnf" -extensions leaf_ext \
				-out "$T/$name.crt" 2>"$T/certs.err" ||
			fail "certificate $name: $(cat "$T/certs.err")"
		cat "$T/$name.crt" "$T/$name.key" >"$T/$name.pem"
	done
	# stunnel warns about a key file others can read.
	chmod 600 "$T"/*.key "$T"/server.pem "$T"/client.pem "$T"/wrongclient.pem
}

# ---- relays ------------------------------------------------------------------------------

# relay_globals: the global lines every test config starts with (foreground, logs to stderr).
relay_globals()
{
	echo "foreground = yes"
	echo "debug = 6"
	[ -n "$KTLS_MODE" ] && ! is_stunnel && echo "ktls = $KTLS_MODE"
	if is_stunnel; then
		# stunnel's compiled-in pid file would be shared by every stunnel on the machine.
		echo "pid ="
		echo "syslog = no"
	fi
}

# peer_globals: the same for stunnel4 used as a TLS peer (never the program under test).
peer_globals()
{
	printf 'foreground = yes\ndebug = 6\npid =\nsyslog = no\n'
}

RELAY_PID=
RELAY_LOG=
RELAY_N=0

# _start KIND CONF PORT...: starts a relay of KIND (ktlsrelay|stunnel) in the foreground, its
# log in $T/NAME.log; returns when it has logged its start-up and every PORT listens.
_start()
{
	local kind=$1 conf=$2 name pattern p i
	shift 2
	RELAY_N=$((RELAY_N + 1))
	if [ "$kind" = stunnel ]; then
		name=stunnel$RELAY_N
		pattern="Configuration successful"
		"$STUNNEL" "$conf" >"$T/$name.log" 2>&1 &
	else
		name=relay$RELAY_N
		pattern="listening on"
		[ -x "$KTLSRELAY_BIN/ktlsrelay" ] ||
			fail "no $KTLSRELAY_BIN/ktlsrelay (build failed?)"
		"$KTLSRELAY_BIN/ktlsrelay" --foreground "$conf" >"$T/$name.log" 2>&1 &
	fi
	RELAY_PID=$!
	RELAY_LOG=$T/$name.log
	track_pid "$RELAY_PID"
	keep_log "$RELAY_LOG"
	for i in $(seq 1 200); do
		kill -0 "$RELAY_PID" 2>/dev/null ||
			fail "$name ($conf) exited during start-up: $(tail -n 5 "$RELAY_LOG")"
		grep -q "$pattern" "$RELAY_LOG" && break
		sleep 0.05
	done
	grep -q "$pattern" "$RELAY_LOG" || fail "$name did not log '$pattern' within 10 s"
	for p in "$@"; do
		wait_port "$p" 10 || fail "$name does not listen on port $p"
	done
}

# start_relay CONF PORT...: the program under test. Sets RELAY_PID and RELAY_LOG.
start_relay()
{
	_start "$RELAY_KIND" "$@"
}

# start_peer CONF PORT...: stunnel4 as a real TLS peer. Sets RELAY_PID and RELAY_LOG.
start_peer()
{
	_start stunnel "$@"
}

# stop_relay PID [LOG]: SIGTERM, and the exit code must be 0 (under AddressSanitizer a leak or
# an error makes it non-zero).
stop_relay()
{
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || fail "relay $pid was no longer running"
	wait_pid "$pid" 20 || fail "relay $pid did not exit within 20 s of SIGTERM"
	[ "$WAIT_RC" -eq 0 ] || fail "relay $pid exited with $WAIT_RC after SIGTERM"
}

# relay_alive PID: the relay is still running.
relay_alive()
{
	kill -0 "$1" 2>/dev/null || fail "relay $1 died: $(tail -n 5 "${2:-/dev/null}" 2>/dev/null)"
}

# ---- plaintext peers (socat) -------------------------------------------------------------
# socat's -t (default 0.5 s) is how long it waits for the other direction after one direction
# ended: large wherever a reply is awaited. -T is an inactivity timeout: a safety net, so a hung
# relay makes a test fail rather than hang.

SOCAT_T="-t 30 -T 30"

# A receiving end must not half-close its sending direction at once (socat -u does): some
# peers (openssl s_server, s_client -no_ign_eof) end the whole connection on close_notify. So
# receivers "send" from $T/hold, a fifo that never delivers a byte nor an end.
HOLD=
hold()
{
	[ -n "$HOLD" ] && return 0
	HOLD=$T/hold
	mkfifo "$HOLD" || fail "mkfifo"
	(exec sleep 600) >"$HOLD" &
	track_pid $!
}

# sink_start NAME PORT: accepts one connection, writes what arrives to $T/NAME, never sends.
sink_start()
{
	hold
	# -d: socat reports a reset (RST) only as a warning, which it prints only with -d.
	spawn "$1" socat -d -T 30 "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr" \
		"OPEN:$HOLD,rdonly!!OPEN:$T/$1,wronly,creat,trunc"
	SINK_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "sink $1 not listening on $2"
}

# source_start NAME PORT FILE: accepts one connection, sends FILE, closes.
source_start()
{
	spawn "$1" socat $SOCAT_T -u "OPEN:$3,rdonly" "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr"
	SOURCE_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "source $1 not listening on $2"
}

# duplex_server NAME PORT SEND RECV: accepts one connection, sends SEND while writing what
# arrives to RECV (both directions at once); each direction half-closes when done.
duplex_server()
{
	spawn "$1" socat $SOCAT_T "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr" \
		"OPEN:$3,rdonly!!OPEN:$4,wronly,creat,trunc"
	DUPLEX_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "duplex server $1 not listening on $2"
}

# reply_server NAME PORT RECV REPLY: reads the whole request into RECV (until the client's
# half-close), only then sends REPLY and closes.
reply_server()
{
	spawn "$1" socat $SOCAT_T "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr" \
		"SYSTEM:cat >$3 && cat $4"
	REPLY_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "reply server $1 not listening on $2"
}

# echo_server NAME PORT: echoes every connection (fork); logs each accepted connection.
echo_server()
{
	# -b 4096: with its default 8 KiB blocks socat's PIPE echo can deadlock itself under load
	# (seen by the fault tests: one echo child stopped and never timed out).
	spawn "$1" socat -d -d -b 4096 $SOCAT_T "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork" PIPE
	ECHO_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "echo server $1 not listening on $2"
}

# echo_connections NAME: how many connections the echo server NAME accepted.
echo_connections()
{
	grep -c "accepting connection from" "$T/$1.err"
}

# send_file PORT FILE: connects, sends FILE, closes. Returns socat's exit code.
send_file()
{
	socat $SOCAT_T -u "OPEN:$2,rdonly" "TCP4:127.0.0.1:$1" 2>>"$T/clients.err"
}

# recv_file PORT FILE: connects, writes what arrives to FILE until the peer closes.
recv_file()
{
	hold
	socat -T 30 "OPEN:$HOLD,rdonly!!OPEN:$2,wronly,creat,trunc" "TCP4:127.0.0.1:$1" \
		2>>"$T/clients.err"
}

# duplex_client PORT SEND RECV: sends SEND while receiving into RECV; waits for both to end.
duplex_client()
{
	socat $SOCAT_T "OPEN:$2,rdonly!!OPEN:$3,wronly,creat,trunc" "TCP4:127.0.0.1:$1" \
		2>>"$T/clients.err"
}
keep_log "$T/clients.err"

# check_echo PORT MIB WHAT: sends MIB of random bytes through PORT to an echo service and
# checks what comes back.
check_echo()
{
	local f=$T/echo.$RANDOM
	make_random "$f.in" "$2"
	duplex_client "$1" "$f.in" "$f.back" || fail "$3: client failed (socat $?)"
	same_bytes "$f.in" "$f.back" "$3"
	rm -f "$f.in" "$f.back"
}

# ---- TLS peers (openssl) -----------------------------------------------------------------

# s_client_send PORT FILE [OPTIONS...]: sends FILE over TLS, then close_notify, and exits.
s_client_send()
{
	local port=$1 file=$2
	shift 2
	openssl s_client -connect "127.0.0.1:$port" -quiet -no_ign_eof -nocommands \
		-CAfile "$T/ca.pem" \
		-verify_return_error -verify_hostname localhost "$@" <"$file" \
		>>"$T/s_client.out" 2>>"$T/s_client.err"
}
keep_log "$T/s_client.err"

# ---- relay logs ---------------------------------------------------------------------------

# log_expect LOG KTLSRELAY_REGEX STUNNEL_REGEX WHAT: the relay's log must match the regex for
# the program under test (an empty regex: nothing to check for that program).
log_expect()
{
	local re=$2
	is_stunnel && re=$3
	[ -n "$re" ] || return 0
	grep -Eq -- "$re" "$1" || fail "$4: no line matching /$re/ in ${1#"$T"/}"
}

# expect_tls13 LOG: the relay logged a TLS 1.3 connection.
expect_tls13()
{
	log_expect "$1" 'established .*version=TLSv1\.3 cipher=TLS_' 'TLSv1\.3 ciphersuite: TLS_' \
		"TLS 1.3 in ${1#"$T"/}"
}

# ---- the usual topology -------------------------------------------------------------------

# relay_server_conf FILE [EXTRA_LINES]: the relay under test in server mode, [server]: TLS in at
# P_TLS, plaintext out to P_OUT, the test certificate.
relay_server_conf()
{
	cat >"$1" <<-CONF
		$(relay_globals)
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$P_OUT
		cert = $T/server.pem
		${2:-}
	CONF
}

# relay_client_conf FILE [EXTRA_LINES]: the relay under test in client mode, [client]: plaintext
# in at P_IN, TLS out to P_TLS (at TLS_HOST, default 127.0.0.1), verifying the server (CA,
# checkHost localhost).
relay_client_conf()
{
	client_conf "$(relay_globals)" client "$@"
}

# peer_client_conf FILE [EXTRA_LINES]: the same for the stunnel4 peer, [peer].
peer_client_conf()
{
	client_conf "$(peer_globals)" peer "$@"
}

client_conf()
{
	cat >"$3" <<-CONF
		$1
		[$2]
		client = yes
		accept = 127.0.0.1:$P_IN
		connect = ${TLS_HOST:-127.0.0.1}:$P_TLS
		CAfile = $T/ca.pem
		verifyChain = yes
		checkHost = localhost
		${4:-}
	CONF
}

# setup_chain [EXTRA_SERVER_LINES [EXTRA_CLIENT_LINES]]: plaintext in at P_IN -> relay client ->
# TLS at P_TLS -> relay server -> plaintext out at P_OUT (nothing listens there yet). The client
# verifies the server (CA, checkHost localhost). Sets P_IN P_TLS P_OUT CLIENT SERVER and the
# logs CLIENT_LOG SERVER_LOG.
setup_chain()
{
	make_certs
	pick_port; P_IN=$PORT
	pick_port; P_TLS=$PORT
	pick_port; P_OUT=$PORT
	relay_server_conf "$T/server.conf" "${1:-}"
	relay_client_conf "$T/client.conf" "${2:-}"
	start_relay "$T/server.conf" "$P_TLS"
	SERVER=$RELAY_PID
	SERVER_LOG=$RELAY_LOG
	start_relay "$T/client.conf" "$P_IN"
	CLIENT=$RELAY_PID
	CLIENT_LOG=$RELAY_LOG
}

# s_client_recv PORT FILE [OPTIONS...]: receives over TLS into FILE until the server closes.
# -quiet implies -ign_eof: stdin's end does not end the connection.
s_client_recv()
{
	local port=$1 file=$2
	shift 2
	openssl s_client -connect "127.0.0.1:$port" -quiet -CAfile "$T/ca.pem" \
		-verify_return_error -verify_hostname localhost "$@" </dev/null >"$file" \
		2>>"$T/s_client.err"
}

# ---- transfers ---------------------------------------------------------------------------

# xfer_up_down IN_PORT OUT_PORT: MB MiB from a client at IN_PORT to a server at OUT_PORT on one
# connection, then MB MiB from a server at OUT_PORT to a client at IN_PORT on another.
xfer_up_down()
{
	local in=$1 out=$2
	[ -e "$T/up.src" ] || make_random "$T/up.src" "$MB"
	[ -e "$T/down.src" ] || make_random "$T/down.src" "$MB"
	sink_start up.got "$out"
	send_file "$in" "$T/up.src" || fail "upload: client socat failed"
	wait_pid "$SINK_PID" 30 || fail "upload: the sink never saw the end of the stream"
	same_bytes "$T/up.src" "$T/up.got" "upload"
	source_start down.srv "$out" "$T/down.src"
	recv_file "$in" "$T/down.got" || fail "download: client socat failed"
	wait_pid "$SOURCE_PID" 30
	same_bytes "$T/down.src" "$T/down.got" "download"
}

# ---- daemons ------------------------------------------------------------------------------

# start_daemon CONF PIDFILE PORT...: the program under test as the seed runs it: no foreground
# flag, so it daemonizes; the command must return 0 once it is set up, and PIDFILE must name a
# live process. Sets DAEMON_PID.
start_daemon()
{
	local conf=$1 pidfile=$2 rc i p
	shift 2
	if is_stunnel; then
		"$STUNNEL" "$conf" >"$T/daemon.start" 2>&1
	else
		"$KTLSRELAY_BIN/ktlsrelay" "$conf" >"$T/daemon.start" 2>&1
	fi
	rc=$?
	keep_log "$T/daemon.start"
	[ "$rc" -eq 0 ] || fail "daemon start-up returned $rc: $(cat "$T/daemon.start")"
	for i in $(seq 1 100); do
		[ -s "$pidfile" ] && break
		sleep 0.1
	done
	[ -s "$pidfile" ] || fail "no pid file $pidfile"
	DAEMON_PID=$(tr -dc 0-9 <"$pidfile")
	[ -n "$DAEMON_PID" ] || fail "pid file $pidfile holds no pid: $(cat "$pidfile")"
	track_pid "$DAEMON_PID"
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "pid $DAEMON_PID from $pidfile is not running"
	for p in "$@"; do
		wait_port "$p" 10 || fail "daemon does not listen on port $p"
	done
}

# stop_daemon PID: SIGTERM; the process must be gone within 20 s (it is not our child: no
# exit code to check).
stop_daemon()
{
	local i
	kill -TERM "$1" 2>/dev/null || fail "daemon $1 was no longer running"
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "daemon $1 still running 20 s after SIGTERM"
}

# seed_conf NAME OUT CERT ACCEPT_PORT CONNECT_HOST CONNECT_PORT: the seed's config NAME from
# data/ with its placeholders filled; the chroot folder is made here (CHROOT), as an operator
# would make /var/run/stunnel.
seed_conf()
{
	CHROOT=$(mktemp -d "$T/chroot.XXXXXX") || fail "mktemp"
	chmod 755 "$CHROOT"
	# As Debian makes /var/run/stunnel4 for its user: stunnel writes the pid file after
	# dropping privileges.
	chown nobody "$CHROOT" || fail "chown nobody"
	sed -e "s|@CHROOT@|$CHROOT|" -e "s|@CERT@|$3|" -e "s|@ACCEPT_PORT@|$4|" \
		-e "s|@CONNECT_HOST@|$5|" -e "s|@CONNECT_PORT@|$6|" "$DATA_DIR/$1" >"$2" ||
		fail "cannot write $2"
	# stunnel4 has no fallback for Debian's missing group "nobody" (its group is nogroup);
	# ktlsrelay must run the seed's text as it is.
	if is_stunnel && ! grep -q '^nobody:' /etc/group; then
		sed -i 's/^setgid = nobody$/setgid = nogroup/' "$2"
	fi
}

# expect_jailed PID DIR USER: the process runs chrooted in DIR as USER.
expect_jailed()
{
	local root uid want
	root=$(readlink "/proc/$1/root")
	[ "$root" = "$2" ] || fail "process $1 is chrooted in '$root', not in $2"
	want=$(awk -F: -v u="$3" '$1 == u { print $3 }' /etc/passwd)
	uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "/proc/$1/status")
	[ "$uid" = "$want $want $want $want" ] || fail "process $1 has uids '$uid', not $3 ($want)"
	log "pid $1 runs as $3 in chroot $2"
}

# ---- hostile peers ------------------------------------------------------------------------

# hostile_setup: a relay server (TIMEOUTbusy = 3) at P_TLS in front of an echo server at P_OUT
# ("echo"), and a well-behaved stunnel4 client at P_IN to prove the relay still serves.
HOSTILE_BUSY=3
hostile_setup()
{
	make_certs
	pick_port; P_IN=$PORT
	pick_port; P_TLS=$PORT
	pick_port; P_OUT=$PORT
	relay_server_conf "$T/server.conf" "TIMEOUTbusy = $HOSTILE_BUSY"
	peer_client_conf "$T/peer.conf"
	echo_server echo "$P_OUT"
	start_relay "$T/server.conf" "$P_TLS"
	SERVER=$RELAY_PID
	SERVER_LOG=$RELAY_LOG
	start_peer "$T/peer.conf" "$P_IN"
	PEER=$RELAY_PID
}

# hostile PAYLOAD MAX_SECONDS: connects to P_TLS, sends PAYLOAD and then nothing, without
# closing its side; the relay must close the connection within MAX_SECONDS. Sets CLOSED_MS.
hostile()
{
	local f=$T/hostile.$RANDOM t0 t1
	mkfifo "$f" || fail "mkfifo"
	(cat "$1"; exec sleep 120) >"$f" &
	track_pid $!
	t0=$(now_ms)
	socat -T 60 "OPEN:$f,rdonly!!OPEN:$f.resp,wronly,creat" "TCP4:127.0.0.1:$P_TLS" \
		2>>"$T/clients.err"
	t1=$(now_ms)
	CLOSED_MS=$((t1 - t0))
	log "$(basename "$1"): closed by the relay after $CLOSED_MS ms" \
		"($(file_size "$f.resp") bytes back)"
	[ "$CLOSED_MS" -le $(($2 * 1000)) ] ||
		fail "$(basename "$1"): the relay kept the connection $CLOSED_MS ms (limit $2 s)"
}

# still_serving: the relay is alive, and carries a 1 MiB echo through a real TLS client; no
# other connection ever reached the backend.
still_serving()
{
	relay_alive "$SERVER" "$SERVER_LOG"
	check_echo "$P_IN" 1 "a good client after the hostile one"
	[ "$(echo_connections echo)" -eq 1 ] ||
		fail "the backend saw $(echo_connections echo) connections, not just the good one"
	stop_relay "$PEER"
	stop_relay "$SERVER"
}

# ---- mutual TLS ---------------------------------------------------------------------------

# mtls_setup: a relay server at P_TLS that requires a client certificate from ca.pem, in front of
# a sink at P_OUT ("up.got", started here: it must see only accepted clients).
mtls_setup()
{
	make_certs
	pick_port; P_TLS=$PORT
	pick_port; P_OUT=$PORT
	cat >"$T/server.conf" <<-CONF
		$(relay_globals)
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$P_OUT
		cert = $T/server.pem
		CAfile = $T/ca.pem
		verifyChain = yes
	CONF
	start_relay "$T/server.conf" "$P_TLS"
	SERVER=$RELAY_PID
	SERVER_LOG=$RELAY_LOG
	make_random "$T/a" "$MB"
	sink_start up.got "$P_OUT"
}

# mtls_refused WHAT [S_CLIENT_OPTIONS...]: a client that must be refused: nothing reaches the
# backend, the refusal is logged with the word "certificate"; then a client with the right
# certificate is served.
mtls_refused()
{
	local what=$1
	shift
	make_random "$T/bad" 1
	s_client_send "$P_TLS" "$T/bad" "$@"
	log "$what: s_client exited with $?"
	sleep 0.5
	port_listening "$P_OUT" || fail "$what: the refused client reached the backend"
	[ "$(file_size "$T/up.got")" -eq 0 ] || fail "$what: bytes reached the backend"
	log_expect "$SERVER_LOG" '\[server\] #[0-9]+ .*certificate' \
		'certificate verify failed|peer did not return a certificate|Rejected by CERT' \
		"$what: refusal logged"
	relay_alive "$SERVER" "$SERVER_LOG"
	s_client_send "$P_TLS" "$T/a" -cert "$T/client.crt" -key "$T/client.key" ||
		fail "the right client failed after the refused one"
	wait_pid "$SINK_PID" 30 || fail "the sink never saw the end of the stream"
	same_bytes "$T/a" "$T/up.got" "the right client after the refused one"
	stop_relay "$SERVER"
}

# ---- server name checks -------------------------------------------------------------------

# checkhost_setup NAME: a relay client at P_IN (CAfile, verifyChain, checkHost = NAME) towards
# a stunnel4 server at P_TLS (certificate for localhost and 127.0.0.1) in front of P_OUT.
checkhost_setup()
{
	make_certs
	pick_port; P_IN=$PORT
	pick_port; P_TLS=$PORT
	pick_port; P_OUT=$PORT
	cat >"$T/peer.conf" <<-CONF
		$(peer_globals)
		[peer]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$P_OUT
		cert = $T/server.pem
	CONF
	cat >"$T/client.conf" <<-CONF
		$(relay_globals)
		[client]
		client = yes
		accept = 127.0.0.1:$P_IN
		connect = 127.0.0.1:$P_TLS
		CAfile = $T/ca.pem
		verifyChain = yes
		checkHost = $1
	CONF
	start_peer "$T/peer.conf" "$P_TLS"
	PEER=$RELAY_PID
	start_relay "$T/client.conf" "$P_IN"
	CLIENT=$RELAY_PID
	CLIENT_LOG=$RELAY_LOG
}

# saw_reset NAME: the socat peer spawned as NAME saw its connection fail. socat 1.7 reports a
# reset on read as a warning ("W read(...): Connection reset by peer"), printed only with -d,
# and still exits 0, so the exit code alone cannot tell; its stderr can.
saw_reset()
{
	[ "${WAIT_RC:-0}" -ne 0 ] && return 0
	grep -Eq ' [EW] (read|write|send|recv)[a-z]*\(.*(reset by peer|Broken pipe)' "$T/$1.err"
}
