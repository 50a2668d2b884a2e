#!/usr/bin/env bash
# tests/e2e/test_shutdown_paths.sh - every way out of a started proxy runs the same shutdown
# (Services::stop: stop accepting, answer or fail what is in flight, flush the cache, close
# storage). A start that fails on the admin address, after the cache snapshot was loaded, exits 2
# with one line AND flushes the cache like a SIGTERM does: the loaded rows stay, and the flush's
# purge of rows too old to serve runs (before issue 16 that path skipped the flush). A listener
# port in use fails before anything is loaded and leaves the database as it was.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl sqlite3
require_binary

N=10
start_test_unbound
# Each run below names its own server.listen and admin.listen after these.
stored_cache_proxy_args -D "storage.flush_interval_ms=600000"
rows() { sqlite3 "$DB" 'SELECT COUNT(*) FROM cache_entries'; }

# First run: fill the cache, SIGTERM writes it out.
start_dnsproxy "$TEST_TMP/proxy-1.log" "${PROXY_ARGS[@]}" -D "server.listen=127.0.0.1:$P" -D "admin.listen="
for ((i = 0; i < N; i++)); do
	assert_eq 192.0.2.1 "$(kdig_short "$P" "r$i.zone.example" A)" "r$i.zone.example answered"
done
stop_pid "$DNSPROXY_PID" "dnsproxy (first run)"
assert_eq "$N" "$(rows)" "SIGTERM flushed one row per cached name"

# A row that expired long ago: start-up does not load it, and the next flush purges it.
sqlite3 "$DB" "INSERT INTO cache_entries VALUES (x'00', x'00', 1, 2)"
assert_eq $((N + 1)) "$(rows)" "the expired row is in the database"

# hold_tcp PORT READYFILE: a TCP listener on 127.0.0.1:PORT until killed.
hold_tcp()
{
	"$PY" - "$1" "$2" >>"$TEST_TMP/holder.log" 2>&1 <<'PY' &
import socket, sys, time
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", int(sys.argv[1]))); t.listen(1)
open(sys.argv[2], "w").write("ready\n")
while True:
    time.sleep(60)
PY
	HOLDER=$!
	E2E_PIDS+=("$HOLDER")
	wait_for -t 10 test -s "$2" || fail "could not occupy port $1"
}
show_on_fail "$TEST_TMP/holder.log"

# run_failing WHAT NEEDLE LEVEL ARGS...: exit 2; stderr is one line naming NEEDLE; at log level
# notice nothing else is printed. Leaves stdout in $TEST_TMP/out.txt.
run_failing()
{
	local what=$1 needle=$2 level=$3 rc=0
	shift 3
	timeout -k 2 10 "$DNSPROXY_BIN" "${PROXY_ARGS[@]}" -D "log.level=$level" "$@" \
		>"$TEST_TMP/out.txt" 2>"$TEST_TMP/err.txt" </dev/null || rc=$?
	local err
	err=$(cat "$TEST_TMP/err.txt")
	((rc != 124)) || fail "$what: dnsproxy did not exit within 10 s: $err"
	assert_eq 2 "$rc" "$what: exit status"
	assert_eq 1 "$(grep -c . "$TEST_TMP/err.txt" || true)" "$what: one line on stderr (got: $err)"
	assert_contains "$err" "$needle" "$what: the line names '$needle'"
	if [[ $level == notice ]]; then
		assert_eq 0 "$(grep -c . "$TEST_TMP/out.txt" || true)" \
			"$what: nothing else is printed at level notice (got: $(cat "$TEST_TMP/out.txt"))"
	fi
}

# Admin address in use: the snapshot was loaded, the failed start flushes it back.
APORT=$(pick_port)
hold_tcp "$APORT" "$TEST_TMP/admin.ready"
run_failing "admin address in use" "admin.listen" notice \
	-D "server.listen=127.0.0.1:$(pick_port)" -D "admin.listen=127.0.0.1:$APORT"
assert_eq "$N" "$(rows)" "the failed start kept every loaded row and purged the expired one (its cache flush ran)"

sqlite3 "$DB" "INSERT INTO cache_entries VALUES (x'00', x'00', 1, 2)"
run_failing "admin address in use (information)" "admin.listen" information \
	-D "server.listen=127.0.0.1:$(pick_port)" -D "admin.listen=127.0.0.1:$APORT"
out=$(cat "$TEST_TMP/out.txt")
assert_contains "$out" "loaded $N cached answers" "the failed start had loaded the snapshot"
assert_contains "$out" "cache flushed to $DB" "the failed start says it flushed the cache, as SIGTERM does"
assert_eq "$N" "$(rows)" "the loaded rows are still there after the second failed start"
kill "$HOLDER"

# Listener port in use: fails before the snapshot is loaded; the database is left as it was.
LPORT=$(pick_port)
hold_tcp "$LPORT" "$TEST_TMP/listen.ready"
sqlite3 "$DB" "INSERT INTO cache_entries VALUES (x'00', x'00', 1, 2)"
run_failing "listener port in use" "server.listen" notice -D "server.listen=127.0.0.1:$LPORT" -D "admin.listen="
assert_eq $((N + 1)) "$(rows)" "a start that never loaded the cache writes nothing"
kill "$HOLDER"

# And the next normal start still serves every name from the snapshot.
start_dnsproxy "$TEST_TMP/proxy-2.log" "${PROXY_ARGS[@]}" -D "server.listen=127.0.0.1:$P" -D "admin.listen="
assert_contains "$(cat "$TEST_TMP/proxy-2.log")" "loaded $N cached answers" "the snapshot survived every failed start"
stop_pid "$DNSPROXY_PID" "dnsproxy (last run)"
