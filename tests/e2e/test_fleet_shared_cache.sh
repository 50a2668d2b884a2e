#!/usr/bin/env bash
# tests/e2e/test_fleet_shared_cache.sh - two proxies share one Redis cache tier (SPEC 4b, issue 11):
#   1. a name resolved through A is answered by B without a query reaching the upstream, with the
#      remaining TTL;
#   3. redis-server stopped: both proxies keep answering (hits and misses), none slower than
#      timeout_ms + the usual upstream time after the first; restarted: sharing resumes by itself.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
fleet_setup

TIMEOUT_MS=50
start_fleet_proxy A "$TEST_TMP/a.db" "$REDIS_URL" -D "fleet.timeout_ms=$TIMEOUT_MS"
start_fleet_proxy B "$TEST_TMP/b.db" "$REDIS_URL" -D "fleet.timeout_ms=$TIMEOUT_MS"
wait_both_ready 10 start
pass "both proxies use Redis (breaker closed, subscribed)"

# --- 1. resolved through A, answered by B from Redis ------------------------------------------
assert_eq 192.0.2.1 "$(kdig_short "$A_PORT" shared.zone.example A)" "A resolves shared.zone.example"
wait_for -t 5 redis_has_cache_key || fail "A did not write the answer to Redis"
KEY=$(redis_cache_keys | head -n1)
assert_contains "$KEY" "dnsproxy:cache:0673686172656404" "the Redis key is the prefix plus the hex cache key"
pttl=$(redis-cli -p "$REDIS_PORT" pttl "$KEY")
((pttl > 290000 && pttl <= 300000)) || fail "the key's expiry is the answer's TTL (300 s): PTTL $pttl"
pass "the Redis key expires with the answer's TTL (PTTL $pttl ms)"

# Let at least two seconds of the TTL run out so that "remaining TTL" is visible.
aged() { (($(redis-cli -p "$REDIS_PORT" pttl "$KEY") <= 297999)); }
wait_for -t 10 aged || fail "PTTL did not count down"
before=$(unbound_queries)
ttl=$(answer_ttl "$B_PORT" shared.zone.example)
after=$(unbound_queries)
assert_eq "$before" "$after" "B answered without a query reaching the upstream"
[[ $ttl != none ]] && ((ttl <= 298 && ttl >= 280)) || fail "B's answer carries the remaining TTL (<= 298), got $ttl"
pass "B's answer carries the remaining TTL ($ttl s)"
assert_eq 1 "$(fleet_stat "$B_ADMIN" hits)" "B counts one Redis hit"
# Now in B's local cache: a second query is a local hit, not a Redis lookup.
answer_ttl "$B_PORT" SHARED.zone.example >/dev/null
assert_eq 1 "$(fleet_stat "$B_ADMIN" hits)" "B's local cache holds it afterwards (no second Redis lookup)"
assert_eq "$before" "$(unbound_queries)" "still nothing new at the upstream"
metrics=$(curl -s -m 5 "$B_ADMIN/metrics")
assert_contains "$metrics" "dnsproxy_fleet_redis_hits_total 1" "/metrics shows the Redis hit"
assert_contains "$metrics" "dnsproxy_fleet_breaker_open 0" "/metrics shows the breaker closed"

# --- 3. Redis stopped: DNS goes on ---------------------------------------------------------
stop_redis
log "redis-server stopped"
# Misses (new names: upstream) and hits (shared.zone.example is cached locally on both).
NAMES=()
for i in $(seq 1 15); do NAMES+=("down$i.zone.example" shared.zone.example); done
for P in "$A_PORT" "$B_PORT"; do
	json=$(timed_queries "$P" "${NAMES[@]}")
	log "proxy on $P with Redis down: $json"
	assert_eq 0 "$(json_field "$json" failed)" "every query answered with Redis down (port $P)"
	rest=$(json_field "$json" rest_max_ms)
	# timeout_ms + the usual upstream time (a local unbound: a few ms; 250 ms of slack for CI).
	num_is "$rest" '<=' $((TIMEOUT_MS + 250)) ||
		fail "an answer after the first took $rest ms with Redis down (port $P)"
	pass "no answer after the first slower than timeout_ms + usual ($rest ms, port $P)"
done
wait_for -t 5 fleet_stat_is "$A_ADMIN" breaker open || fail "A's breaker did not open"
pass "A's breaker is open while Redis is down"
assert_ge 1 "$(fleet_stat "$A_ADMIN" errors)" "A counts Redis errors"

# --- 3b. Redis back: sharing resumes by itself ----------------------------------------------
start_redis "$REDIS_PORT"
log "redis-server restarted (empty)"
wait_both_ready 15 resume
pass "both proxies use Redis again without a restart"
assert_eq 192.0.2.1 "$(kdig_short "$A_PORT" again.zone.example A)" "A resolves again.zone.example"
wait_for -t 5 redis_has_cache_key || fail "A did not write to the restarted Redis"
before=$(unbound_queries)
assert_eq 192.0.2.1 "$(kdig_short "$B_PORT" again.zone.example A)" "B answers again.zone.example"
assert_eq "$before" "$(unbound_queries)" "after the restart B is answered from Redis again"

stop_pid "$A_PID" "proxy A"
stop_pid "$B_PID" "proxy B"
