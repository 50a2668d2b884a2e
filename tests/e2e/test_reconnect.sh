#!/usr/bin/env bash
# tests/e2e/test_reconnect.sh - an upstream connection closed by the server is reopened on
# demand (SPEC §4): a DoT server that closes after every 5 answers still answers 20
# sequential queries; one that closes idle connections answers the query after the close;
# unbound restarted between two queries answers the second.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss
require_binary

use_test_pki

# 1. Server closes the connection after every 5 answers.
start_test_dot_server --close-after 5
start_proxy "$UPSTREAM"
answered=0
for ((i = 1; i <= 20; i++)); do
	a=$(kdig_short "$PROXY_PORT" "seq$i.zone.example" A || true)
	if [[ $a == 192.0.2.1 ]]; then
		answered=$((answered + 1))
	else
		log "query $i (seq$i.zone.example) got: '${a}'"
	fi
done
assert_eq 20 "$answered" "20 sequential queries answered while the server closes after every 5"
assert_ge 4 "$(dot_stat handshakes)" "the proxy reopened the connection (TLS handshakes seen by the server)"
assert_ge 4 "$(dot_stat closed_by_server)" "the server did close connections"
stop_proxy_and_dot_server

# 2. Server closes connections idle for 300 ms.
start_test_dot_server --idle-close-ms 300
start_proxy "$UPSTREAM"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" idle1.zone.example A)" "query before the idle close answered"
wait_for -t 10 dot_stat_is closed_by_server -ge 1 || fail "dot_server.py never closed the idle connection"
wait_for -t 10 dot_stat_is connections -eq 0 || fail "the idle connection did not go away"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" idle2.zone.example A)" "query after the server closed the idle connection answered"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp idle3.zone.example A)" "next query (TCP client) answered too"
assert_ge 2 "$(dot_stat handshakes)" "a new TLS connection was opened after the idle close"
stop_proxy_and_dot_server

# 3. unbound restarted between two queries.
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/pki" "$UPORT"
start_proxy "127.0.0.1:$UPORT#$NAME"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" before.zone.example A)" "query before the unbound restart answered"
stop_pid "$UNBOUND_PID" unbound
start_unbound_dot "$TEST_TMP/pki" "$UPORT"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" after.zone.example A)" "query after the unbound restart answered"
assert_ge 1 "$(unbound_queries)" "the restarted unbound received the query"

stop_pid "$DNSPROXY_PID" dnsproxy
