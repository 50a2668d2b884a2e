#!/usr/bin/env bash
# tests/e2e/test_upstream_faults.sh - idle closes, half-open (silent) connections and the
# server's idle limit (issue "Upstream pool", criteria 4, 5 and 9).
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki

# 4. The server closes an idle connection; the next query is answered on a resumed session.
start_test_dot_server --idle-close-ms 700
start_proxy "$UPSTREAM"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" idle1.zone.example)" "query before the idle close answered"
wait_for -t 10 dot_stat_is closed_by_server -ge 1 || fail "the server did not close the idle connection"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" idle2.zone.example)" "query after the server's idle close answered"
assert_eq 2 "$(dot_stat handshakes)" "a new connection was opened"
assert_eq 1 "$(dot_stat resumed)" "the new connection resumed the TLS session"
stop_proxy_and_dot_server

# 5. The server stops answering on an established connection without closing it. The
# connection is abandoned at timeout_ms; the query caught in the silence gets one more try on a
# fresh connection (it is the only server), and the next queries go out on that one at once.
start_test_dot_server --silent-conn-after 3
start_proxy "$UPSTREAM" -D upstream.timeout_ms=1000
for i in 1 2 3; do
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" "half$i.zone.example")" "query $i answered before the connection goes silent"
done
out=$(dns_client one --port "$PROXY_PORT" --name half4.zone.example --timeout 5)
log "query into the silent connection: $out"
assert_eq NOERROR "$(json_field "$out" rcode)" "the query into the silent connection is answered on a fresh one"
ms=$(json_field "$out" ms)
num_is "$ms" '<' $((1000 + 500)) || fail "the query into the silent connection took $ms ms (timeout_ms 1000)"
pass "the query into the silent connection ended with $(json_field "$out" rcode) after ${ms%.*} ms (timeout_ms 1000)"
for i in 5 6; do # the fresh connection answers 3 queries: these two and possibly the health probe
	out=$(dns_client one --port "$PROXY_PORT" --name "half$i.zone.example" --timeout 5)
	assert_eq NOERROR "$(json_field "$out" rcode)" "query $i answered through a fresh connection"
	ms=$(json_field "$out" ms)
	num_is "$ms" '<' 500 || fail "query $i took $ms ms"
	pass "query $i answered in ${ms%.*} ms"
done
assert_ge 2 "$(dot_stat handshakes)" "the silent connection was replaced by a fresh one"
stop_proxy_and_dot_server

# 9. The server closes connections idle for 2 s; queries come 1.5-2.5 s apart. None may be
# lost or late because it was written into a connection the server was closing.
start_test_dot_server --idle-close-ms 2000
start_proxy "$UPSTREAM"
out=$(dns_client trickle --port "$PROXY_PORT" --count 8 --min-gap-ms 1500 --max-gap-ms 2500 --budget-ms 300)
log "trickle: $out"
assert_eq 8 "$(json_field "$out" answered)" "8 trickled queries all answered"
assert_eq 0 "$(json_field "$out" late)" "none answered later than 300 ms (max $(json_field "$out" max_ms) ms)"
stop_proxy_and_dot_server
