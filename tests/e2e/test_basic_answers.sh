#!/usr/bin/env bash
# tests/e2e/test_basic_answers.sh - real clients (kdig, dig, getdns_query) over UDP and TCP get
# answers through dnsproxy from a real unbound DoT upstream; NXDOMAIN passes through; the
# startup lines are exact (SPEC §2); SIGTERM exits 0 within 5 s.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig dig getdns_query openssl ss
require_binary

start_test_unbound
start_proxy "$UPSTREAM"
P=$PROXY_PORT

# Startup lines: exactly one per listener and protocol, in the SPEC's form.
lines=$(grep -E '^\[dnsproxy\] (udp|tcp)://' "$PROXY_LOG" || true)
assert_eq "[dnsproxy] udp://127.0.0.1:$P -> tcp+tls://127.0.0.1:$UPORT
[dnsproxy] tcp://127.0.0.1:$P -> tcp+tls://127.0.0.1:$UPORT" "$lines" "startup log has exactly the udp and tcp listener lines"

assert_eq 192.0.2.1 "$(kdig_short "$P" a.zone.example A)" "kdig UDP A answer"
assert_eq 192.0.2.1 "$(kdig_short "$P" +tcp b.zone.example A)" "kdig TCP A answer"
assert_eq 192.0.2.1 "$(dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 c.zone.example A)" "dig UDP A answer"
assert_eq 192.0.2.1 "$(dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 +tcp d.zone.example A)" "dig TCP A answer"

# getdns_query in stub mode (-s); without it, it would recurse through libunbound itself.
out=$(getdns_query -s "@127.0.0.1:$P" -l U -A e.zone.example 2>&1) || fail "getdns_query UDP failed: $out"
assert_contains "$out" '"address_data": <bindata for 192.0.2.1>' "getdns_query stub UDP address answer"
out=$(getdns_query -s "@127.0.0.1:$P" -l T -A f.zone.example 2>&1) || fail "getdns_query TCP failed: $out"
assert_contains "$out" '"address_data": <bindata for 192.0.2.1>' "getdns_query stub TCP address answer"

assert_eq NXDOMAIN "$(kdig_rcode "$P" no.nx.zone.example A)" "kdig UDP NXDOMAIN passes through"
assert_eq NXDOMAIN "$(kdig_rcode "$P" +tcp other.nx.zone.example A)" "kdig TCP NXDOMAIN passes through"
out=$(dig @127.0.0.1 -p "$P" +tries=1 +time=6 third.nx.zone.example A 2>&1) || true
assert_contains "$out" "status: NXDOMAIN" "dig NXDOMAIN passes through"

# The answers really came from the upstream over DoT.
assert_ge 1 "$(unbound_queries)" "unbound received the forwarded queries"

stop_pid "$DNSPROXY_PID" dnsproxy
