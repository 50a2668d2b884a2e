#!/usr/bin/env bash
# tests/e2e/test_fleet_trust.sh - Redis as a trust boundary (SPEC 4b, issue 18, acceptance 1, 2, 3
# and 5 without Sentinel): two proxies share through a Redis that needs a password and speaks TLS
# only; an answer changed inside Redis, a pin event replayed with another digest, a replayed event
# and an unsigned forget are all ignored and counted (fleet.rejected); a wrong password or a
# certificate for another name gives one clear log line while DNS and /health go on. Each attack
# has its control: the signed answer (1) and the signed approval and forget (3) are used.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
require_tool unbound unbound-control kdig curl openssl ss redis-server redis-cli
require_binary
use_test_pki dot.example
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/pki" "$UPORT"
UPSTREAM="127.0.0.1:$UPORT#$NAME"
TOKEN=secret
PASSWORD=fleet-pass-$RANDOM

# Redis with requirepass, TLS only (--port 0), its certificate for dot.example and 127.0.0.1.
REDIS_PORT=$(pick_port)
REDIS_CLI_ARGS=(--tls --cacert "$CA_FILE" --no-auth-warning -a "$PASSWORD")
TLS_ARGS=(--tls-cert-file "$CERT" --tls-key-file "$KEY" --tls-ca-cert-file "$CA_FILE" --tls-auth-clients no)
start_redis "$REDIS_PORT" --port 0 --tls-port "$REDIS_PORT" "${TLS_ARGS[@]}" --requirepass "$PASSWORD"
[[ $(redis-cli -p "$REDIS_PORT" ping 2>&1) != PONG ]] || fail "Redis answers in clear text"
URL="rediss://:$PASSWORD@127.0.0.1:$REDIS_PORT"

COMMON=(-D "upstream.timeout_ms=1000" -D "fleet.timeout_ms=200")
start_fleet_proxy A "$TEST_TMP/a.db" "$URL" "${COMMON[@]}"
start_fleet_proxy B "$TEST_TMP/b.db" "$URL" "${COMMON[@]}"
wait_for -t 10 fleet_ready "$A_ADMIN" || fail "proxy A did not start using Redis over TLS with a password"
wait_for -t 10 fleet_ready "$B_ADMIN" || fail "proxy B did not start using Redis over TLS with a password"

# --- 1. B answers what A resolved, without a query reaching the upstream ---------------------
assert_eq 192.0.2.1 "$(kdig_short "$A_PORT" shared.zone.example A)" "A resolves shared.zone.example"
wait_for -t 5 fleet_stat_ge "$A_ADMIN" writes 1 || fail "A did not write the answer to Redis"
before=$(unbound_queries)
assert_eq 192.0.2.1 "$(kdig_short "$B_PORT" shared.zone.example A)" "B answers shared.zone.example"
assert_eq "$before" "$(unbound_queries)" "B's answer came from Redis, not from the upstream"
assert_eq 1 "$(fleet_stat "$B_ADMIN" hits)" "B counts the Redis hit"
assert_eq 0 "$(fleet_stat "$B_ADMIN" rejected)" "control: the signed answer is not rejected"

# --- 2. an answer changed inside Redis (same key, same expiry) is not served ---------------------
cache_keys() { rcli "$REDIS_PORT" --scan --pattern 'dnsproxy:cache:*' | sort; }
keys_before=$(cache_keys)
assert_eq 192.0.2.1 "$(kdig_short "$A_PORT" forged.zone.example A)" "A resolves forged.zone.example"
new_key() { comm -13 <(echo "$keys_before") <(cache_keys) | grep -q .; }
wait_for -t 5 new_key || fail "A's answer for forged.zone.example did not reach Redis"
KEY=$(comm -13 <(echo "$keys_before") <(cache_keys) | head -n1)
# 192.0.2.1 becomes 203.0.113.66 in the stored answer; key and expiry stay as they were.
out=$("$PY" "$SUPPORT_DIR/redis_tool.py" --port "$REDIS_PORT" --tls "$CA_FILE" --password "$PASSWORD" \
	tamper "$KEY" c0000201 cb007142) || fail "could not change the value in Redis: $out"
log "$out (key $KEY)"
answer=$(kdig_short "$B_PORT" forged.zone.example A)
assert_not_contains "$answer" 203.0.113.66 "B does not serve the answer changed in Redis"
assert_eq 192.0.2.1 "$answer" "B answers from the upstream instead"
assert_eq 1 "$(fleet_stat "$B_ADMIN" rejected)" "fleet.rejected counts the changed answer"
assert_contains "$(curl -s -m 5 "$B_ADMIN/metrics")" "dnsproxy_fleet_rejected_total 1" "/metrics shows it too"

# --- 3. pin events: a signed approval reaches B; a changed, a replayed, an unsigned event do not --
make_leaf "$TEST_TMP/pki/server2" "$TEST_TMP/pki/ca" "$NAME"
make_leaf "$TEST_TMP/pki/server3" "$TEST_TMP/pki/ca" "$NAME"
PIN2=$(spki_sha256 "$TEST_TMP/pki/server2.pem")
PIN3=$(spki_sha256 "$TEST_TMP/pki/server3.pem")
source_of() { ADMIN=$1 pin_field "$2" source; }
source_is() { [[ $(source_of "$1" "$2") == "$3" ]]; }
rejected_is() { [[ $(fleet_stat "$B_ADMIN" rejected) == "$1" ]]; }
publish() { "$PY" "$SUPPORT_DIR/redis_tool.py" --port "$REDIS_PORT" --tls "$CA_FILE" --password "$PASSWORD" \
	publish dnsproxy:pins "$1" >/dev/null; }

SNIFFED=$TEST_TMP/pins-channel.txt
start_support_script "$SNIFFED" subscribed redis_tool.py --port "$REDIS_PORT" --tls "$CA_FILE" \
	--password "$PASSWORD" subscribe dnsproxy:pins
start_ns=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$A_ADMIN/pins")
assert_eq 200 "$code" "POST /pins on A approves a key"
until source_is "$B_ADMIN" "$PIN2" approved; do
	(($(date +%s%N) - start_ns < 1000000000)) || fail "B did not apply A's signed approval within 1 s"
	sleep 0.02
done
pass "control: B applied A's signed approval after $((($(date +%s%N) - start_ns) / 1000000)) ms (limit 1000)"

approved_by_a() { grep -q " approved $NAME $PIN2 " "$SNIFFED"; }
wait_for -t 5 approved_by_a || fail "the approval was not seen on the channel"
EVENT=$(grep -m1 " approved $NAME $PIN2 " "$SNIFFED")
log "A's event on the channel: $EVENT"
publish "${EVENT/$PIN2/$PIN3}"
wait_for -t 5 rejected_is 2 || fail "B did not count the event replayed with another digest"
assert_eq none "$(source_of "$B_ADMIN" "$PIN3")" "B did not apply the event replayed with another digest"
publish "$EVENT"
wait_for -t 5 rejected_is 3 || fail "B did not count the event replayed as it was"
publish "${EVENT%% *} forgotten $NAME"
wait_for -t 5 rejected_is 4 || fail "B did not count the unsigned forget"
assert_eq approved "$(source_of "$B_ADMIN" "$PIN2")" "B did not apply the unsigned forget"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$A_ADMIN/pins/$NAME")
assert_eq 200 "$code" "DELETE /pins/{name} on A"
wait_for -t 2 source_is "$B_ADMIN" "$PIN2" none || fail "control: B did not apply A's signed forget"
pass "control: B applied A's signed forget"
assert_eq 4 "$(fleet_stat "$B_ADMIN" rejected)" "the signed events were not rejected"

# --- 5. wrong password, certificate for another name: one clear line, DNS and /health go on -----
start_fleet_proxy WRONGPASS "$TEST_TMP/c.db" "rediss://:not-$PASSWORD@127.0.0.1:$REDIS_PORT" "${COMMON[@]}"
check_fleet_refused WRONGPASS 'AUTH refused.*WRONGPASS'

make_leaf_for_other() { _make_leaf "$1" "$TEST_TMP/pki/ca" other.example "DNS:other.example"; }
make_leaf_for_other "$TEST_TMP/pki/other"
OTHER_PORT=$(pick_port)
start_redis "$OTHER_PORT" --port 0 --tls-port "$OTHER_PORT" --tls-cert-file "$TEST_TMP/pki/other.pem" \
	--tls-key-file "$TEST_TMP/pki/other.key" --tls-ca-cert-file "$CA_FILE" --tls-auth-clients no \
	--requirepass "$PASSWORD"
start_fleet_proxy MISMATCH "$TEST_TMP/d.db" "rediss://:$PASSWORD@127.0.0.1:$OTHER_PORT" "${COMMON[@]}"
check_fleet_refused MISMATCH 'redis tls 127\.0\.0\.1:[0-9]+: cannot be used.*[Cc]ertificate'

stop_pid "$A_PID" "proxy A"
stop_pid "$B_PID" "proxy B"
