#!/usr/bin/env bash
# tests/e2e/test_cache_prefetch.sh - issue 5 acceptance 4: a query in the last 10% of an entry's
# TTL is answered from the cache and triggers exactly one background refresh upstream, after
# which the entry's TTL is renewed.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control dig openssl ss
require_binary

start_cache_test_unbound "pf.cache.test. 20 IN A 192.0.2.30"
start_proxy "$UPSTREAM"
P=$PROXY_PORT

ttl_of() { dig @127.0.0.1 -p "$P" +tries=1 +time=6 +noall +answer "$@" | awk 'NF >= 5 { print $2; exit }'; }

start=$EPOCHREALTIME
assert_eq 20 "$(ttl_of pf.cache.test A)" "first answer from the upstream, TTL 20"
asked=$(unbound_queries)
early=$(ttl_of pf.cache.test A)
assert_eq "$asked" "$(unbound_queries)" "a hit early in the TTL does not refresh"

# The last 10% of 20 s is the last 2 s: ask 18.3 s after the first query.
wait_s=$(awk -v s="$start" -v n="$EPOCHREALTIME" 'BEGIN { w = 18.3 - (n - s); print (w > 0 ? w : 0) }')
sleep "$wait_s"
late=$(ttl_of pf.cache.test A)
((late >= 1 && late <= 2)) || fail "expected a cached TTL of 1-2 s in the last 10%, got '$late'"
pass "query in the last 10% answered from the cache (TTL $late)"
queries_are() { test "$(unbound_queries)" -eq "$1"; }
wait_for -t 5 queries_are "$((asked + 1))" || fail "no background refresh: unbound saw $(unbound_queries), expected $((asked + 1))"
pass "one background refresh reached the upstream"
renewed=$(ttl_of pf.cache.test A)
((renewed >= 19)) || fail "TTL not renewed by the prefetch: $renewed"
pass "entry TTL renewed by the prefetch ($early -> $late -> $renewed)"
ttl_of pf.cache.test A >/dev/null
assert_eq "$((asked + 1))" "$(unbound_queries)" "exactly one refresh, answers from the cache again"

stop_pid "$DNSPROXY_PID" dnsproxy
