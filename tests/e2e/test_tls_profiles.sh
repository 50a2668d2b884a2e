#!/usr/bin/env bash
# tests/e2e/test_tls_profiles.sh - privacy profiles (SPEC §5, issue 6 acceptance 1 and 2).
#   strict: an upstream whose certificate comes from another CA gets SERVFAIL, and a plain
#     UDP/TCP listener on port 53 of the upstream's own address receives nothing.
#   opportunistic: the same server answers over unauthenticated TLS (warning logged); a server
#     that only speaks clear DNS on port 53 of its address is answered in clear text (the
#     clear responder sees the query, warning logged); a server the pin store has seen speak
#     TLS that then stops speaking it gets no clear-text query (SERVFAIL, warning), in the same
#     run and after a restart with the same storage.path (downgrade protection).
# Each upstream gets a loopback address of its own (127.x.y.z) so the test owns port 53 there.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss
require_binary
require_root "listens on port 53"

use_test_pki
PKI=$TEST_TMP/pki
write_ini "$TEST_TMP/dnsproxy.ini"
in_log() { grep -qF -- "$2" "$1"; }
qnames_of() { json_stat "$1" qnames; }

# --- 1. strict: certificate from another CA -------------------------------------------------
IP1=$(pick_loopback_ip)
UPORT1=$(pick_port "$IP1")
log "evil-CA upstream on $IP1:$UPORT1, plain listener on $IP1:53"
start_unbound_dot "$TEST_TMP/evil" "$UPORT1" "$PKI/evil.pem" "$PKI/evil.key" "$IP1"
EVIL_CONF=$UNBOUND_CONF
start_sniffer "$IP1" 53 strictprobe
SNIFF1=$SNIFF_STATS
start_proxy "$IP1:$UPORT1#$NAME" -D tls.profile=strict -D upstream.timeout_ms=1000
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" strictprobe1.zone.example A)" "strict, certificate from another CA: SERVFAIL over UDP"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp strictprobe2.zone.example A)" "strict, certificate from another CA: SERVFAIL over TCP"
assert_eq 0 "$(unbound_queries "$EVIL_CONF")" "strict: no query reached the upstream with the untrusted certificate"
in_log "$PROXY_LOG" "cannot connect" || fail "strict: no 'cannot connect' line in the log"
pass "strict: the refused upstream is logged ($(grep -m1 -F 'cannot connect' "$PROXY_LOG"))"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq 0 "$(json_stat "$SNIFF1" tcp_connections)" "strict: no TCP connection to port 53 of the upstream's address"
assert_eq 0 "$(json_stat "$SNIFF1" udp_packets)" "strict: no UDP packet to port 53 of the upstream's address"
assert_eq false "$(json_stat "$SNIFF1" needle_seen)" "strict: the query name was never sent in clear text"

# --- 2a. opportunistic: the same evil-CA server answers over unauthenticated TLS ------------
start_proxy "$IP1:$UPORT1#$NAME" -D tls.profile=opportunistic -D upstream.timeout_ms=1000
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" strictprobe3.zone.example A)" "opportunistic: the evil-CA server answers (unauthenticated TLS)"
assert_ge 1 "$(unbound_queries "$EVIL_CONF")" "opportunistic: the query went to the TLS server"
in_log "$PROXY_LOG" "using unauthenticated TLS" || fail "opportunistic: no warning about unauthenticated TLS"
pass "opportunistic: warning logged ($(grep -m1 -F 'unauthenticated TLS' "$PROXY_LOG"))"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq 0 "$(json_stat "$SNIFF1" tcp_connections)" "opportunistic: unauthenticated TLS preferred, nothing sent to port 53 (TCP)"
assert_eq 0 "$(json_stat "$SNIFF1" udp_packets)" "opportunistic: nothing sent to port 53 (UDP)"
stop_pid "$UNBOUND_PID" unbound
stop_pid "$SNIFF_PID" plain_sniffer.py

# --- 2b. a server that only speaks clear DNS --------------------------------------------------
IP2=$(pick_loopback_ip)
UPORT2=$(pick_port "$IP2") # nothing listens there: TLS is refused
log "clear-only server: nothing on $IP2:$UPORT2, clear DNS on $IP2:53"
start_clear_dns "$IP2"
CLEAR2=$CLEAR_STATS
# strict first: the clear responder must see nothing.
start_proxy "$IP2:$UPORT2#$NAME" -D tls.profile=strict -D upstream.timeout_ms=1000
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" strictclear.zone.example A)" "strict, server without TLS: SERVFAIL"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq "0 0 []" "$(json_stat "$CLEAR2" tcp_connections) $(json_stat "$CLEAR2" udp_queries) $(qnames_of "$CLEAR2")" \
	"strict: the clear-text responder on port 53 saw nothing"
APORT2=$(pick_port)
start_proxy "$IP2:$UPORT2#$NAME" -D tls.profile=opportunistic -D upstream.timeout_ms=1000 -D "admin.listen=127.0.0.1:$APORT2"
assert_eq 192.0.2.53 "$(kdig_short "$PROXY_PORT" clearonly.zone.example A)" "opportunistic, server without TLS: answered in clear text (UDP client)"
assert_eq 192.0.2.53 "$(kdig_short "$PROXY_PORT" +tcp clearonly2.zone.example A)" "opportunistic, server without TLS: answered in clear text (TCP client)"
assert_contains "$(qnames_of "$CLEAR2")" clearonly.zone.example "the clear-text responder on port 53 saw the query"
in_log "$PROXY_LOG" "using clear-text DNS to $IP2:53" || fail "opportunistic: no warning about the clear-text fallback"
pass "opportunistic: clear-text fallback logged ($(grep -m1 -F 'clear-text DNS' "$PROXY_LOG"))"
stats=$(curl -s "http://127.0.0.1:$APORT2/stats")
upstream_stat() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["upstreams"][0][sys.argv[2]])' "$stats" "$1"; }
assert_eq clear "$(upstream_stat transport)" "opportunistic: /stats shows the upstream speaking clear text"
assert_ge 1 "$(upstream_stat clear_text_fallbacks)" "opportunistic: /stats counts the clear-text fallback"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$CLEAR_PID" clear_dns_server.py

# --- 2c. downgrade protection: a server seen speaking TLS never gets clear text -------------
IP3=$(pick_loopback_ip)
UPORT3=$(pick_port "$IP3")
DB3=$TEST_TMP/downgrade.sqlite
log "downgrade: DoT server on $IP3:$UPORT3, later only clear DNS on $IP3:53"
start_unbound_dot "$TEST_TMP/good" "$UPORT3" "$PKI/server.pem" "$PKI/server.key" "$IP3"
start_proxy "$IP3:$UPORT3#$NAME" -D tls.profile=opportunistic -D upstream.timeout_ms=1000 -D "storage.path=$DB3"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" seen.zone.example A)" "opportunistic: the server speaks (authenticated) TLS once"
stop_pid "$UNBOUND_PID" unbound
start_clear_dns "$IP3"
CLEAR3=$CLEAR_STATS
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" downgrade1.zone.example A)" "TLS gone: SERVFAIL, no clear-text fallback (UDP client)"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp downgrade2.zone.example A)" "TLS gone: SERVFAIL, no clear-text fallback (TCP client)"
in_log "$PROXY_LOG" "downgrade refused" || fail "no downgrade warning in the log"
pass "downgrade refusal logged ($(grep -m1 -F 'downgrade refused' "$PROXY_LOG"))"
stop_pid "$DNSPROXY_PID" dnsproxy
# A restart with the same database: the history of TLS is in the pin store.
start_proxy "$IP3:$UPORT3#$NAME" -D tls.profile=opportunistic -D upstream.timeout_ms=1000 -D "storage.path=$DB3"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" downgrade3.zone.example A)" "after a restart (same storage.path): still no clear-text fallback"
in_log "$PROXY_LOG" "downgrade refused" || fail "after a restart: no downgrade warning in the log"
pass "after a restart: downgrade refusal logged"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq "0 0 []" "$(json_stat "$CLEAR3" tcp_connections) $(json_stat "$CLEAR3" udp_queries) $(qnames_of "$CLEAR3")" \
	"the clear-text responder on port 53 of the TLS server's address saw nothing"
# Control: a fresh database (no TLS history) does fall back to the same clear responder, so the
# refusal above came from the pin store, not from an unreachable port 53.
start_proxy "$IP3:$UPORT3#$NAME" -D tls.profile=opportunistic -D upstream.timeout_ms=1000
assert_eq 192.0.2.53 "$(kdig_short "$PROXY_PORT" control.zone.example A)" "control: without TLS history the same server is reached in clear text"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$CLEAR_PID" clear_dns_server.py
