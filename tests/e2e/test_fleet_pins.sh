#!/usr/bin/env bash
# tests/e2e/test_fleet_pins.sh - two proxies share one pin store through Redis (SPEC 4b, issue 11,
# acceptance 2): with pin_policy = enforce, a new upstream key approved through B's POST /pins
# is accepted by A within 1 s, and survives A's restart with Redis stopped (A's SQLite has it).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
fleet_setup
TOKEN=secret
make_leaf "$TEST_TMP/pki/server2" "$TEST_TMP/pki/ca" "$NAME"
PIN1=$(spki_sha256 "$CERT")
PIN2=$(spki_sha256 "$TEST_TMP/pki/server2.pem")

COMMON=(-D "tls.pin_policy=enforce" -D "upstream.timeout_ms=500" -D "cache.enabled=false" -D "fleet.timeout_ms=50")
start_fleet_proxy A "$TEST_TMP/a.db" "$REDIS_URL" "${COMMON[@]}"
start_fleet_proxy B "$TEST_TMP/b.db" "$REDIS_URL" "${COMMON[@]}"
wait_both_ready 10 start

# source_of ADMIN DIGEST: the source GET /pins on ADMIN shows for DIGEST under $NAME, or "none".
source_of() { ADMIN=$1 pin_field "$2" source; }
source_is() { [[ $(source_of "$1" "$2") == "$3" ]]; }
answers_ok() { [[ $(kdig_short "$1" "$2" A) == 192.0.2.1 ]]; }

# Trust on first use through A; the learned key reaches Redis and B.
assert_eq 192.0.2.1 "$(kdig_short "$A_PORT" first.zone.example A)" "A's first query (key learned)"
assert_eq learned "$(source_of "$A_ADMIN" "$PIN1")" "A learned the upstream key"
wait_for -t 5 source_is "$B_ADMIN" "$PIN1" learned || fail "B did not receive A's learned key"
pass "B received the key A learned"
stored=$(redis-cli -p "$REDIS_PORT" hget "dnsproxy:pins:$NAME" "$PIN1")
assert_eq learned "${stored%% *}" "Redis holds the learned key in dnsproxy:pins:<name> (signed: $stored)"

# Key rollover on the upstream: refused by both until approved.
stop_pid "$UNBOUND_PID" unbound
start_unbound_dot "$TEST_TMP/pki" "$UPORT" "$TEST_TMP/pki/server2.pem" "$TEST_TMP/pki/server2.key"
assert_eq SERVFAIL "$(kdig_rcode "$A_PORT" rolled.zone.example A)" "enforce: A refuses the new key"

start_ns=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$B_ADMIN/pins")
assert_eq 200 "$code" "POST /pins on B approves the new key"
until source_is "$A_ADMIN" "$PIN2" approved; do
	(($(date +%s%N) - start_ns < 1000000000)) || fail "A did not show B's approval within 1 s"
	sleep 0.02
done
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
pass "A has B's approval after $elapsed_ms ms (limit 1000)"
assert_ge 1 "$(fleet_stat "$A_ADMIN" pins_applied)" "A counts applied pin events"
# The upstream may be backing off after the refusal; it is probed again soon.
wait_for -t 20 answers_ok "$A_PORT" approved.zone.example || fail "A still refuses the approved key"
pass "A accepts the new key approved through B"

# A restarts while Redis is down: the approval is in A's own SQLite file.
stop_pid "$A_PID" "proxy A"
stop_redis
start_fleet_proxy A "$TEST_TMP/a.db" "$REDIS_URL" "${COMMON[@]}"
assert_eq approved "$(source_of "$A_ADMIN" "$PIN2")" "after a restart without Redis A still lists the approval"
wait_for -t 20 answers_ok "$A_PORT" restarted.zone.example || fail "A refuses the approved key after its restart"
pass "A accepts the approved key after a restart with Redis stopped"
assert_eq open "$(fleet_stat "$A_ADMIN" breaker)" "A's breaker is open (Redis down)"

# Forget through A once Redis is back: B forgets too.
start_redis "$REDIS_PORT"
wait_both_ready 15 resume
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$A_ADMIN/pins/$NAME")
assert_eq 200 "$code" "DELETE /pins/{name} on A"
wait_for -t 2 source_is "$B_ADMIN" "$PIN2" none || fail "B did not apply A's forget"
pass "B applied the forget published by A"

stop_pid "$A_PID" "proxy A"
stop_pid "$B_PID" "proxy B"
