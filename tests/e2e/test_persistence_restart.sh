#!/usr/bin/env bash
# tests/e2e/test_persistence_restart.sh - issue 5 acceptance 5: after a SIGTERM restart every
# cached name is answered from the SQLite snapshot without asking the upstream (unbound's query
# count unchanged), with TTLs reduced by the time spent down; /stats-style counters aside, the
# shutdown log says the cache was flushed.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss sqlite3
require_binary

N=40
start_test_unbound
# A long flush interval: the snapshot that survives must come from the SIGTERM flush.
stored_cache_proxy_args -D "storage.flush_interval_ms=600000"

# ttl_of NAME: the TTL of the A answer, or "none".
ttl_of()
{
	local out
	out=$(kdig @127.0.0.1 -p "$P" +retry=0 +timeout=6 +noall +answer "$1" A 2>&1) || true
	awk '$4 == "A" { print $2; found = 1 } END { if (!found) print "none" }' <<<"$out" | head -n1
}

start_dnsproxy "$TEST_TMP/proxy-1.log" "${PROXY_ARGS[@]}"
first_pid=$DNSPROXY_PID
t_first=$(date +%s)
for ((i = 0; i < N; i++)); do
	ttl=$(ttl_of "r$i.zone.example")
	[[ $ttl =~ ^[0-9]+$ ]] || fail "r$i.zone.example: no answer before the restart ($ttl)"
	((ttl >= 290)) || fail "r$i.zone.example: fresh answer has TTL $ttl, expected about 300"
done
t_cached=$(date +%s)
before=$(unbound_queries)
assert_ge "$N" "$before" "unbound answered the $N names once"
stop_pid "$first_pid" "dnsproxy (first run)"
assert_contains "$(cat "$TEST_TMP/proxy-1.log")" "cache flushed" "shutdown flushed the cache"
rows=$(sqlite3 "$DB" 'SELECT COUNT(*) FROM cache_entries')
assert_eq "$N" "$rows" "the database holds one row per cached name"

# Down for a few seconds on purpose: the TTLs after the restart must show it.
sleep 3

start_dnsproxy "$TEST_TMP/proxy-2.log" "${PROXY_ARGS[@]}"
assert_contains "$(cat "$TEST_TMP/proxy-2.log")" "loaded $N cached answers" "start-up loaded every row"
t_restart=$(date +%s)
bad=0
min_ttl=999 max_ttl=0
for ((i = 0; i < N; i++)); do
	ttl=$(ttl_of "r$i.zone.example")
	[[ $ttl =~ ^[0-9]+$ ]] || fail "r$i.zone.example: no answer after the restart ($ttl)"
	((ttl < min_ttl)) && min_ttl=$ttl
	((ttl > max_ttl)) && max_ttl=$ttl
	# Stored at some time in [t_first, t_cached] with TTL 300, read at >= t_restart.
	((ttl <= 300 - (t_restart - t_cached) + 1)) || bad=$((bad + 1))
	((ttl >= 300 - ($(date +%s) - t_first) - 1)) || bad=$((bad + 1))
done
log "TTLs after the restart: $min_ttl..$max_ttl (down $((t_restart - t_cached)) s, first cached $((t_restart - t_first)) s before)"
assert_eq 0 "$bad" "every TTL is reduced by the time since it was cached"
assert_eq "$before" "$(unbound_queries)" "no cached name reached the upstream after the restart"

# A new name still goes upstream: the proxy serves normally.
assert_eq 192.0.2.1 "$(kdig_short "$P" new.zone.example A)" "a new name is answered after the restart"
assert_eq $((before + 1)) "$(unbound_queries)" "only the new name reached the upstream"
stop_pid "$DNSPROXY_PID" "dnsproxy (second run)"
