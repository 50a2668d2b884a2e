#!/usr/bin/env bash
# tests/e2e/test_hardening_pending.sh - max_pending with the upstream blackholed (issue 8,
# acceptance 3): the upstream reads queries and never answers; with max_pending = 50, bursts of
# 1,000 queries get REFUSED at once beyond the 50 (counted as over_limit), the 50 end in SERVFAIL
# at timeout_ms, memory stays bounded, and service resumes as soon as the upstream answers again.
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig curl
require_binary

use_test_pki
start_test_dot_server --silent-after 0
start_proxy_with_admin "$UPSTREAM" -D server.max_pending=50 -D upstream.timeout_ms=1500

before=$(rss_kib)
for round in 1 2 3; do
	out=$("$PY" "$SUPPORT_DIR/hostile_client.py" burst --port "$PROXY_PORT" --count 1000 --timeout 6)
	log "burst $round: $out"
	read -r refused servfail lost refused_ms <<<"$("$PY" -c 'import json,sys
d = json.loads(sys.argv[1])
print(d["rcodes"].get("REFUSED", 0), d["rcodes"].get("SERVFAIL", 0), d["lost"], d["by_rcode_max_ms"].get("REFUSED", 0))' "$out")"
	assert_eq 0 "$lost" "burst $round: every query answered"
	assert_ge 900 "$refused" "burst $round: the excess ($refused) refused"
	((servfail <= 50)) || fail "burst $round: $servfail SERVFAIL, more than max_pending went upstream"
	num_is "$refused_ms" '<' 500 || fail "burst $round: a REFUSED took $refused_ms ms"
	pass "burst $round: REFUSED at once (slowest ${refused_ms} ms), $servfail SERVFAIL after timeout_ms"
done
assert_ge 2700 "$(client_stat over_limit)" "refusals counted as over_limit"
after=$(rss_kib)
log "RSS before $before KiB, after 3 bursts $after KiB"
((after - before < 20 * 1024)) || fail "RSS grew by $(((after - before) / 1024)) MiB"
pass "memory bounded: RSS grew $((after - before)) KiB over 3,000 queries"

# The upstream comes back (same port, answering again).
stop_pid "$DOT_PID" "silent dot_server.py"
start_dot_server "$DPORT" "$CERT" "$KEY"
answers_back() { [[ $(kdig_short "$PROXY_PORT" back.zone.example) == 192.0.2.1 ]]; }
wait_for -t 10 answers_back ||
	fail "service did not resume after the upstream returned"
pass "service resumed once the upstream answered again"
# One source may have a quarter of max_pending waiting (12 of 50, SourceShares): a burst within it.
out=$("$PY" "$SUPPORT_DIR/hostile_client.py" burst --port "$PROXY_PORT" --count 12 --timeout 5)
assert_eq 12 "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["rcodes"].get("NOERROR", 0))' "$out")" \
	"12 queries within one source's share of max_pending all answered NOERROR"
stop_pid "$DNSPROXY_PID" dnsproxy
