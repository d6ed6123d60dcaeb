#!/usr/bin/env bash
# --check: a good file exits 0; a bad one exits 1 with "FILE:LINE: message" on stderr, LINE
# being the offending line; a missing certificate is caught too. (stunnel has no --check: in
# the self-check, stunnel must refuse to start the bad file the same way.) A FIFO given as the
# file or as the certificate is refused instead of blocking.
# vm-newest: no (configuration only: --check parses files, no connection)
. "$(dirname "$0")/lib.sh"

make_certs
pick_port
cat >"$T/good.conf" <<CONF
foreground = yes
[server]
accept = 127.0.0.1:$PORT
connect = 127.0.0.1:1
cert = $T/server.pem
CONF
# line 5 is the bad one
cat >"$T/bad.conf" <<CONF
foreground = yes
[server]
accept = 127.0.0.1:$PORT
connect = 127.0.0.1:1
no_such_option = 1
cert = $T/server.pem
CONF
sed "s|cert = .*|cert = $T/missing.pem|" "$T/good.conf" >"$T/nocert.conf"

check()
{
	if is_stunnel; then
		timeout 5 "$STUNNEL" "$1"
	else
		"$KTLSRELAY_BIN/ktlsrelay" --check "$1"
	fi
}

if is_stunnel; then
	log "stunnel has no --check: the good file is not checked"
else
	check "$T/good.conf" >"$T/good.out" 2>&1
	rc=$?
	keep_log "$T/good.out"
	[ $rc -eq 0 ] || fail "--check good.conf exited $rc"
	port_listening "$PORT" && fail "--check opened the listening port"
fi

check "$T/bad.conf" >"$T/bad.out" 2>&1
rc=$?
keep_log "$T/bad.out"
[ $rc -eq 1 ] || fail "--check bad.conf exited $rc, expected 1"
grep -q "$T/bad.conf:5:" "$T/bad.out" || fail "no '$T/bad.conf:5:' in: $(cat "$T/bad.out")"
grep "bad.conf:5:" "$T/bad.out" | grep -q no_such_option ||
	fail "the message does not name the option: $(cat "$T/bad.out")"

check "$T/nocert.conf" >"$T/nocert.out" 2>&1
rc=$?
keep_log "$T/nocert.out"
[ $rc -eq 1 ] || fail "--check nocert.conf exited $rc, expected 1"
grep -q "missing.pem" "$T/nocert.out" ||
	fail "the message does not name the file: $(cat "$T/nocert.out")"

# A FIFO as the configuration or as the certificate would block start-up and every reload
# forever waiting for a writer: refused at once (timeout 10 turns a hang into a failure).
is_stunnel && pass
mkfifo "$T/fifo.pem" "$T/fifo.conf"
sed "s|cert = .*|cert = $T/fifo.pem|" "$T/good.conf" >"$T/fifocert.conf"
for f in fifocert.conf fifo.conf; do
	timeout 10 "$KTLSRELAY_BIN/ktlsrelay" --check "$T/$f" >"$T/$f.out" 2>&1
	rc=$?
	keep_log "$T/$f.out"
	[ $rc -eq 1 ] || fail "--check $f exited $rc, expected 1 (124: it hung on the FIFO)"
	grep -q "fifo.* not a regular file" "$T/$f.out" ||
		fail "the message does not say the FIFO is not a regular file: $(cat "$T/$f.out")"
done
log "a FIFO as the file or as the certificate is refused at once"
pass
