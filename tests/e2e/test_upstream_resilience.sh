#!/usr/bin/env bash
# tests/e2e/test_upstream_resilience.sh - no query lost to a server's habits (issue 17, items 1-4;
# SPEC section 4, upstream connection reuse):
#   1. a DoT server that closes every connection after 5 answers: 40 queries 10 at a time, then
#      1,000 queries 50 at a time, all NOERROR (control: the same load against a server that
#      does not close, and the server did close connections);
#   2. a half-open connection to the only server (timeout_ms = 500): the query caught in the
#      silence is answered, on a fresh connection, in under 1.5 s (control: the connection did
#      go silent);
#   3. pin_policy = enforce refuses a new key; right after POST /pins approves it, the very next
#      query answers (control: the query before the approval is refused);
#   4. the only server is down for 40 s, then back: GET /health says 200 and a query is answered
#      within 3 s of its return, with serve-stale off and no client query before (the proxy's
#      own probe finds it) (control: queries during the outage fail, /health says 503).
# Against main at a26b6b4 each part fails: 1. 31 of 40 answered; 2. SERVFAIL after 504 ms;
# 3. SERVFAIL (connect back-off); 4. /health still 503 10 s after the return.
source "$(dirname "$0")/lib.sh"
require_tool kdig curl openssl ss
require_binary

use_test_pki
write_ini "$TEST_TMP/dnsproxy.ini"

# load CLIENTS QUERIES: unique names over UDP; prints dns_client.py's JSON.
load() { dns_client load --port "$PROXY_PORT" --clients "$1" --queries "$2" --tcp-share 0 --unique --timeout 5; }
# now_ms: the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# --- 1. closes after every 5 answers -------------------------------------------------------
DPORT=$(pick_port)
start_dot_server "$DPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$DPORT#$NAME" -D cache.enabled=false
out=$(load 10 40)
log "control, a server that does not close: $out"
assert_eq 40 "$(json_field "$out" answered)" "control: 40 queries, 10 concurrent, all NOERROR"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$DOT_PID" dot_server.py

DPORT=$(pick_port)
start_dot_server "$DPORT" "$CERT" "$KEY" --close-after 5
start_proxy "127.0.0.1:$DPORT#$NAME" -D cache.enabled=false
out=$(load 10 40)
log "close after 5, 40 queries 10 concurrent: $out"
assert_eq 40 "$(json_field "$out" answered)" "close after 5: 40 queries, 10 concurrent, all NOERROR"
out=$(load 50 1000)
log "close after 5, 1000 queries 50 concurrent: $out"
assert_eq 1000 "$(json_field "$out" answered)" "close after 5: 1000 queries, 50 concurrent, all NOERROR"
assert_ge 200 "$(dot_stat closed_by_server)" "the server did close a connection after every 5 answers"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$DOT_PID" dot_server.py

# --- 2. half-open connection to the only server ----------------------------------------------
DPORT=$(pick_port)
start_dot_server "$DPORT" "$CERT" "$KEY" --silent-conn-after 2
start_proxy "127.0.0.1:$DPORT#$NAME" -D upstream.timeout_ms=500 -D cache.enabled=false
for i in 1 2; do
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" "open$i.zone.example")" "query $i answered before the silence"
done
out=$(dns_client one --port "$PROXY_PORT" --name silent.zone.example --timeout 5)
log "query into the silent connection: $out"
assert_eq NOERROR "$(json_field "$out" rcode)" "the query caught in the silence is answered"
ms=$(json_field "$out" ms)
"$PY" -c "import sys; sys.exit(0 if $ms < 1500 else 1)" || fail "it took $ms ms (timeout_ms 500, limit 1500)"
pass "answered after ${ms%.*} ms (timeout_ms 500)"
assert_ge 2 "$(dot_stat handshakes)" "control: the silent connection was replaced"
(($(dot_stat queries) > $(dot_stat answered))) || fail "control: the server never went silent"
pass "control: the server left a query unanswered"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$DOT_PID" dot_server.py

# --- 3. an approval takes effect at once ------------------------------------------------------
TOKEN=secret
make_leaf "$TEST_TMP/pki/server2" "$TEST_TMP/pki/ca" "$NAME"
PIN2=$(spki_sha256 "$TEST_TMP/pki/server2.pem")
APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
DPORT=$(pick_port)
start_dot_server "$DPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$DPORT#$NAME" -D "admin.listen=127.0.0.1:$APORT" -D "admin.token=$TOKEN" \
	-D tls.pin_policy=enforce -D upstream.timeout_ms=500 -D cache.enabled=false
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" learn.zone.example)" "enforce: the first key is learned"
stop_pid "$DOT_PID" dot_server.py
start_dot_server "$DPORT" "$TEST_TMP/pki/server2.pem" "$TEST_TMP/pki/server2.key"
# Refused until 4 handshakes have been (the connect back-off has grown to its longest); the
# approval follows right after the last refused handshake, well inside that back-off.
n=0
until (($(stat_pins refusals) >= 4)); do
	n=$((n + 1))
	((n <= 40)) || fail "control: fewer than 4 refused handshakes after 40 queries"
	rc=$(kdig_rcode "$PROXY_PORT" "refused$n.zone.example")
	[[ $rc == SERVFAIL ]] || fail "control: query $n with the new key got '$rc'"
done
pass "control: $n queries refused while the new key is not approved ($(stat_pins refusals) refused handshakes)"
r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$ADMIN/pins")
assert_eq 200 "$r" "POST /pins approves the new key"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" approved.zone.example)" "the very next query after the approval answers"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$DOT_PID" dot_server.py

# --- 4. recovery after a 40 s outage ----------------------------------------------------------
# health: the HTTP status of GET /health.
health() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$ADMIN/health"; }
DPORT=$(pick_port)
start_dot_server "$DPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$DPORT#$NAME" -D upstream.timeout_ms=1000 -D cache.serve_stale=false \
	-D "admin.listen=127.0.0.1:$APORT"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" before.zone.example)" "answered before the outage"
stop_pid "$DOT_PID" dot_server.py
down_until=$((SECONDS + 40))
n=0
while ((SECONDS < down_until)); do
	n=$((n + 1))
	rc=$(kdig_rcode "$PROXY_PORT" "down$n.zone.example")
	[[ $rc == SERVFAIL ]] || fail "control: query $n during the outage got '$rc'"
	sleep 1
done
pass "control: $n queries during the 40 s outage got SERVFAIL"
assert_eq 503 "$(health)" "control: GET /health says 503 during the outage"
start_dot_server "$DPORT" "$CERT" "$KEY"
back=$(now_ms)
# No client query yet: the proxy's own probe must find the server.
until [[ $(health) == 200 ]]; do
	(($(now_ms) - back < 10000)) || fail "GET /health still 503 10 s after the server's return"
	sleep 0.1
done
ms=$(($(now_ms) - back))
((ms < 3000)) || fail "GET /health said 200 only $ms ms after the server's return (limit 3000)"
pass "GET /health says 200 $ms ms after the server's return, without client queries"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" back.zone.example)" "the next query is answered"
ms=$(($(now_ms) - back))
((ms < 3000)) || fail "first answer $ms ms after the server's return (limit 3000)"
pass "answered $ms ms after the server's return"
stop_pid "$DNSPROXY_PID" dnsproxy
