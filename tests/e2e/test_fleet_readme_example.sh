#!/usr/bin/env bash
# tests/e2e/test_fleet_readme_example.sh - the two-proxy example of docs/FLEET.md runs as written
# (issue 11, acceptance 5): its start block and its check block are taken from the document and
# run unchanged, with UPSTREAM and CA pointing at a local unbound (the document's own variables)
# that serves example.com; the second proxy must answer from Redis.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/fleet_lib.sh"
require_tool unbound unbound-control dig curl openssl ss redis-server redis-cli
require_binary
DOC=$DNSPROXY_SOURCE/docs/FLEET.md
[[ -f $DOC ]] || fail "docs/FLEET.md is missing"

# block START END: the shell block between two marker comments of the document.
block()
{
	awk -v start="<!-- $1 -->" -v end="<!-- $2 -->" '
		$0 == start { inside = 1; next }
		$0 == end { inside = 0 }
		inside && /^```/ { fence = !fence; next }
		inside && fence { print }' "$DOC"
}
START=$(block fleet-example:start fleet-example:end)
CHECK=$(block fleet-example:check fleet-example:check-end)
[[ -n $START && -n $CHECK ]] || fail "the example blocks were not found in docs/FLEET.md"

# The example's fixed ports are outside pick_port's range; they must be free here.
for port in 6380 5301 5302 8051 8052; do
	tcp_listening 127.0.0.1 "$port" && fail "port $port is in use; the example needs it"
done

UNBOUND_EXTRA_CONF='	local-data: "example.com. 300 IN A 192.0.2.80"'
start_test_unbound

# Run from a scratch directory that looks like the repository (etc/ from the source tree).
WORK=$TEST_TMP/repo
mkdir -p "$WORK"
ln -s "$DNSPROXY_SOURCE/etc" "$WORK/etc"
cd "$WORK"
printf '%s\n' "$START" >start.sh
echo 'jobs -p >example.pids' >>start.sh
DNSPROXY=$DNSPROXY_BIN UPSTREAM="127.0.0.1:$UPORT#$NAME" CA=$CA_FILE bash start.sh ||
	fail "the start block failed"
while read -r pid; do E2E_PIDS+=("$pid"); done <example.pids
show_on_fail "$WORK/var/fleet/proxy1.log" "$WORK/var/fleet/proxy2.log" "$WORK/var/fleet/redis.log"
started() { grep -q '^\[dnsproxy\] tcp://' "$1"; }
wait_for -t 15 started var/fleet/proxy1.log || fail "proxy 1 of the example did not start"
wait_for -t 15 started var/fleet/proxy2.log || fail "proxy 2 of the example did not start"
FLEET_SECRET= # the example may run without a secret: then no pin channel to wait for
wait_for -t 10 fleet_ready http://127.0.0.1:8051 || fail "proxy 1 did not join the fleet"
wait_for -t 10 fleet_ready http://127.0.0.1:8052 || fail "proxy 2 did not join the fleet"
pass "the start block runs: Redis and two proxies in the fleet"

before=$(unbound_queries)
out=$(bash -c "$CHECK" 2>&1) || fail "the check block failed: $out"
log "check block output:"
printf '# %s\n' "$out"
after=$(unbound_queries)
assert_eq $((before + 1)) "$after" "only the first proxy's query reached the upstream"
first=$(grep -m1 '^example.com.' <<<"$out" | awk '{ print $2 }')
second=$(grep '^example.com.' <<<"$out" | sed -n 2p | awk '{ print $2 }')
assert_eq 300 "${first:-none}" "proxy 1 answers with the upstream's TTL"
((${second:-999} <= 298)) || fail "proxy 2 answers with the remaining TTL (<= 298), got '${second:-none}'"
pass "proxy 2 answers from Redis with the remaining TTL ($second s)"
assert_contains "$out" "'hits': 1" "the check block's /stats shows the Redis hit"
