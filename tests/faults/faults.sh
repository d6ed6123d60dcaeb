# tests/faults/faults.sh - shell helpers of the fault tests (tests/integration/t_fault_*,
# t_failover_*, the timeout and signal-under-load tests), sourced after tests/integration/lib.sh.
# The programs are built into BUILD/tests (here and in the VM: KTLSRELAY_BIN is BUILD/bin).

FAULTS_BIN=$(cd "$KTLSRELAY_BIN/../tests" 2>/dev/null && pwd) || fail "no $KTLSRELAY_BIN/../tests"
for p in faultproxy holdserver; do
	[ -x "$FAULTS_BIN/$p" ] || fail "no $FAULTS_BIN/$p (build failed?)"
done

# faultproxy NAME LISTEN_PORT CONNECT_PORT ARGS...: the fault injector (tests/faults/faultproxy.c)
# for one connection, its log in $T/NAME.err. Sets FP_PID.
faultproxy()
{
	local name=$1 lport=$2
	shift
	spawn "$name" "$FAULTS_BIN/faultproxy" "$@"
	FP_PID=$SPAWN_PID
	wait_port "$lport" 5 || fail "faultproxy $name not listening on $lport"
}

# holdserver NAME PORT ARGS...: a backend that never reads (--accept) or never answers a connect
# (--blackhole). Sets HOLD_PID.
holdserver()
{
	local name=$1 port=$2
	shift 2
	spawn "$name" "$FAULTS_BIN/holdserver" "$port" "$@"
	HOLD_PID=$SPAWN_PID
	wait_port "$port" 5 || fail "holdserver $name not listening on $port"
}

# expect_prefix SRC GOT WHAT: GOT is a proper prefix of SRC (shorter, and byte for byte the same
# as SRC's start): a cut stream delivered nothing that was not sent, and not all of it.
expect_prefix()
{
	local n
	n=$(file_size "$2")
	[ "$n" -lt "$(file_size "$1")" ] || fail "$3: all $n bytes arrived: the fault changed nothing"
	[ "$(head -c "$n" "$1" | sha256sum | awk '{ print $1 }')" = "$(sha "$2")" ] ||
		fail "$3: the $n bytes received are not the start of what was sent: corrupted bytes got through"
	log "$3: $n of $(file_size "$1") bytes arrived, an exact prefix"
}

# closed_line LOG N: the relay's close line of its connection #N.
closed_line()
{
	grep -E "\] #$2 closed " "$1" | tail -n 1
}

# wait_closed LOG N SECONDS: waits until connection #N has its close line.
wait_closed()
{
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ -n "$(closed_line "$1" "$2")" ] && return 0
		sleep 0.1
	done
	return 1
}

# rss_kb PID: the process's resident set (VmRSS), kB.
rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# echo_backend NAME PORT [SOCAT_TIMEOUTS]: echoes every connection (fork), logs each accepted
# connection (echo_connections NAME counts them), like lib.sh's echo_server but with -b 4096.
# socat's PIPE echo is one process that reads the socket into a pipe and the pipe back into the
# socket; with its default 8192-byte blocks a read can be larger than the pipe's free space, and
# the blocking write into the pipe then waits for a drain that only the same process does: under
# load that hung a transfer for good (seen here: the echo child never even hit its -T). A block
# no larger than a pipe page always fits once select() says the pipe is writable.
echo_backend()
{
	spawn "$1" socat -d -d -b 4096 ${3:-$SOCAT_T} "TCP4-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork" PIPE
	ECHO_PID=$SPAWN_PID
	wait_port "$2" 5 || fail "echo backend $1 not listening on $2"
}

# check_echo_kb PORT KIB WHAT: lib.sh's check_echo in KiB: the VM emulates every instruction, and
# a test that opens many connections pays for each one's size there.
check_echo_kb()
{
	local f=$T/echo.$RANDOM
	head -c $(($2 * 1024)) /dev/urandom >"$f.in"
	duplex_client "$1" "$f.in" "$f.back" || fail "$3: client failed (socat $?)"
	same_bytes "$f.in" "$f.back" "$3"
	rm -f "$f.in" "$f.back"
}

# ---- failover ----------------------------------------------------------------------------

# failover_setup SERVICE_LINES...: a relay server (the program under test) with one service per
# argument, each "NAME FAILOVER PORT..." (its connect lines in that order), TIMEOUTconnect = 2,
# and in front of each a stunnel4 client at an accept port, so that
# check_echo_kb "${FAILOVER_IN[NAME]}" ... sends real TLS through it. Sets FAILOVER_IN[NAME],
# SERVER, SERVER_LOG.
declare -A FAILOVER_IN
failover_setup()
{
	local spec name mode ports port svc_lines="" peer_lines="" tls tls_ports=()
	make_certs
	for spec in "$@"; do
		read -r name mode ports <<<"$spec"
		pick_port; FAILOVER_IN[$name]=$PORT
		pick_port; tls=$PORT
		tls_ports+=("$tls")
		svc_lines+="[$name]"$'\n'"accept = 127.0.0.1:$tls"$'\n'"cert = $T/server.pem"$'\n'
		svc_lines+="failover = $mode"$'\n'"TIMEOUTconnect = 2"$'\n'
		for port in $ports; do
			svc_lines+="connect = 127.0.0.1:$port"$'\n'
		done
		peer_lines+="[$name]"$'\n'"client = yes"$'\n'
		peer_lines+="accept = 127.0.0.1:${FAILOVER_IN[$name]}"$'\n'
		peer_lines+="connect = 127.0.0.1:$tls"$'\n'"CAfile = $T/ca.pem"$'\n'
		peer_lines+="verifyChain = yes"$'\n'"checkHost = localhost"$'\n'
	done
	printf '%s\n%s' "$(relay_globals)" "$svc_lines" >"$T/server.conf"
	printf '%s\n%s' "$(peer_globals)" "$peer_lines" >"$T/peer.conf"
	start_relay "$T/server.conf" "${tls_ports[@]}"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
	start_peer "$T/peer.conf" "${FAILOVER_IN[@]}"
}

# connect_failures LOG PORT: how many connects to 127.0.0.1:PORT the relay logged as failed.
connect_failures()
{
	grep -c "connect to 127.0.0.1:$2 failed" "$1"
}

# kernel_saw FAULT (the record tests): on the kernel path, the kernel itself must have refused
# the records whose tag cannot verify (TlsDecryptError), and counted none for the pass-through.
kernel_saw()
{
	[ "$KTLS_MODE" = on ] && ! is_stunnel || return 0
	case $1 in
	none) tls_stat_expect_same "$T/tls_stat.$1" TlsDecryptError ||
		fail "$1: decrypt errors on a clean transfer" ;;
	flip | dup | drop) tls_stat_expect "$T/tls_stat.$1" TlsDecryptError 1 ||
		fail "$1: the kernel counted no decrypt error" ;;
	*) log "$1: kernel TlsDecryptError +$(tls_stat_delta "$T/tls_stat.$1" TlsDecryptError)" ;;
	esac
}
