#!/usr/bin/env bash
# tests/e2e/test_attack_parse.sh - issue 15 defect 2, quadratic parsing before the ACL: a 64 KB
# query holding an 8,000-pointer compression chain and 4,000 records owned by its end (32 million
# jumps for a reader without a jump limit, ~100 ms each) sent from 127.0.0.2, outside
# allow = 127.0.0.1/32: 40 over UDP (two at a time, so both workers get some) and one over TCP
# must cost the proxy under 1 s of CPU in total (/proc/PID/stat utime + stime; the old binary
# spends about 4 s); each UDP message gets REFUSED and the TCP connection is closed at accept
# without an answer (SPEC 4: it holds no slot), while a client in allow asking a cached name every
# 20 ms is answered throughout (its latency is logged). Control: the same count of flat messages
# of the same size (no chain) from the same source, through the same measurement. Then the chain
# message from an allowed source: FORMERR (answer records in a query) over UDP and TCP, never
# forwarded. The messages come from tests/support/hostile_client.py chain.
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig
require_binary

use_test_pki
start_test_dot_server
start_proxy "$UPSTREAM" -D "server.allow=127.0.0.1/32" -D server.threads=2

TICKS=$(getconf CLK_TCK)
# The proxy's CPU time so far in ms (utime + stime, fields 14 and 15; comm has no spaces).
cpu_ms() { awk -v t="$TICKS" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$DNSPROXY_PID/stat"; }
field() { "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); exec("print(" + sys.argv[2] + ")")' "$1" "$2"; }
LIMIT_MS=1000

assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 warm.zone.example)" "allowed client answered before the attack"

# run_from SOURCE LABEL ARGS...: sends 40 messages over UDP and 1 over TCP from SOURCE with a probe
# from 127.0.0.1; sets OUT (the JSON) and SPENT (proxy CPU ms).
run_from()
{
	local source=$1 label=$2
	shift 2
	local before after
	before=$(cpu_ms)
	OUT=$("$PY" "$SUPPORT_DIR/hostile_client.py" chain --port "$PROXY_PORT" --source "$source" --count 40 --tcp 1 \
		--inflight 2 --probe-source 127.0.0.1 --probe-name warm.zone.example "$@")
	after=$(cpu_ms)
	SPENT=$((after - before))
	log "$label: proxy CPU ${SPENT} ms; $OUT"
}

# Control first: flat messages of the same size from the refused source.
run_from 127.0.0.2 "control (flat, refused source)" --flat
assert_eq "{'REFUSED': 40}" "$(field "$OUT" 'd["udp"]["rcodes"]')" "control: 40 flat UDP messages from 127.0.0.2 REFUSED"
((SPENT < LIMIT_MS)) || fail "control: 41 flat messages cost the proxy $SPENT ms of CPU (limit $LIMIT_MS)"
pass "control: 41 flat messages cost the proxy $SPENT ms of CPU (< $LIMIT_MS)"
CONTROL_OUT=$OUT

# The attack.
run_from 127.0.0.2 "attack (chain, refused source)"
assert_eq "{'REFUSED': 40}" "$(field "$OUT" 'd["udp"]["rcodes"]')" "attack: 40 chain UDP messages from 127.0.0.2 REFUSED"
((SPENT < LIMIT_MS)) || fail "attack: 41 chain messages from a refused source cost the proxy $SPENT ms of CPU (limit $LIMIT_MS)"
pass "attack: 41 chain messages from a refused source cost the proxy $SPENT ms of CPU (< $LIMIT_MS)"
assert_eq 0 "$(field "$OUT" 'd["probe"]["rcodes"].get("none", 0) + d["probe"]["rcodes"].get("SERVFAIL", 0)')" \
	"attack: every probe from 127.0.0.1 answered during the attack"
assert_ge 1 "$(field "$OUT" 'd["probe"]["rcodes"].get("NOERROR", 0)')" "attack: probes answered NOERROR"
log "probe latency during the attack: median $(field "$OUT" 'd["probe"]["median_ms"]') ms, max $(field "$OUT" 'd["probe"]["max_ms"]') ms"
# The TCP message from the refused source never got as far as a parse: closed at accept, by a reset
# ("error: ...") or a close ("none": EOF or nothing within the timeout), and never answered (checked
# after the CPU figures, so that a build that answers REFUSED over TCP still shows its CPU cost).
closed_at_accept='sum(d["tcp"]["rcodes"].values()) == 1 and all(k == "none" or k.startswith("error") for k in d["tcp"]["rcodes"])'
assert_eq True "$(field "$CONTROL_OUT" "$closed_at_accept")" "control: flat TCP message from 127.0.0.2 closed at accept, no answer"
assert_eq True "$(field "$OUT" "$closed_at_accept")" "attack: chain TCP message from 127.0.0.2 closed at accept, no answer"

# From an allowed source the chain message is a query with answer records: FORMERR, at once.
OUT=$("$PY" "$SUPPORT_DIR/hostile_client.py" chain --port "$PROXY_PORT" --source 127.0.0.1 --count 1 --tcp 1)
log "chain from the allowed source: $OUT"
assert_eq "{'FORMERR': 1}" "$(field "$OUT" 'd["udp"]["rcodes"]')" "chain over UDP from 127.0.0.1 gets FORMERR"
assert_eq "{'FORMERR': 1}" "$(field "$OUT" 'd["tcp"]["rcodes"]')" "chain over TCP from 127.0.0.1 gets FORMERR"
qnames=$(json_stat "$DOT_STATS" qnames)
assert_not_contains "$qnames" chain.zone.example "no chain message reached the upstream"

assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 after.zone.example)" "allowed client answered after the attack"
stop_pid "$DNSPROXY_PID" dnsproxy
