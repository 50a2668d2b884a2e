#!/usr/bin/env bash
# tests/e2e/test_hardening_connections.sh - client TCP limits (issue 8, acceptance 2):
# 500 idle connections (half silent, half slowloris: one octet of a never-ending frame every
# 200 ms) and 1 client that never reads its answers. UDP and fresh TCP clients are answered
# throughout; the idle and slowloris ones are closed after tcp_idle_timeout_ms (1000), the
# non-reader once it stops taking answers. With max_tcp_connections = 100: connection 101 is
# served by closing the idlest; when all 100 are busy, new ones are refused.
source "$(dirname "$0")/lib.sh"
require_tool openssl unbound kdig curl
require_binary

use_test_pki
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/unbound" "$UPORT" "$CERT" "$KEY"
APORT=$(pick_port)
start_proxy "127.0.0.1:$UPORT#$NAME" -D server.tcp_idle_timeout_ms=1000 -D server.threads=2 \
	-D "admin.listen=127.0.0.1:$APORT"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" warm.zone.example)" "warm-up query answered"

HOLD=$TEST_TMP/hold.json
"$PY" "$SUPPORT_DIR/hostile_client.py" hold --port "$PROXY_PORT" --count 500 --trickle-ms 200 \
	--status "$HOLD" --max-seconds 20 >"$TEST_TMP/hold.out" 2>&1 &
HOLD_PID=$!
E2E_PIDS+=("$HOLD_PID")
"$PY" "$SUPPORT_DIR/hostile_client.py" noread --port "$PROXY_PORT" --queries 6000 --max-seconds 20 \
	>"$TEST_TMP/noread.out" 2>&1 &
NOREAD_PID=$!
E2E_PIDS+=("$NOREAD_PID")
# A smaller non-reader stays under the 4 x max-output close: only the write-stall timeout ends it.
"$PY" "$SUPPORT_DIR/hostile_client.py" noread --port "$PROXY_PORT" --queries 1200 --max-seconds 20 \
	>"$TEST_TMP/noread-small.out" 2>&1 &
NOREAD_SMALL_PID=$!
E2E_PIDS+=("$NOREAD_SMALL_PID")
show_on_fail "$TEST_TMP/hold.out" "$TEST_TMP/noread.out" "$TEST_TMP/noread-small.out"
wait_for -t 10 test -s "$HOLD" || fail "the 500 connections were not opened"
log "holding: $(cat "$HOLD" | head -c 200)"

# Service for everyone else while the 500 and the non-reader sit on the proxy.
for i in 1 2 3 4; do
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" "during$i.zone.example")" "UDP query $i answered during the siege"
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp "duringtcp$i.zone.example")" "fresh TCP query $i answered during the siege"
done

wait "$HOLD_PID" || true
out=$(cat "$TEST_TMP/hold.out")
summary=$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); c=d["close_after"]; print(d["opened"], d["closed"], min(c), max(c))' "$out")
read -r opened closed first last <<<"$summary"
log "500 held connections: opened $opened, closed $closed, first after ${first}s, last after ${last}s"
assert_eq 500 "$closed" "all 500 idle and slowloris connections closed by the proxy"
num_is "$first" '>=' 0.9 || fail "a connection was closed after ${first}s, before tcp_idle_timeout_ms"
num_is "$last" '<=' 3.5 || fail "the last idle connection was closed only after ${last}s"
pass "closed between ${first}s and ${last}s (tcp_idle_timeout_ms 1000, slowloris octets do not count as activity)"

wait "$NOREAD_PID" || true
out=$(cat "$TEST_TMP/noread.out")
log "non-reader: $out"
[[ $(json_field "$out" closed_after) != None ]] || fail "the client that never reads was not closed"
pass "the client that never reads was closed after $(json_field "$out" closed_after)s"
wait "$NOREAD_SMALL_PID" || true
out=$(cat "$TEST_TMP/noread-small.out")
log "small non-reader: $out"
[[ $(json_field "$out" closed_after) != None ]] || fail "the small non-reader was not closed"
pass "the small non-reader was closed after $(json_field "$out" closed_after)s (no answer octet written for 1 s)"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp after.zone.example)" "TCP answered after the siege"
assert_eq 0 "$(client_stat tcp_connections)" "no client connection left open"
stop_pid "$DNSPROXY_PID" dnsproxy

# max_tcp_connections = 100 with four workers: the limit and the choice of the idlest connection
# cover the whole process, not one worker's share.
APORT=$(pick_port)
start_proxy "127.0.0.1:$UPORT#$NAME" -D server.tcp_idle_timeout_ms=60000 -D server.max_tcp_connections=100 \
	-D server.threads=4 -D "admin.listen=127.0.0.1:$APORT"
HOLD=$TEST_TMP/hold100.json
"$PY" "$SUPPORT_DIR/hostile_client.py" hold --port "$PROXY_PORT" --count 100 --status "$HOLD" \
	--max-seconds 15 >"$TEST_TMP/hold100.out" 2>&1 &
HOLD_PID=$!
E2E_PIDS+=("$HOLD_PID")
show_on_fail "$TEST_TMP/hold100.out"
wait_for -t 10 test -s "$HOLD" || fail "the 100 connections were not opened"
wait_for -t 5 client_stat_is tcp_connections -eq 100 || fail "the proxy does not hold 100 connections"
pass "100 idle connections held (the limit)"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp conn101.zone.example)" "connection 101 served"
wait_for -t 5 "$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["closed"] >= 1 else 1)' "$HOLD" ||
	fail "no idle connection was closed to make room"
assert_eq "[0]" "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["closed_index"])' "$HOLD")" \
	"exactly the idlest (first opened) connection was closed for it"
assert_eq 0 "$(client_stat tcp_refused)" "nothing refused while idle connections could make room"
kill "$HOLD_PID" 2>/dev/null || true
wait "$HOLD_PID" 2>/dev/null || true
stop_pid "$DNSPROXY_PID" dnsproxy
