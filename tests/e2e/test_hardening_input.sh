#!/usr/bin/env bash
# tests/e2e/test_hardening_input.sh - hostile input (issue 8, acceptance 1): 10,000 random and
# malformed datagrams and 1,000 truncated, garbled and zero-length TCP frames, then normal
# queries: all answered, the process alive, RSS grown by less than 20 MiB. Also the SPEC 4
# "Errors" cases: no header -> silence, an answer -> dropped, a bad question -> FORMERR, an
# opcode other than QUERY -> NOTIMP.
source "$(dirname "$0")/lib.sh"
require_tool openssl unbound kdig
require_binary

use_test_pki
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/unbound" "$UPORT" "$CERT" "$KEY"
start_proxy "127.0.0.1:$UPORT#$NAME" -D server.threads=2


# Warm up (TLS connection, cache, thread stacks) so the baseline is the steady state.
for i in 1 2 3; do
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" "warm$i.zone.example")" "warm-up query $i answered"
done
before=$(rss_kib)
log "RSS before: $before KiB"

out=$("$PY" "$SUPPORT_DIR/hostile_client.py" garbage --port "$PROXY_PORT" --datagrams 10000 --frames 1000)
log "hostile input: $out"
probes=$("$PY" -c 'import json,sys; p=json.loads(sys.argv[1])["probes"]; print(p["short"], p["answer"], p["bad_question"], p["opcode_status"])' "$out")
assert_eq "none none FORMERR NOTIMP" "$probes" "short datagram silent, answer dropped, bad question FORMERR, opcode STATUS NOTIMP"

kill -0 "$DNSPROXY_PID" 2>/dev/null || fail "dnsproxy died under hostile input"
pass "dnsproxy alive after 10,000 datagrams and 1,000 bad frames"
for i in 1 2 3; do
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" "after$i.zone.example")" "UDP query $i answered afterwards"
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" +tcp "aftertcp$i.zone.example")" "TCP query $i answered afterwards"
done
after=$(rss_kib)
growth=$(((after - before) / 1024))
log "RSS after: $after KiB (growth $growth MiB)"
((after - before < 20 * 1024)) || fail "RSS grew by $growth MiB (limit 20)"
pass "RSS growth under 20 MiB ($((after - before)) KiB)"
stop_pid "$DNSPROXY_PID" dnsproxy
