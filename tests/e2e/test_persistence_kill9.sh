#!/usr/bin/env bash
# tests/e2e/test_persistence_kill9.sh - issue 5 acceptance 6: kill -9 while 5,000 new names are
# being cached. The database then passes PRAGMA integrity_check, the proxy restarts and serves
# from it, and at most one flush interval of entries is missing.
#
# How "at most one flush interval" is measured: a dnspython blaster asks for n0..n4999 one after
# the other at 500 names/s and logs each answered name with its time. The proxy is killed once 2,500 names are
# answered. Afterwards the cache keys in the database are decoded back to names; every answered
# name that is missing must have been answered less than FLUSH_MS + SLACK_MS before the kill
# (an entry cached just after a flush drained the changes waits for the next flush; SLACK_MS
# covers the time the flush itself takes to write).
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss sqlite3
require_binary

FLUSH_MS=1000
SLACK_MS=500
start_test_unbound
stored_cache_proxy_args -D "storage.flush_interval_ms=$FLUSH_MS"
start_dnsproxy "$TEST_TMP/proxy-1.log" "${PROXY_ARGS[@]}"
victim=$DNSPROXY_PID

ANSWERED=$TEST_TMP/answered.txt
"$PY" - "$P" "$ANSWERED" >"$TEST_TMP/blaster.log" 2>&1 <<'PYEOF' &
import sys, time
import dns.message, dns.query, dns.rcode
port, out = int(sys.argv[1]), open(sys.argv[2], "w", buffering=1)
RATE = 500  # names per second: 5,000 names take 10 s, so the kill lands after several flushes
start = time.time()
for i in range(5000):
    delay = start + i / RATE - time.time()
    if delay > 0:
        time.sleep(delay)  # pacing, not synchronisation
    name = "n%d.zone.example." % i
    try:
        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=2)
    except Exception:
        break  # the proxy is gone
    if r.rcode() == dns.rcode.NOERROR and r.answer:
        out.write("%s %.6f\n" % (name, time.time()))
PYEOF
blaster=$!
E2E_PIDS+=("$blaster")

answered_count() { [[ -f $ANSWERED ]] && wc -l <"$ANSWERED" || echo 0; }
answered_at_least() { (($(answered_count) >= $1)); }
wait_for -t 60 answered_at_least 2500 || fail "the blaster did not get 2,500 answers (got $(answered_count))"
kill_time=$(date +%s.%N)
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
wait "$blaster" 2>/dev/null || true
total=$(answered_count)
log "killed dnsproxy with kill -9 after $total answered names"

check=$(sqlite3 "$DB" 'PRAGMA integrity_check')
assert_eq ok "$check" "PRAGMA integrity_check after kill -9"

# Decode the keys (lower-cased uncompressed qname wire | type | class | flags) back to names.
sqlite3 "$DB" 'SELECT hex(key) FROM cache_entries' >"$TEST_TMP/keys.hex"
report=$("$PY" - "$ANSWERED" "$TEST_TMP/keys.hex" "$kill_time" "$FLUSH_MS" "$SLACK_MS" <<'PYEOF'
import sys
answered_file, keys_file, kill_time, flush_ms, slack_ms = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
answered = {}
for line in open(answered_file):
    name, t = line.split()
    answered[name] = float(t)
stored = set()
for line in open(keys_file):
    b = bytes.fromhex(line.strip())
    labels, i = [], 0
    while b[i]:
        labels.append(b[i + 1:i + 1 + b[i]].decode())
        i += 1 + b[i]
    stored.add(".".join(labels) + ".")
missing = [n for n in answered if n not in stored]
window = (flush_ms + slack_ms) / 1000.0
late = [n for n in missing if kill_time - answered[n] >= window]
oldest = max((kill_time - answered[n] for n in missing), default=0.0)
in_window = sum(1 for n in answered if kill_time - answered[n] < flush_ms / 1000.0)
print("answered=%d stored=%d missing=%d answered_in_last_interval=%d oldest_missing_age=%.3fs late=%d"
      % (len(answered), len(stored & set(answered)), len(missing), in_window, oldest, len(late)))
PYEOF
)
log "$report"
late=$(sed -n 's/.* late=\([0-9]*\).*/\1/p' <<<"$report")
missing=$(sed -n 's/.* missing=\([0-9]*\).*/\1/p' <<<"$report")
stored=$(sed -n 's/.* stored=\([0-9]*\).*/\1/p' <<<"$report")
assert_eq 0 "$late" "no entry answered more than one flush interval (+${SLACK_MS} ms) before the kill is missing"
assert_ge 1000 "$stored" "the database kept the bulk of the names answered before the kill"

# Restart on the same file: no corruption warning, the stored names come from the database.
start_dnsproxy "$TEST_TMP/proxy-2.log" "${PROXY_ARGS[@]}"
assert_not_contains "$(cat "$TEST_TMP/proxy-2.log")" "unusable" "the database reopens without being moved aside"
assert_contains "$(cat "$TEST_TMP/proxy-2.log")" "loaded $stored cached answers" "the restart loaded every stored row"
first_stored=$(head -n1 "$ANSWERED" | cut -d' ' -f1)
before=$(unbound_queries)
assert_eq 192.0.2.1 "$(kdig_short "$P" "${first_stored%.}" A)" "a name cached before the kill is answered after the restart"
assert_eq "$before" "$(unbound_queries)" "...from the database, not the upstream"
assert_eq 192.0.2.1 "$(kdig_short "$P" after-restart.zone.example A)" "a new name is answered after the restart"
stop_pid "$DNSPROXY_PID" "dnsproxy (after kill -9)"
assert_eq ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "PRAGMA integrity_check after the clean restart"
