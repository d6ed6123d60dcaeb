#!/usr/bin/env bash
# The plaintext sender resets its connection mid-stream (socat with SO_LINGER 0, killed with
# SIGKILL: the kernel answers with a RST). The relay client must not turn that into a clean
# TLS end (close_notify), which would tell the far side that the data is complete: the TLS
# peer (openssl s_server) must see the stream end in error ("unexpected eof" or a reset), and
# get no close_notify.
#
# Why this observes what it claims: s_server -msg writes every record it receives to -msgfile,
# alerts by name; a clean sender first proves that a close_notify shows there, then the reset
# sender must leave none. (s_server -quiet prints nothing at all on a TCP reset.)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port; P_IN=$PORT
pick_port; P_TLS=$PORT
relay_client_conf "$T/client.conf"
start_relay "$T/client.conf" "$P_IN"; CLIENT=$RELAY_PID; CLIENT_LOG=$RELAY_LOG
hold
make_random "$T/a" 2

s_server()
{
	spawn "$1" openssl s_server -quiet -nbio -naccept 1 -accept "127.0.0.1:$P_TLS" \
		-cert "$T/server.crt" -key "$T/server.key" -msg -msgfile "$T/$1.msg"
	SRV=$SPAWN_PID
	wait_port "$P_TLS" 5 || fail "s_server not listening"
}

# A clean end first: the machinery must not see an error where there is none.
SPAWN_IN=$HOLD s_server clean
send_file "$P_IN" "$T/a" || fail "clean sender failed"
wait_pid "$SRV" 20 || fail "s_server did not end after a clean close"
same_bytes "$T/a" "$T/clean.out" "clean transfer"
grep -qi "error" "$T/clean.err" && fail "s_server reported an error after a clean close"
grep -q "^<<< .*close_notify" "$T/clean.msg" || fail "s_server's -msg log shows no close_notify after a clean close"

# Now a reset in mid-stream: 2 MiB, then silence, then SIGKILL with SO_LINGER 0.
SPAWN_IN=$HOLD s_server reset
mkfifo "$T/feed"
(cat "$T/a"; exec sleep 120) >"$T/feed" &
track_pid $!
spawn sender socat -T 60 -u "OPEN:$T/feed,rdonly" "TCP4:127.0.0.1:$P_IN,linger=0"
SENDER=$SPAWN_PID
wait_size "$T/reset.out" $((2 * 1024 * 1024)) 20 || fail "the first 2 MiB never arrived"
kill -KILL "$SENDER"
wait_pid "$SRV" 10 || fail "s_server still connected 10 s after the sender's reset"
grep -q "^<<< .*close_notify" "$T/reset.msg" &&
	fail "the TLS peer got a close_notify (a clean end) after the sender was reset"
log_expect "$CLIENT_LOG" '\[client\] #[0-9]+ closed .*result=(reset|error)' '' "abort logged"
stop_relay "$CLIENT"
pass
