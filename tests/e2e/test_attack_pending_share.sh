#!/usr/bin/env bash
# tests/e2e/test_attack_pending_share.sh - issue 15 item 5: one source cannot take all of max_pending.
# A slow upstream (every answer after 2 s) and max_pending = 40, so one source's share is 10.
# Attack: while a flood of unique names from 127.0.0.1 holds its share, queries from a second
# source (127.0.0.2) are still accepted and answered, not REFUSED; before the fix the flood took
# all 40 places and the second source was refused. Control: the flooding source alone gets about
# its share (10) sent upstream and the rest REFUSED at once, counted as over_limit.
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig curl
require_binary

use_test_pki
start_test_dot_server --delay-all 2000
start_proxy_with_admin "$UPSTREAM" -D server.max_pending=40 -D upstream.timeout_ms=6000
rcode_count() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["rcodes"].get(sys.argv[2], 0))' "$1" "$2"; }

# Attack: a flood holds its share; a second source asks meanwhile.
before=$(client_stat over_limit)
"$PY" "$SUPPORT_DIR/hostile_client.py" burst --port "$PROXY_PORT" --count 1500 --timeout 5 \
	>"$TEST_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
E2E_PIDS+=("$FLOOD_PID")
show_on_fail "$TEST_TMP/flood.out"
wait_for -t 10 client_stat_is over_limit -gt "$before" || fail "the flood was never limited"
for i in 1 2 3; do
	kdig_rcode "$PROXY_PORT" -b 127.0.0.2 "second$i.zone.example" >"$TEST_TMP/second$i.out" &
	E2E_PIDS+=("$!")
done
for i in 1 2 3; do
	wait_for -t 8 test -s "$TEST_TMP/second$i.out" || fail "second source query $i got nothing"
	assert_eq NOERROR "$(cat "$TEST_TMP/second$i.out")" "second source query $i answered during the flood"
done
wait "$FLOOD_PID" || true
log "flood: $(cat "$TEST_TMP/flood.out")"
assert_ge 1 "$(rcode_count "$(cat "$TEST_TMP/flood.out")" REFUSED)" "the flood itself was held to its share"
wait_for -t 10 client_stat_is pending -eq 0 || fail "queries still pending after the attack"

# Control: the flooding source alone. 200 queries leave in ~30 ms, long before the first answer.
before_control=$(client_stat over_limit)
out=$("$PY" "$SUPPORT_DIR/hostile_client.py" burst --port "$PROXY_PORT" --count 200 --timeout 8)
log "flood alone: $out"
noerror=$(rcode_count "$out" NOERROR)
refused=$(rcode_count "$out" REFUSED)
assert_eq 0 "$(json_field "$out" lost)" "control: every flood query answered"
((noerror >= 10 && noerror <= 12)) || fail "control: $noerror flood queries went upstream, expected its share (10 of max_pending 40)"
pass "control: the flood alone got its share of max_pending ($noerror answered), no more"
assert_ge 188 "$refused" "control: the rest of the flood ($refused) REFUSED"
assert_ge "$((before_control + refused))" "$(client_stat over_limit)" "control: refusals counted as over_limit"

stop_pid "$DNSPROXY_PID" dnsproxy
