#!/usr/bin/env bash
# tests/e2e/test_one_connection.sh - 1,000 queries from 10 concurrent clients, UDP and TCP
# mixed, all answered through exactly ONE TLS connection to the upstream (SPEC §4 connection
# reuse, upstream.connections = 1): against unbound, the same established connection (same
# local port) before and after the load, never more than one seen while the load runs, and
# every query reached unbound (the names are unique, so none is a cache hit); against
# dot_server.py, which counts TLS handshakes, exactly one handshake for the whole load.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss
require_binary

start_test_unbound
start_proxy "$UPSTREAM" -D upstream.connections=1
P=$PROXY_PORT

# upstream_conns: "count localport..." of dnsproxy's established connections to unbound.
upstream_ports()
{
	ss -tnH state established "( dport = :$UPORT )" | awk '{ n = split($3, a, ":"); print a[n] }' | sort -n | tr '\n' ' '
}

assert_eq 192.0.2.1 "$(kdig_short "$P" warmup.zone.example A)" "first query answered"
wait_for -t 5 established_to_is "$UPORT" -ge 1 || fail "no established connection to the upstream after the first query"
first=$(upstream_ports)
assert_eq 1 "$(wc -w <<<"$first")" "one upstream connection after the first query"
before=$(unbound_queries)

# Sample the upstream connections while the load runs (observation, not synchronisation).
samples=$TEST_TMP/samples
(
	while :; do
		upstream_ports >>"$samples"
		echo >>"$samples"
		sleep 0.05
	done
) &
SAMPLER=$!
E2E_PIDS+=("$SAMPLER")

BATCHES=10 PER=100
# load PREFIX: 10 concurrent kdig clients x 100 unique names, even batches UDP, odd TCP;
# prints how many got 192.0.2.1.
load()
{
	local prefix=$1 b i pids=() answered=0 n
	for ((b = 0; b < BATCHES; b++)); do
		local names=()
		for ((i = 0; i < PER; i++)); do
			names+=("$prefix$i-b$b.zone.example" A)
		done
		local transport=+notcp
		((b % 2)) && transport=+tcp
		kdig @127.0.0.1 -p "$P" +short +retry=0 +timeout=6 "$transport" "${names[@]}" \
			>"$TEST_TMP/$prefix$b.out" 2>"$TEST_TMP/$prefix$b.err" &
		pids+=($!)
	done
	for ((b = 0; b < BATCHES; b++)); do
		wait "${pids[$b]}" || true
	done
	for ((b = 0; b < BATCHES; b++)); do
		n=$(grep -cx '192\.0\.2\.1' "$TEST_TMP/$prefix$b.out" || true)
		((n == PER)) || log "batch $prefix$b answered $n of $PER: $(head -c 400 "$TEST_TMP/$prefix$b.err")" >&2
		answered=$((answered + n))
	done
	echo "$answered"
}

answered=$(load q)
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null || true

assert_eq $((BATCHES * PER)) "$answered" "all 1000 queries (half UDP, half TCP) answered 192.0.2.1"

max=$(awk '{ if (NF > m) m = NF } END { print m + 0 }' "$samples")
nsamples=$(grep -c . "$samples" || true)
log "sampled the upstream connections $nsamples times while loading"
assert_eq 1 "$max" "at most one upstream connection at any sample during the load"
assert_eq "$first" "$(upstream_ports)" "the same upstream connection (local port) before and after the load"

after=$(unbound_queries)
assert_ge $((BATCHES * PER)) $((after - before)) "every unique query reached unbound over that connection"

stop_pid "$DNSPROXY_PID" dnsproxy

# The same load against a DoT server that counts handshakes.
DPORT=$(pick_port)
start_dot_server "$DPORT" "$TEST_TMP/pki/server.pem" "$TEST_TMP/pki/server.key"
start_proxy "127.0.0.1:$DPORT#$NAME" -D upstream.connections=1
P=$PROXY_PORT
answered=$(load d)
assert_eq $((BATCHES * PER)) "$answered" "dot_server.py upstream: all 1000 queries answered"
assert_eq 1 "$(dot_stat handshakes)" "dot_server.py upstream: exactly one TLS handshake for 1000 queries"
assert_ge $((BATCHES * PER)) "$(dot_stat queries)" "dot_server.py upstream: every unique query reached it"
stop_pid "$DNSPROXY_PID" dnsproxy
