#!/usr/bin/env bash
# Started as root with chroot, setuid = nobody and setgid = nobody (the seed's lines), the relay
# keeps no privilege and sees nothing outside the chroot:
# - /proc: every thread's real, effective, saved and filesystem uid and gid are nobody's and
#   nogroup's, no supplementary group is left (the relay is started with root's groups 0 and 4
#   where util-linux's setpriv exists: on the host), no capability, and its root is the chroot;
# - it serves TLS with a key that only root can read (0600 root, inside the chroot): read
#   before the drop;
# - SIGHUP re-reads the configuration from inside the chroot: the file's path outside is
#   refused with a log line naming it, a file inside that names root's key is refused (nobody
#   cannot read it), one naming a key nobody may read is taken (the new backend gets the next
#   connection); the relay serves after each refusal;
# - SIGUSR1 reopens the log file at its path inside the chroot: nothing is written outside.
# The seed tests (t_seed_*_config.sh) check the daemon start and the uid line; this one the rest.
# vm-newest: no (configuration only: chroot, uids and gids of the process)
. "$(dirname "$0")/lib.sh"

is_stunnel && skip "the log lines checked here are ktlsrelay's"
[ "$(id -u)" -eq 0 ] || skip "chroot and setuid need root"
NOBODY_UID=$(awk -F: '$1 == "nobody" { print $3 }' /etc/passwd)
NOBODY_GID=$(awk -F: '$1 == "nobody" { print $4 }' /etc/passwd)
[ -n "$NOBODY_UID" ] || skip "no user nobody"

make_certs
pick_port; P_TLS=$PORT
pick_port; P_OUT=$PORT
pick_port; P_NEW=$PORT
JAIL=$T/jail
mkdir -p "$JAIL/keys" "$T/out"
chmod 755 "$JAIL" "$JAIL/keys"
# Root's key, as an operator keeps it: 0600 root, here inside the chroot.
cp "$T/server.pem" "$JAIL/keys/server.pem"
chown 0:0 "$JAIL/keys/server.pem"
chmod 600 "$JAIL/keys/server.pem"

# relay_conf FILE CONNECT_PORT CERT: the configuration, the same file for start and reloads.
relay_conf()
{
	cat >"$1" <<-CONF
		$(relay_globals)
		chroot = $JAIL
		setuid = nobody
		setgid = nobody
		pid = /relay.pid
		output = $T/out/relay.log
		[server]
		accept = 127.0.0.1:$P_TLS
		connect = 127.0.0.1:$2
		cert = $3
	CONF
}
relay_conf "$T/relay.conf" "$P_OUT" "$JAIL/keys/server.pem"
keep_log "$T/out/relay.log"

# LeakSanitizer reads /proc/PID/task at exit, which the chroot hides: it would fail the exit code
# with "LeakSanitizer has encountered a fatal error". The other ASan checks stay on; the chain
# without chroot is leak-checked by the other tests.
if grep -q __asan_init "$KTLSRELAY_BIN/ktlsrelay"; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

# Root's supplementary groups at start, so that keeping them would show.
REAL_BIN=$KTLSRELAY_BIN
# util-linux's setpriv has --groups; busybox's (the VM's) has not.
if setpriv --groups 0,4 -- true 2>/dev/null; then
	mkdir "$T/groups"
	printf '#!/bin/sh\nexec setpriv --groups 0,4 -- "%s/ktlsrelay" "$@"\n' "$REAL_BIN" \
		>"$T/groups/ktlsrelay"
	chmod +x "$T/groups/ktlsrelay"
	KTLSRELAY_BIN=$T/groups
	log "started with supplementary groups 0 and 4 (setpriv)"
fi
start_relay "$T/relay.conf" "$P_TLS"; SERVER=$RELAY_PID; SERVER_LOG=$RELAY_LOG
KTLSRELAY_BIN=$REAL_BIN

# ---- what /proc says -------------------------------------------------------------------------
root=$(readlink "/proc/$SERVER/root")
[ "$root" = "$JAIL" ] || fail "the relay's root is '$root', not the chroot $JAIL"
[ "$(tr -dc 0-9 <"$JAIL/relay.pid")" = "$SERVER" ] || fail "no pid file /relay.pid in the chroot"
tasks=0
for st in /proc/"$SERVER"/task/*/status; do
	tid=$(awk '/^Pid:/ { print $2 }' "$st")
	uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")
	gid=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "$st" | tr -s ' ' | sed 's/^ //; s/ $//')
	[ "$uid" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] ||
		fail "thread $tid: Uid (real effective saved fs) '$uid', not all $NOBODY_UID"
	[ "$gid" = "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" ] ||
		fail "thread $tid: Gid (real effective saved fs) '$gid', not all $NOBODY_GID"
	# Empty, or nogroup alone (setgroups(1, {gid}), as stunnel does): no other group.
	[ -z "$groups" ] || [ "$groups" = "$NOBODY_GID" ] ||
		fail "thread $tid: supplementary groups '$groups' remain"
	for cap in CapPrm CapEff CapAmb; do
		v=$(awk -v c="$cap:" '$1 == c { print $2 }' "$st")
		[ "$v" = 0000000000000000 ] || fail "thread $tid: $cap $v: capabilities remain"
	done
	tasks=$((tasks + 1))
done
log "all $tasks threads: uid $NOBODY_UID, gid $NOBODY_GID (real, effective, saved, fs)," \
	"groups '${groups:-}', no capabilities, root $root"

# ---- it serves, after each refused reload ------------------------------------------------------
make_random "$T/a" 1
# served NAME PORT: one TLS transfer through the relay reaches the backend at PORT intact.
served()
{
	sink_start "$1" "$2"
	s_client_send "$P_TLS" "$T/a" || fail "$1: s_client failed"
	wait_pid "$SINK_PID" 20 || fail "$1: the backend never saw the end of the stream"
	same_bytes "$T/a" "$T/$1" "$1"
}
served first.got "$P_OUT"

# hup WHAT REGEX: SIGHUP, and a log line matching REGEX within 10 s.
hup()
{
	local i
	kill -HUP "$SERVER" || fail "$1: relay gone"
	for i in $(seq 1 100); do
		grep -Eq -- "$2" "$SERVER_LOG" && break
		sleep 0.1
	done
	grep -Eq -- "$2" "$SERVER_LOG" || fail "$1: no log line /$2/ after SIGHUP"
	log "$1: $(grep -E -- "$2" "$SERVER_LOG" | tail -n 1 | cut -d' ' -f3-)"
	relay_alive "$SERVER" "$SERVER_LOG"
}

# The file the relay was started with exists only outside the chroot.
hup "reload from the path outside the chroot" \
	"reload refused.*cannot read $T/relay.conf: No such file"
served after_outside.got "$P_OUT"

# The same path inside the chroot, naming root's key by its path inside: nobody cannot read it.
mkdir -p "$JAIL$T"
relay_conf "$JAIL$T/relay.conf" "$P_NEW" /keys/server.pem
chmod 644 "$JAIL$T/relay.conf"
hup "reload naming root's key" "reload refused.*cannot load certificate /keys/server.pem: Permission denied"
served after_key.got "$P_OUT"

# A key nobody may read, inside the chroot: taken, and the new backend gets the next connection.
cp "$T/server.pem" "$JAIL/keys/nobody.pem"
chown "$NOBODY_UID:$NOBODY_GID" "$JAIL/keys/nobody.pem"
chmod 600 "$JAIL/keys/nobody.pem"
relay_conf "$JAIL$T/relay.conf" "$P_NEW" /keys/nobody.pem
chmod 644 "$JAIL$T/relay.conf"
hup "reload inside the chroot" "configuration reloaded from $T/relay.conf"
served after_reload.got "$P_NEW"

# ---- SIGUSR1: the log file's path, inside the chroot ------------------------------------------
grep -q "#[0-9]* closed" "$T/out/relay.log" || fail "no connection in the log file before SIGUSR1"
mkdir -p "$JAIL$T/out"
chown "$NOBODY_UID:$NOBODY_GID" "$JAIL$T/out"
mv "$T/out/relay.log" "$T/out/relay.log.1"
kill -USR1 "$SERVER"
for i in $(seq 1 50); do
	[ -e "$JAIL$T/out/relay.log" ] && break
	sleep 0.1
done
[ -e "$JAIL$T/out/relay.log" ] || fail "SIGUSR1: no log file $T/out/relay.log inside the chroot"
lines=$(wc -l <"$T/out/relay.log.1")
served after_usr1.got "$P_NEW"
sleep 0.3
[ -e "$T/out/relay.log" ] && fail "SIGUSR1: the relay wrote $T/out/relay.log outside the chroot"
[ "$(wc -l <"$T/out/relay.log.1")" -eq "$lines" ] || fail "SIGUSR1: the rotated file still grows"
grep -q "#[0-9]* closed" "$JAIL$T/out/relay.log" ||
	fail "SIGUSR1: the next connection is not in the log file inside the chroot"
[ "$(stat -c %u "$JAIL$T/out/relay.log")" = "$NOBODY_UID" ] ||
	fail "SIGUSR1: the new log file is not nobody's"
log "SIGUSR1: the log went on in $JAIL$T/out/relay.log (nobody's), nothing outside"

stop_relay "$SERVER"
pass
