#!/usr/bin/env bash
# tests/e2e/test_attack_tcp_acl.sh - issue 15 item 4: a TCP source outside `allow` is closed at
# accept. With max_tcp_connections = 4 and allow = 127.0.0.1/32, four allowed clients hold idle
# connections; then 127.0.0.2 opens 12 connections. Attack: the refused source gets no slot and no
# answer, the allowed clients' connections stay open and answer queries, a new allowed client is
# accepted; before the fix each refused connection closed an allowed client's idle connection to
# make room for itself. Control: with 127.0.0.2 allowed too, the same newcomers are served by
# closing the idlest allowed connections (the max_tcp_connections behaviour is unchanged).
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig curl
require_binary

use_test_pki
start_test_dot_server

# start_keepers NAME: four idle allowed connections from 127.0.0.1 that query once $TEST_TMP/NAME.go exists.
start_keepers()
{
	"$PY" "$SUPPORT_DIR/hostile_client.py" keep --port "$PROXY_PORT" --count 4 --status "$TEST_TMP/$1.json" \
		--go "$TEST_TMP/$1.go" >"$TEST_TMP/$1.out" 2>&1 &
	KEEP_PID=$!
	E2E_PIDS+=("$KEEP_PID")
	show_on_fail "$TEST_TMP/$1.out"
	wait_for -t 10 test -s "$TEST_TMP/$1.json" || fail "$1: the allowed connections were not opened"
	wait_for -t 5 client_stat_is tcp_connections -eq 4 || fail "$1: the proxy does not hold the 4 allowed connections"
}

# Attack.
start_proxy_with_admin "$UPSTREAM" -D server.allow=127.0.0.1/32 -D server.max_tcp_connections=4 \
	-D server.tcp_idle_timeout_ms=60000
start_keepers keep
out=$("$PY" "$SUPPORT_DIR/hostile_client.py" keep --port "$PROXY_PORT" --count 12 --source 127.0.0.2)
log "refused source: $out"
assert_eq 0 "$(json_field "$out" answered)" "the 12 connections from 127.0.0.2 got no answer"
assert_ge 12 "$(client_stat refused)" "the refused connections are counted in clients.refused"
assert_eq 0 "$(client_stat tcp_refused)" "no connection refused for want of a slot"
assert_eq "[]" "$(json_stat "$TEST_TMP/keep.json" closed_early)" "no allowed connection was closed for the refused source"
assert_eq 4 "$(client_stat tcp_connections)" "the 4 allowed connections still hold the slots"
touch "$TEST_TMP/keep.go"
wait "$KEEP_PID" || true
log "allowed clients: $(cat "$TEST_TMP/keep.out")"
assert_eq 4 "$(json_field "$(cat "$TEST_TMP/keep.out")" answered)" "the 4 allowed connections still answer queries"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp newcomer.zone.example)" "a new allowed client is accepted"
stop_pid "$DNSPROXY_PID" dnsproxy

# Control: 127.0.0.2 allowed, everything else the same.
start_proxy_with_admin "$UPSTREAM" -D "server.allow=127.0.0.1/32, 127.0.0.2/32" -D server.max_tcp_connections=4 \
	-D server.tcp_idle_timeout_ms=60000
start_keepers control
out=$("$PY" "$SUPPORT_DIR/hostile_client.py" keep --port "$PROXY_PORT" --count 2 --source 127.0.0.2)
log "allowed second source: $out"
assert_eq 2 "$(json_field "$out" answered)" "control: the 2 connections from 127.0.0.2 are served"
# The evictions are made in order (idlest first), but each close runs on its connection's own
# worker loop, so the order the client sees them in is not fixed: compare the set.
keep_field_is() { test "$(json_stat "$1" "$2" | "$PY" -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" = "$3"; }
wait_for -t 5 keep_field_is "$TEST_TMP/control.json" closed_early "[0, 1]" ||
	fail "control: expected the two idlest allowed connections closed, got $(json_stat "$TEST_TMP/control.json" closed_early)"
pass "control: the two idlest connections were closed to make room"
touch "$TEST_TMP/control.go"
wait "$KEEP_PID" || true
assert_eq 2 "$(json_field "$(cat "$TEST_TMP/control.out")" answered)" "control: the two remaining allowed connections answer"
assert_eq 0 "$(client_stat refused)" "control: nothing refused by the ACL"
stop_pid "$DNSPROXY_PID" dnsproxy
