# jsse.sh - the JSSE peer (KeyUpdatePeer.java) for integration tests; source it after lib.sh.
# The JDK (Debian's default-jdk-headless, installed by tools/setup) runs on the host only: the
# kTLS VM has none, so a test that needs it skips there.

# jsse_build: compiles KeyUpdatePeer into $T/jsse (skips the test without a JDK).
jsse_build()
{
	command -v javac >/dev/null && command -v java >/dev/null ||
		skip "no JDK (javac, java): tools/setup installs default-jdk-headless"
	mkdir -p "$T/jsse"
	javac -d "$T/jsse" "$LIB_DIR/../peers/KeyUpdatePeer.java" 2>"$T/javac.err" ||
		fail "javac KeyUpdatePeer: $(cat "$T/javac.err")"
}

# jsse_peer NAME ARGS...: starts the JSSE peer in the background (spawn: $T/NAME.err), with
# javax.net.debug on for handshake messages (to $T/NAME.err), so that its KeyUpdates can be
# counted (jsse_key_updates). Sets SPAWN_PID.
jsse_peer()
{
	local name=$1
	shift
	spawn "$name" java -Djavax.net.debug=ssl:handshake -cp "$T/jsse" KeyUpdatePeer "$@"
}

# jsse_key_updates NAME: how many KeyUpdates asking for one back the peer NAME sent.
jsse_key_updates()
{
	grep -c '"request_update": update_requested' "$T/$1.err"
}
