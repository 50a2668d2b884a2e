#!/usr/bin/env bash
# tests/e2e/test_attack_tcp_output.sh - issue 15 item 3: TCP output amplification. A cached TXT
# answer of about 30 KB; 16 TCP clients each write 16 KB of pipelined queries for it (about 470
# each) and never read. Attack: the proxy's RSS grows by less than 64 MiB (peak, VmHWM) and a normal
# TCP client's cached query is answered within 2 s (kdig's own start included, on a loaded machine)
# meanwhile. Before the fix every query of a read was answered into the output buffer first (~15 MB
# per client): 201 MiB of growth and 2.5 s for the normal query, measured. Control: the same 16
# clients reading their answers get every one of them.
source "$(dirname "$0")/lib.sh"
require_tool openssl unbound kdig
require_binary

use_test_pki
# big30.example. TXT: 16 records of 8 strings of 240 octets, an answer of about 31 KB.
txt=$(printf 'y%.0s' {1..240})
UNBOUND_EXTRA_CONF='	local-zone: "big30.example." static'
for i in $(seq 1 16); do
	strings=$(for j in 1 2 3 4 5 6 7 8; do printf '"%s%s%s" ' "$i" "$j" "$txt"; done)
	UNBOUND_EXTRA_CONF+=$'\n'"	local-data: 'big30.example. 300 IN TXT $strings'"
done
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/unbound" "$UPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$UPORT#$NAME" -D server.tcp_idle_timeout_ms=20000
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DNSPROXY_PID/status"; }

size=$(_kdig "$PROXY_PORT" +tcp big30.example TXT | sed -n 's/.*;; Received \([0-9]*\) B.*/\1/p')
log "big30.example TXT: $size octets"
assert_ge 28000 "${size:-0}" "a ~30 KB answer is served over TCP (and now cached)"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp during.zone.example)" "the normal client's name is cached too"

# Attack: 16 clients that never read.
before=$(kib VmRSS)
"$PY" "$SUPPORT_DIR/hostile_client.py" pipeflood --port "$PROXY_PORT" --connections 16 --name big30.example \
	--bytes 16384 --hold-seconds 8 --status "$TEST_TMP/flood.json" >"$TEST_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
E2E_PIDS+=("$FLOOD_PID")
show_on_fail "$TEST_TMP/flood.out"
wait_for -t 10 test -s "$TEST_TMP/flood.json" || fail "the non-reading clients could not send their queries"
t0=$(date +%s%N)
answer=$(kdig_short "$PROXY_PORT" +tcp during.zone.example)
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq 192.0.2.1 "$answer" "a normal TCP client is answered during the attack"
((ms < 2000)) || fail "the normal TCP query took $ms ms during the attack"
pass "the normal TCP query took $ms ms"
# The proxy has taken what it will take once its buffers stop growing; sample RSS for a moment.
peak=0
for _ in $(seq 1 20); do
	rss=$(kib VmRSS)
	((rss > peak)) && peak=$rss
	kdig_short "$PROXY_PORT" +tcp "probe.zone.example" >/dev/null
done
hwm=$(kib VmHWM)
growth=$(((hwm - before) / 1024))
log "RSS before ${before} KiB, highest sampled ${peak} KiB, VmHWM ${hwm} KiB: growth ${growth} MiB"
((hwm - before < 64 * 1024)) || fail "RSS grew by ${growth} MiB with 16 non-reading clients (limit 64 MiB)"
pass "RSS grew by ${growth} MiB with 16 non-reading clients (< 64 MiB)"
kill "$FLOOD_PID" 2>/dev/null || true
wait "$FLOOD_PID" 2>/dev/null || true

# Control: the same clients reading their answers get all of them.
out=$("$PY" "$SUPPORT_DIR/hostile_client.py" pipeflood --port "$PROXY_PORT" --connections 16 --name big30.example \
	--bytes 16384 --read --hold-seconds 30)
log "readers: $out"
per=$(json_field "$out" queries)
assert_eq "$((16 * per))" "$(json_field "$out" answers)" "control: 16 reading clients get all $((16 * per)) answers"
stop_pid "$DNSPROXY_PID" dnsproxy
