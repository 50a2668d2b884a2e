#!/usr/bin/env bash
# tests/e2e/test_fleet_silent_redis.sh - a Redis that accepts connections but never answers
# (SPEC 4b, issue 11, acceptance 4): DNS answers still flow, the breaker opens, the counters show
# it. Then a real Redis that stops answering mid-way (SIGSTOP): one lookup pays timeout_ms, the
# breaker opens for the rest, and it closes again by itself once Redis answers (SIGCONT).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
fleet_setup
TIMEOUT_MS=50

# --- a listener that reads and stays silent ---------------------------------------------------
SILENT_PORT=$(pick_port)
start_silent_redis "$SILENT_PORT"
start_fleet_proxy S "$TEST_TMP/s.db" "redis://127.0.0.1:$SILENT_PORT" -D "fleet.timeout_ms=$TIMEOUT_MS"
NAMES=()
for i in $(seq 1 20); do NAMES+=("silent$i.zone.example" silent1.zone.example); done
json=$(timed_queries "$S_PORT" "${NAMES[@]}")
log "with a silent Redis: $json"
assert_eq 0 "$(json_field "$json" failed)" "every query answered with a silent Redis"
max=$(json_field "$json" max_ms)
num_is "$max" '<=' $((TIMEOUT_MS + 250)) || fail "an answer took $max ms"
pass "no answer slower than timeout_ms + usual ($max ms)"
assert_eq open "$(fleet_stat "$S_ADMIN" breaker)" "the breaker is open"
assert_ge 1 "$(fleet_stat "$S_ADMIN" errors)" "/stats fleet.errors counts the timeouts"
assert_ge 20 "$(fleet_stat "$S_ADMIN" skipped)" "/stats fleet.skipped counts lookups not sent"
assert_eq 0 "$(fleet_stat "$S_ADMIN" hits)" "no Redis hits"
metrics=$(curl -s -m 5 "$S_ADMIN/metrics")
assert_contains "$metrics" "dnsproxy_fleet_breaker_open 1" "/metrics shows the breaker open"
assert_contains "$metrics" "dnsproxy_fleet_redis_errors_total" "/metrics has the error counter"
stop_pid "$S_PID" "proxy with a silent Redis"

# --- a real Redis that stops answering --------------------------------------------------------
start_fleet_proxy A "$TEST_TMP/a.db" "$REDIS_URL" -D "fleet.timeout_ms=$TIMEOUT_MS"
wait_for -t 10 fleet_ready "$A_ADMIN" || fail "proxy A did not start using Redis"
assert_eq 0 "$(fleet_stat "$A_ADMIN" breaker_opens)" "no breaker opening while Redis is healthy"
kill -STOP "$REDIS_PID"
NAMES=()
for i in $(seq 1 20); do NAMES+=("frozen$i.zone.example"); done
json=$(timed_queries "$A_PORT" "${NAMES[@]}")
kill -CONT "$REDIS_PID"
log "with Redis frozen: $json"
assert_eq 0 "$(json_field "$json" failed)" "every query answered while Redis is frozen"
rest=$(json_field "$json" rest_max_ms)
num_is "$rest" '<=' $((TIMEOUT_MS + 250)) || fail "an answer after the first took $rest ms"
pass "after the first, no answer slower than timeout_ms + usual ($rest ms)"
assert_ge 1 "$(fleet_stat "$A_ADMIN" breaker_opens)" "/stats fleet.breaker_opens counts the opening"
assert_ge 1 "$(fleet_stat "$A_ADMIN" errors)" "/stats fleet.errors counts the timeout"
wait_for -t 15 fleet_ready "$A_ADMIN" || fail "the breaker did not close after Redis came back"
assert_ge 1 "$(fleet_stat "$A_ADMIN" reconnects)" "the background probe reconnected by itself"
stop_pid "$A_PID" "proxy A"
