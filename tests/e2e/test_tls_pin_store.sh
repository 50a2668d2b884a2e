#!/usr/bin/env bash
# tests/e2e/test_tls_pin_store.sh - the persistent pin store (SPEC §5, issue 6 acceptance 4, 5, 7).
#   4. pin_policy = learn (the default): the first verified connection records the leaf digest
#      (GET /pins, the openssl pipeline's value), still listed after a restart with the same
#      storage.path; the upstream then switches to a new key from the same CA: still answered,
#      the change logged and counted (/stats pins.changes_seen).
#   A learned key whose certificate expires within 14 days is logged once and counted.
#   5. pin_policy = enforce: the key switch is refused (SERVFAIL, /stats pins.refusals, log)
#      until POST /pins approves the new digest, then answered; the approval survives a restart.
# Every key switch restarts the upstream process, so no TLS session of the old key resumes.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss curl
require_binary

use_pin_test_pki
make_leaf "$PKI/server3" "$PKI/ca" "$NAME"
PIN3=$(spki_sha256 "$PKI/server3.pem")
log "keys: $PIN1 -> $PIN2 -> $PIN3"

UPORT=$(pick_port)
UPSTREAM=127.0.0.1:$UPORT#$NAME
proxy()
{
	local db=$1
	shift
	start_pin_test_proxy -D "storage.path=$db" "$@"
}
upstream_with() { start_unbound_dot "$TEST_TMP/u-$1-$RANDOM" "$UPORT" "$PKI/$1.pem" "$PKI/$1.key"; }
# answered_within SECONDS LABEL: polls unique names until one is answered (a server marked down
# after a failure is probed again after its back-off of at most 10 s).
answered_within()
{
	local deadline=$((SECONDS + $1)) n=0
	until answers_ok "$2-$n.zone.example"; do
		n=$((n + 1))
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
	TRIES=$n
}

# --- 4. learn (default policy) ----------------------------------------------------------------
DB=$TEST_TMP/learn.sqlite
upstream_with server
proxy "$DB"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" learn1.zone.example A)" "learn: first query answered"
assert_eq learned "$(pin_field "$PIN1" source)" "learn: GET /pins lists the first key as learned"
assert_ge 1 "$(pin_field "$PIN1" count)" "learn: the learned digest has a connection count"
assert_eq 1 "$(stat_pins learned)" "learn: /stats pins.learned = 1"
assert_eq 0 "$(stat_pins changes_seen)" "learn: no change seen yet"
assert_contains "$(cat "$PROXY_LOG")" "pin learned: $NAME $PIN1" "learn: the learned digest is logged (the openssl pipeline's value)"
# The test certificates are valid for 2 days: a pinned key expiring within 14 days is reported.
assert_eq 1 "$(stat_pins expiring_soon)" "learn: /stats pins.expiring_soon counts the pinned key that expires within 14 days"
assert_contains "$(cat "$PROXY_LOG")" "pinned key $PIN1 of $NAME: its certificate expires in" "learn: the coming expiry is logged"
# A second full handshake with the same key (upstream restarted: no session to resume).
stop_pid "$UNBOUND_PID" unbound
upstream_with server
answered_within 15 learn-again || fail "learn: the same key is not answered after the upstream's restart"
assert_eq 2 "$(pin_field "$PIN1" count)" "learn: the second verified connection is counted in the store"
assert_eq 0 "$(stat_pins changes_seen)" "learn: the same key again is not a change"
assert_eq 1 "$(grep -c "pinned key $PIN1 of $NAME: its certificate expires in" "$PROXY_LOG")" "learn: the expiry is reported once a day, not per connection"
assert_eq 1 "$(stat_pins expiring_soon)" "learn: and counted once"
stop_pid "$DNSPROXY_PID" dnsproxy

proxy "$DB"
assert_eq learned "$(pin_field "$PIN1" source)" "learn: after a restart (same storage.path) GET /pins still lists it"
# Key rollover at the upstream: same name, same CA, new key.
stop_pid "$UNBOUND_PID" unbound
upstream_with server2
answered_within 15 learn-rolled || fail "learn: the new key with a valid chain is not answered"
pass "learn: the new key with a valid chain is answered ($TRIES failed tries first)"
assert_eq 1 "$(stat_pins changes_seen)" "learn: /stats pins.changes_seen counts the key change"
assert_eq 0 "$(stat_pins refusals)" "learn: nothing refused"
assert_contains "$(cat "$PROXY_LOG")" "pin change: $NAME presented a new key $PIN2" "learn: the key change is logged"
assert_eq "learned learned" "$(pin_field "$PIN1" source) $(pin_field "$PIN2" source)" "learn: both keys are in the store"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$UNBOUND_PID" unbound

# --- 5. enforce ------------------------------------------------------------------------------------
DB=$TEST_TMP/enforce.sqlite
upstream_with server
proxy "$DB" -D tls.pin_policy=enforce
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" enforce1.zone.example A)" "enforce: first connection answered (trust on first use)"
assert_eq learned "$(pin_field "$PIN1" source)" "enforce: the first key is learned"
stop_pid "$DNSPROXY_PID" dnsproxy
# The key switch happens while the proxy is down: what is known comes from the store alone.
stop_pid "$UNBOUND_PID" unbound
upstream_with server2
proxy "$DB" -D tls.pin_policy=enforce
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" enforce2.zone.example A)" "enforce: the new key is refused (SERVFAIL, UDP)"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp enforce3.zone.example A)" "enforce: the new key is refused (SERVFAIL, TCP)"
assert_eq 0 "$(unbound_queries)" "enforce: no query reached the server with the unapproved key"
assert_ge 1 "$(stat_pins refusals)" "enforce: /stats pins.refusals counts the refusal"
line=$(grep -F -- "$PIN2" "$PROXY_LOG" | grep -F -- "$PIN1" | head -n1 || true)
[[ -n $line ]] || fail "enforce: no log line names the refused key $PIN2 and the known $PIN1"
pass "enforce: the refusal is logged: $line"
assert_eq none "$(pin_field "$PIN2" source)" "enforce: the refused key is not stored"
sleep 1 # still refused a moment later (not a one-off failure)
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" enforce4.zone.example A)" "enforce: still refused before the approval"

r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$ADMIN/pins")
assert_eq 401 "$r" "POST /pins without the token: 401"
assert_eq none "$(pin_field "$PIN2" source)" "the unauthorised approval changed nothing"
r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$ADMIN/pins")
assert_eq 200 "$r" "POST /pins with the token approves the new key"
assert_eq approved "$(pin_field "$PIN2" source)" "GET /pins lists it as approved"
answered_within 20 enforce-approved || fail "enforce: queries still fail after the approval"
pass "enforce: answered after the approval ($TRIES failed tries first, back-off)"
stop_pid "$DNSPROXY_PID" dnsproxy

proxy "$DB" -D tls.pin_policy=enforce
assert_eq approved "$(pin_field "$PIN2" source)" "enforce: the approval survives a restart (GET /pins)"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" enforce-restart.zone.example A)" "enforce: after a restart the approved key is answered at once"
assert_eq 0 "$(stat_pins refusals)" "enforce: no refusal after the restart"
# And enforcement itself survives: a third key is refused again.
stop_pid "$UNBOUND_PID" unbound
upstream_with server3
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" enforce5.zone.example A)" "enforce: a third, unapproved key is refused after the restart"
assert_eq none "$(pin_field "$PIN3" source)" "enforce: the third key is not stored"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$UNBOUND_PID" unbound
