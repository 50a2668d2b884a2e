#!/usr/bin/env bash
# tests/e2e/test_upstream_pipelining.sh - out-of-order answers on both sides (RFC 7766 6.2.1.1),
# coalescing of identical questions, and the proxy's own EDNS keepalive and padding (RFC 7828,
# RFC 7830/8467), which must reach the server and never leak to clients that did not ask.
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki

start_test_dot_server --delay slow.zone.example=500 --delay same.zone.example=300
start_proxy "$UPSTREAM"

# 1. 50 queries pipelined on one client TCP connection; the first is delayed 500 ms upstream.
out=$(dns_client pipeline --port "$PROXY_PORT" --count 50 --first slow.zone.example)
log "pipeline: $out"
read -r answered ids_ok last first_pos < <("$PY" -c 'import json,sys
d = json.loads(sys.argv[1]); o = d["order"]
print(d["answered"], d["ids_ok"], o[-1] if o else -1, o.index(0) if 0 in o else -1)' "$out")
assert_eq 50 "$answered" "all 50 pipelined queries answered on one TCP connection"
assert_eq True "$ids_ok" "every answer carries the ID of one of the queries"
assert_eq 49 "$first_pos" "the delayed first query came back last: the other 49 did not wait for it"

# 7. 100 identical concurrent queries cause one upstream query.
before=$(dot_stat queries)
out=$(dns_client same --port "$PROXY_PORT" --count 100 --name same.zone.example)
log "same: $out"
assert_eq 100 "$(json_field "$out" answered)" "100 identical concurrent queries all answered"
after=$(dot_stat queries)
assert_eq 1 "$((after - before))" "the 100 identical queries went upstream once"

# 8. Keepalive (11) and padding (12) reach the server; query lengths are multiples of 128.
codes=$(dot_stat edns_option_codes)
assert_contains "$codes" "11" "the server saw the edns-tcp-keepalive option ($codes)"
assert_contains "$codes" "12" "the server saw the padding option ($codes)"
bad=$("$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))["query_lengths"]
print(sum(n for l, n in d.items() if int(l) % 128))' "$DOT_STATS")
assert_eq 0 "$bad" "every query the server received is padded to a multiple of 128 octets"
# The fake server echoes the proxy's OPT (keepalive and padding included) in its answers:
# a client without EDNS gets no OPT, a client with EDNS gets neither option.
for transport in "" --tcp; do
	out=$(dns_client one --port "$PROXY_PORT" --name "plain$transport.zone.example" $transport)
	assert_contains "$out" '"has_opt": false' "client without EDNS ($transport): no OPT in the answer"
	out=$(dns_client one --port "$PROXY_PORT" --name "edns$transport.zone.example" --edns $transport)
	assert_contains "$out" '"has_opt": true' "client with EDNS ($transport): OPT in the answer"
	assert_contains "$out" '"options": []' "client with EDNS ($transport): no keepalive or padding leaked"
done
stop_pid "$DNSPROXY_PID" dnsproxy
