#!/usr/bin/env bash
# tests/e2e/test_fleet_sentinel.sh - the fleet behind Redis Sentinel (SPEC 4b, issue 18,
# acceptance 4 and the Sentinel part of 5): a master with a password, its replica and one
# Sentinel; two proxies find the master through redis+sentinel://. The master is killed: sharing
# resumes through the promoted replica within 20 s while DNS never stops. A proxy whose Sentinel
# is unreachable logs it once and serves DNS with /health ok.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
require_tool unbound unbound-control kdig curl openssl ss redis-server redis-cli redis-sentinel
require_binary
use_test_pki dot.example
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/pki" "$UPORT"
UPSTREAM="127.0.0.1:$UPORT#$NAME"
PASSWORD=fleet-pass-$RANDOM
REDIS_CLI_ARGS=(--no-auth-warning -a "$PASSWORD")

MASTER_PORT=$(pick_port)
REPLICA_PORT=$(pick_port)
SENTINEL_PORT=$(pick_port)
start_redis "$MASTER_PORT" --requirepass "$PASSWORD" --masterauth "$PASSWORD"
MASTER_PID=$REDIS_PID
start_redis "$REPLICA_PORT" --requirepass "$PASSWORD" --masterauth "$PASSWORD" \
	--replicaof 127.0.0.1 "$MASTER_PORT"
REPLICA_PID=$REDIS_PID
replica_linked() { rcli "$REPLICA_PORT" info replication | grep -q '^master_link_status:up'; }
wait_for -t 10 replica_linked || fail "the replica did not connect to the master"

# One Sentinel, quorum 1, quick to declare the master down and to fail over.
cat >"$TEST_TMP/sentinel.conf" <<EOF
port $SENTINEL_PORT
bind 127.0.0.1
dir $TEST_TMP
sentinel monitor mymaster 127.0.0.1 $MASTER_PORT 1
sentinel auth-pass mymaster $PASSWORD
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
EOF
redis-sentinel "$TEST_TMP/sentinel.conf" >"$TEST_TMP/sentinel.log" 2>&1 &
E2E_PIDS+=("$!")
show_on_fail "$TEST_TMP/sentinel.log"
sentinel_knows_replica()
{
	[[ $(redis-cli -p "$SENTINEL_PORT" sentinel replicas mymaster 2>/dev/null | grep -c "^127.0.0.1:$REPLICA_PORT$") == 1 ]]
}
wait_for -t 15 sentinel_knows_replica || fail "the Sentinel did not find the replica"
master_is() { [[ $(redis-cli -p "$SENTINEL_PORT" sentinel get-master-addr-by-name mymaster 2>/dev/null | tail -n1) == "$1" ]]; }

URL="redis+sentinel://:$PASSWORD@127.0.0.1:$SENTINEL_PORT/mymaster"
COMMON=(-D "upstream.timeout_ms=1000" -D "fleet.timeout_ms=200")
start_fleet_proxy A "$TEST_TMP/a.db" "$URL" "${COMMON[@]}"
start_fleet_proxy B "$TEST_TMP/b.db" "$URL" "${COMMON[@]}"
wait_for -t 10 fleet_ready "$A_ADMIN" || fail "proxy A did not find the master through the Sentinel"
wait_for -t 10 fleet_ready "$B_ADMIN" || fail "proxy B did not find the master through the Sentinel"
assert_contains "$(fleet_stat "$A_ADMIN" redis)" "127.0.0.1:$MASTER_PORT" "A uses the master the Sentinel named"

# shares NAME: A resolves NAME, B then answers it from Redis (a Redis hit on B; the upstream's
# query count cannot tell while the DNS load below runs).
shares()
{
	local name=$1 writes hits
	writes=$(fleet_stat "$A_ADMIN" writes)
	hits=$(fleet_stat "$B_ADMIN" hits)
	[[ $(kdig_short "$A_PORT" "$name" A) == 192.0.2.1 ]] || return 1
	wait_for -t 3 fleet_stat_ge "$A_ADMIN" writes $((writes + 1)) || return 1
	[[ $(kdig_short "$B_PORT" "$name" A) == 192.0.2.1 ]] && fleet_stat_ge "$B_ADMIN" hits $((hits + 1))
}
before=$(unbound_queries)
shares before.zone.example || fail "control: B does not answer from Redis what A resolved"
assert_eq $((before + 1)) "$(unbound_queries)" "control: only A's query reached the upstream"
pass "control: sharing works through the master the Sentinel named"

# DNS load on both proxies through the failover: a unique name every 50 ms, alternating.
LOAD=$TEST_TMP/load.json
touch "$TEST_TMP/load.run"
"$PY" - "$A_PORT" "$B_PORT" "$TEST_TMP/load.run" "$LOAD" <<'PYEOF' &
import json, os, sys, time
import dns.message, dns.query, dns.rcode
ports, flag, out = [int(sys.argv[1]), int(sys.argv[2])], sys.argv[3], sys.argv[4]
sent = failed = 0
worst = 0.0
while os.path.exists(flag):
    q = dns.message.make_query("load-%d.zone.example" % sent, "A")
    t0 = time.monotonic()
    try:
        r = dns.query.udp(q, "127.0.0.1", port=ports[sent % 2], timeout=3)
        failed += 0 if r.rcode() == dns.rcode.NOERROR and r.answer else 1
    except Exception:
        failed += 1
    worst = max(worst, time.monotonic() - t0)
    sent += 1
    time.sleep(0.05)
json.dump({"sent": sent, "failed": failed, "max_ms": round(worst * 1000)}, open(out + ".tmp", "w"))
os.rename(out + ".tmp", out)
PYEOF
LOAD_PID=$!
E2E_PIDS+=("$LOAD_PID")

kill -KILL "$MASTER_PID"
killed_ns=$(date +%s%N)
wait_for -t 20 master_is "$REPLICA_PORT" || fail "the Sentinel did not promote the replica within 20 s"
log "Sentinel promoted the replica after $((($(date +%s%N) - killed_ns) / 1000000)) ms"
n=0
resumed()
{
	n=$((n + 1))
	shares "after-$n.zone.example"
}
until resumed; do
	(($(date +%s%N) - killed_ns < 20000000000)) || fail "sharing did not resume within 20 s of the kill"
	sleep 0.2
done
elapsed_ms=$((($(date +%s%N) - killed_ns) / 1000000))
pass "sharing resumed through the promoted replica $elapsed_ms ms after the master was killed (limit 20000)"
assert_contains "$(fleet_stat "$B_ADMIN" redis)" "127.0.0.1:$REPLICA_PORT" "B now uses the promoted replica"
assert_eq master "$(rcli "$REPLICA_PORT" role | head -n1)" "the replica is the master now"

rm -f "$TEST_TMP/load.run"
wait_for -t 10 test -s "$LOAD" || fail "the DNS load did not finish"
log "DNS load during the failover: $(cat "$LOAD")"
assert_eq 0 "$(json_stat "$LOAD" failed)" "DNS never stopped during the failover"
assert_ge 20 "$(json_stat "$LOAD" sent)" "queries were sent throughout"

# --- 5. a Sentinel that cannot be reached: one line, DNS and /health go on ----------------------
DEAD_PORT=$(pick_port)
start_fleet_proxy NOSENTINEL "$TEST_TMP/c.db" "redis+sentinel://127.0.0.1:$DEAD_PORT/mymaster" "${COMMON[@]}"
check_fleet_refused NOSENTINEL "cannot be used.*no Sentinel answered for master mymaster"

stop_pid "$A_PID" "proxy A"
stop_pid "$B_PID" "proxy B"
