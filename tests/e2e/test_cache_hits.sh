#!/usr/bin/env bash
# tests/e2e/test_cache_hits.sh - issue 5 acceptance 1 and 2 against a real unbound DoT upstream:
# repeated queries are answered from the cache (unbound's query count unchanged) with TTLs that
# count down, a short-TTL record is fetched again after expiry, and NXDOMAIN/NODATA are cached
# for the RFC 2308 TTL, min(SOA TTL, SOA MINIMUM).
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control dig openssl ss
require_binary

# cache.test: an SOA with TTL 3600 and MINIMUM 60, so negative answers live 60 s (RFC 2308 5).
start_cache_test_unbound "long.cache.test. 300 IN A 192.0.2.10" "short.cache.test. 3 IN A 192.0.2.3"
start_proxy "$UPSTREAM"
P=$PROXY_PORT

# ttl_of ARGS...: the TTL of the first answer (or authority, with +noall +authority) record.
ttl_of() { dig @127.0.0.1 -p "$P" +tries=1 +time=6 +noall "$@" | awk 'NF >= 5 && $1 !~ /^;/ { print $2; exit }'; }

# 1. Repeated query from the cache, TTL counting down.
first=$(ttl_of +answer long.cache.test A)
assert_eq 300 "$first" "first answer carries the upstream TTL"
asked=$(unbound_queries)
second=$(ttl_of +answer LONG.Cache.Test A)
assert_eq "$asked" "$(unbound_queries)" "repeated query (other letter case) answered from the cache"
assert_ge 299 "$second" "cached TTL is at most the stored one"
# Let two seconds pass: the point is the clock moving, not synchronisation.
sleep 2
later=$(ttl_of +answer long.cache.test A)
((later <= 298)) || fail "TTL did not count down: $later 2 s after $first"
pass "TTL counts down on cache hits ($first -> $later after 2 s)"
assert_eq "$asked" "$(unbound_queries)" "still no upstream query"

# ... and after the TTL the upstream is asked again.
assert_eq 192.0.2.3 "$(dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 short.cache.test A)" "short TTL record answered"
asked=$(unbound_queries)
dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 short.cache.test A >/dev/null
assert_eq "$asked" "$(unbound_queries)" "short TTL record cached while fresh"
sleep 4 # past the 3 s TTL
assert_eq 192.0.2.3 "$(dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 short.cache.test A)" "expired record answered"
assert_eq "$((asked + 1))" "$(unbound_queries)" "expired record fetched from the upstream again"

# 2. NXDOMAIN and NODATA, cached for min(SOA TTL 3600, MINIMUM 60) = 60 s.
out=$(dig @127.0.0.1 -p "$P" +tries=1 +time=6 nosuch.cache.test A 2>&1)
assert_contains "$out" "status: NXDOMAIN" "NXDOMAIN from the upstream"
asked=$(unbound_queries)
out=$(dig @127.0.0.1 -p "$P" +tries=1 +time=6 nosuch.cache.test A 2>&1)
assert_contains "$out" "status: NXDOMAIN" "NXDOMAIN again"
assert_eq "$asked" "$(unbound_queries)" "NXDOMAIN answered from the cache"
nxttl=$(ttl_of +authority nosuch.cache.test A)
((nxttl <= 60 && nxttl >= 55)) || fail "NXDOMAIN SOA TTL should be the RFC 2308 TTL (<= 60), got '$nxttl'"
pass "NXDOMAIN cached with the RFC 2308 TTL ($nxttl s)"

out=$(dig @127.0.0.1 -p "$P" +tries=1 +time=6 long.cache.test AAAA 2>&1)
assert_contains "$out" "status: NOERROR" "NODATA from the upstream"
assert_contains "$out" "ANSWER: 0" "NODATA has no answer records"
asked=$(unbound_queries)
ndttl=$(ttl_of +authority long.cache.test AAAA)
assert_eq "$asked" "$(unbound_queries)" "NODATA answered from the cache"
((ndttl <= 60 && ndttl >= 55)) || fail "NODATA SOA TTL should be the RFC 2308 TTL (<= 60), got '$ndttl'"
pass "NODATA cached with the RFC 2308 TTL ($ndttl s)"

# Cache off: every query goes upstream.
stop_pid "$DNSPROXY_PID" dnsproxy
start_proxy "$UPSTREAM" -D cache.enabled=false
P=$PROXY_PORT
dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 long.cache.test A >/dev/null
asked=$(unbound_queries)
assert_eq 192.0.2.10 "$(dig @127.0.0.1 -p "$P" +short +tries=1 +time=6 long.cache.test A)" "answer with cache disabled"
assert_eq "$((asked + 1))" "$(unbound_queries)" "cache.enabled=false: repeated query goes upstream"
stop_pid "$DNSPROXY_PID" dnsproxy
