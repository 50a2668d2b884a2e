#!/usr/bin/env bash
# tests/e2e/test_cache_stale.sh - issue 5 acceptance 3, serve-stale (RFC 8767): with the upstream
# unresponsive (SIGSTOP) or gone (killed), an expired entry is answered with TTL 30 in under 2 s;
# with cache.serve_stale=false the answer is SERVFAIL.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control dig openssl ss
require_binary

start_cache_test_unbound "one.cache.test. 2 IN A 192.0.2.21" "two.cache.test. 2 IN A 192.0.2.22"

start_proxy "$UPSTREAM"
STALE_PORT=$PROXY_PORT
start_proxy "$UPSTREAM" -D cache.serve_stale=false
NOSTALE_PORT=$PROXY_PORT

for port in "$STALE_PORT" "$NOSTALE_PORT"; do
	for name in one two; do
		dig @127.0.0.1 -p "$port" +short +tries=1 +time=6 "$name.cache.test" A >/dev/null
	done
done
asked=$(unbound_queries)
assert_eq 192.0.2.21 "$(dig @127.0.0.1 -p "$STALE_PORT" +short +tries=1 +time=6 one.cache.test A)" "entry cached"
assert_eq "$asked" "$(unbound_queries)" "answered from the cache while fresh"

# ask PORT NAME: prints "STATUS TTL ADDRESS MILLISECONDS" for one UDP query.
ask()
{
	local start=$EPOCHREALTIME out
	out=$(dig @127.0.0.1 -p "$1" +tries=1 +time=6 "$2" A 2>&1) || true
	local end=$EPOCHREALTIME
	local status ttl addr
	status=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n1)
	read -r ttl addr < <(awk '/^;; ANSWER SECTION:/ { a = 1; next } a && NF >= 5 { print $2, $5; exit }' <<<"$out")
	local ms
	ms=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%d", (e - s) * 1000 }')
	echo "${status:-none} ${ttl:--} ${addr:--} $ms"
}

# An upstream that accepts but never answers: the RFC 8767 client-response timer (1.8 s) answers.
kill -STOP "$UNBOUND_PID"
# A stopped unbound would ignore the cleanup's SIGTERM; keep the script's exit status.
trap 'rc=$?; set +e; kill -CONT "$UNBOUND_PID" 2>/dev/null; (exit $rc); _e2e_cleanup' EXIT
sleep 3 # let the 2 s TTLs run out
read -r status ttl addr ms < <(ask "$STALE_PORT" one.cache.test)
assert_eq "NOERROR 30 192.0.2.21" "$status $ttl $addr" "upstream silent: expired entry served stale with TTL 30"
((ms < 2000)) || fail "stale answer took $ms ms (must be under 2 s)"
pass "stale answer within the client's patience ($ms ms)"
assert_eq SERVFAIL "$(ask "$NOSTALE_PORT" one.cache.test | cut -d' ' -f1)" "serve_stale=false: SERVFAIL"

# An upstream that is gone: the connection fails and the stale answer comes at once.
kill -CONT "$UNBOUND_PID"
stop_pid "$UNBOUND_PID" unbound
read -r status ttl addr ms < <(ask "$STALE_PORT" two.cache.test)
assert_eq "NOERROR 30 192.0.2.22" "$status $ttl $addr" "upstream down: expired entry served stale with TTL 30"
((ms < 2000)) || fail "stale answer took $ms ms (must be under 2 s)"
pass "stale answer within the client's patience ($ms ms)"
assert_eq SERVFAIL "$(ask "$NOSTALE_PORT" two.cache.test | cut -d' ' -f1)" "serve_stale=false and upstream down: SERVFAIL"
assert_eq SERVFAIL "$(ask "$STALE_PORT" never-cached.cache.test | cut -d' ' -f1)" "nothing cached: SERVFAIL"

