#!/usr/bin/env bash
# tests/e2e/test_upstream_selection.sh - several upstreams: failover from a blackholed server and
# back after it recovers, round robin spreading, fastest preferring the faster server
# (issue "Upstream pool", criterion 6).
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki
answered_by() { dot_stat answered "$TEST_TMP/dot-$1.json"; }

# Failover: the first server accepts TLS but never answers (blackholed).
APORT=$(pick_port)
BPORT=$(pick_port)
start_dot_server "$APORT" "$CERT" "$KEY" --silent-after 0
A_PID=$DOT_PID
start_dot_server "$BPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$APORT#$NAME,127.0.0.1:$BPORT#$NAME" -D upstream.strategy=failover -D upstream.timeout_ms=1000
for i in 1 2 3 4 5; do
	out=$(dns_client one --port "$PROXY_PORT" --name "fo$i.zone.example" --timeout 5)
	assert_eq NOERROR "$(json_field "$out" rcode)" "failover query $i answered"
	ms=$(json_field "$out" ms)
	num_is "$ms" '<' $((1000 + 500)) || fail "failover query $i took $ms ms (timeout_ms 1000 + 500 ms margin)"
	pass "failover query $i answered by the second server in ${ms%.*} ms"
done
assert_eq 5 "$(answered_by "$BPORT")" "the second server answered all five"
client_queries=$("$PY" -c 'import json,sys; print(sum(1 for n in json.load(open(sys.argv[1]))["qnames"] if n.startswith("fo")))' "$TEST_TMP/dot-$APORT.json")
assert_eq 1 "$client_queries" "after the first timeout the blackholed server got no client query (only '. NS' probes)"
# The first server recovers: it is probed in the background and used again.
stop_pid "$A_PID" "blackholed dot_server.py"
start_dot_server "$APORT" "$CERT" "$KEY"
recovered=0
for ((i = 1; i <= 100; i++)); do
	kdig_short "$PROXY_PORT" "back$i.zone.example" >/dev/null
	if (($(answered_by "$APORT") >= 3)); then
		recovered=1
		break
	fi
	sleep 0.2
done
assert_eq 1 "$recovered" "the recovered first server was probed and is answering again"
before=$(answered_by "$APORT")
for i in 1 2 3 4 5; do kdig_short "$PROXY_PORT" "primary$i.zone.example" >/dev/null; done
assert_eq $((before + 5)) "$(answered_by "$APORT")" "failover sends everything to the first server again"
stop_pid "$DNSPROXY_PID" dnsproxy

# Round robin spreads the load.
rm -f "$TEST_TMP/dnsproxy.ini"
a0=$(answered_by "$APORT")
b0=$(answered_by "$BPORT")
start_proxy "127.0.0.1:$APORT#$NAME,127.0.0.1:$BPORT#$NAME" -D upstream.strategy=round_robin
for ((i = 1; i <= 40; i++)); do kdig_short "$PROXY_PORT" "rr$i.zone.example" >/dev/null; done
a=$(($(answered_by "$APORT") - a0))
b=$(($(answered_by "$BPORT") - b0))
assert_ge 15 "$a" "round robin: the first server answered $a of 40"
assert_ge 15 "$b" "round robin: the second server answered $b of 40"
stop_pid "$DNSPROXY_PID" dnsproxy
for pid in "${E2E_PIDS[@]}"; do
	[[ $pid == "$DNSPROXY_PID" ]] || kill -TERM "$pid" 2>/dev/null || true
done

# Fastest prefers the faster server (the first one answers 80 ms late).
SPORT=$(pick_port)
FPORT=$(pick_port)
start_dot_server "$SPORT" "$CERT" "$KEY" --delay-all 80
start_dot_server "$FPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$SPORT#$NAME,127.0.0.1:$FPORT#$NAME" -D upstream.strategy=fastest
for ((i = 1; i <= 60; i++)); do kdig_short "$PROXY_PORT" "fast$i.zone.example" >/dev/null; done
fast=$(answered_by "$FPORT")
slow=$(answered_by "$SPORT")
assert_ge 45 "$fast" "fastest: the fast server answered $fast of 60 (slow one: $slow, probes included)"
assert_ge 1 "$slow" "fastest: the slow server was still probed ($slow)"
stop_pid "$DNSPROXY_PID" dnsproxy
