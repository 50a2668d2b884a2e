#!/usr/bin/env bash
# tests/e2e/test_tls_pins.sh - configured SPKI pins (SPEC §5, issue 6 acceptance 3, 6, 7, 8).
#   3. [tls] pins matching the upstream's key: answers (also as one of several backup pins);
#      not matching: SERVFAIL and a log line naming the expected and the seen digest.
#   6. a pin of the issuing CA's key (not the leaf's) is accepted, and a new leaf from that CA
#      is answered without approval, under pin_policy = enforce too; the CA pin still refuses
#      a chain from another CA even in the opportunistic profile (no clear text either).
#   7. the digest in GET /pins is what the openssl pipeline prints for the certificate.
#   8. a bad pin (not base64, wrong length, no colon) stops the start: exit 2, one line naming tls.pins.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss curl
require_binary

use_pin_test_pki
CAPIN=$(spki_sha256 "$PKI/ca.pem")
EVILPIN=$(spki_sha256 "$PKI/evil.pem")
log "leaf $PIN1, second leaf $PIN2, CA $CAPIN"

# digests_of SOURCE: the digests GET /pins shows for $NAME with that source, space-separated.
digests_of()
{
	curl -s -m 10 "$ADMIN/pins" | "$PY" -c 'import json,sys
print(" ".join(x["sha256"] for n in json.load(sys.stdin)["pins"] if n["name"] == sys.argv[2] for x in n["digests"] if x["source"] == sys.argv[1]))' "$1" "$NAME"
}

UPORT=$(pick_port)
UPSTREAM="127.0.0.1:$UPORT#$NAME"
start_unbound_dot "$TEST_TMP/u1" "$UPORT" "$PKI/server.pem" "$PKI/server.key"

# --- 3. configured pins ----------------------------------------------------------------------
start_pin_test_proxy -D "tls.pins=$NAME:$PIN1"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" pinned.zone.example A)" "configured pin matching the leaf key: answered"
assert_eq config "$(pin_field "$PIN1" source)" "GET /pins lists the configured pin with source config"
# 7. The learned/configured digest is the openssl pipeline's value (string for string).
assert_eq "$PIN1" "$(digests_of config)" "GET /pins digest equals the openssl pipeline's for the server certificate"
stop_pid "$DNSPROXY_PID" dnsproxy

start_pin_test_proxy -D "tls.pins=$NAME:$PIN2, $NAME:$PIN1"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" backup.zone.example A)" "several pins for one name (backup pin): the matching one is enough"
stop_pid "$DNSPROXY_PID" dnsproxy

# The same digest spelled with the 2 unused bits of base64's last character set: the config check
# decodes it to the server's 32 bytes, so it must match too (it was compared as a string once).
ALT1=$("$PY" -c 'import sys
a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
p = sys.argv[1]
print(p[:-2] + a[a.index(p[-2]) ^ 1] + "=")' "$PIN1")
start_pin_test_proxy -D "tls.pins=$NAME:$ALT1"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" altspelling.zone.example A)" "a pin spelled with non-zero padding bits ($ALT1) matches the same key"
stop_pid "$DNSPROXY_PID" dnsproxy

before=$(unbound_queries)
start_pin_test_proxy -D "tls.pins=$NAME:$PIN2"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" mismatch1.zone.example A)" "configured pin not matching: SERVFAIL (UDP)"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp mismatch2.zone.example A)" "configured pin not matching: SERVFAIL (TCP)"
assert_eq "$before" "$(unbound_queries)" "configured pin not matching: no query reached the upstream"
line=$(grep -F -- "$PIN2" "$PROXY_LOG" | grep -F -- "$PIN1" | head -n1 || true)
[[ -n $line ]] || fail "no log line names both the expected pin $PIN2 and the seen digest $PIN1"
pass "the refusal is logged with the expected and the seen digest: $line"
assert_ge 1 "$(stat_pins refusals)" "/stats pins.refusals counts the pin refusal"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- 6. a pin of the issuing CA's key ------------------------------------------------------------
for policy in learn enforce; do
	stop_pid "$UNBOUND_PID" unbound
	start_unbound_dot "$TEST_TMP/u-$policy-1" "$UPORT" "$PKI/server.pem" "$PKI/server.key"
	start_pin_test_proxy -D "tls.pins=$NAME:$CAPIN" -D "tls.pin_policy=$policy"
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" ca-$policy-1.zone.example A)" "$policy: a pin of the issuing CA's key accepts the CA's leaf"
	assert_eq config "$(pin_field "$CAPIN" source)" "$policy: GET /pins lists the CA pin (openssl digest of ca.pem) as config"
	assert_eq learned "$(pin_field "$PIN1" source)" "$policy: the leaf key is learned alongside"
	# Leaf rotation at the provider: new key, same CA. A new process, so no session resumes.
	stop_pid "$UNBOUND_PID" unbound
	start_unbound_dot "$TEST_TMP/u-$policy-2" "$UPORT" "$PKI/server2.pem" "$PKI/server2.key"
	n=0
	until answers_ok "ca-$policy-rotated-$n.zone.example"; do
		n=$((n + 1))
		((n < 20)) || fail "$policy: the new leaf from the pinned CA is not answered"
		sleep 0.25
	done
	pass "$policy: a new leaf from the pinned CA is answered without approval (after $n failed tries)"
	assert_eq 0 "$(stat_pins refusals)" "$policy: no pin refusal on the leaf rotation"
	assert_eq learned "$(pin_field "$PIN2" source)" "$policy: the new leaf is recorded (learned), not approved"
	stop_pid "$DNSPROXY_PID" dnsproxy
done

# A CA pin still refuses a chain from another CA, even where the opportunistic profile would
# accept unauthenticated TLS, and then there is no clear-text fallback either.
if ((EUID == 0)); then
	IP=$(pick_loopback_ip)
	EPORT=$(pick_port "$IP")
	start_unbound_dot "$TEST_TMP/evil" "$EPORT" "$PKI/evil.pem" "$PKI/evil.key" "$IP"
	start_sniffer "$IP" 53 pinprobe
	UPSTREAM="$IP:$EPORT#$NAME"
	start_pin_test_proxy -D "tls.pins=$NAME:$CAPIN" -D tls.profile=opportunistic
	assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" pinprobe1.zone.example A)" "opportunistic + CA pin, chain from another CA: SERVFAIL"
	line=$(grep -F -- "$CAPIN" "$PROXY_LOG" | grep -F -- "$EVILPIN" | head -n1 || true)
	[[ -n $line ]] || fail "no log line names the CA pin $CAPIN and the evil leaf $EVILPIN"
	pass "opportunistic: the pin refusal names expected and seen digests"
	assert_eq 0 "$(unbound_queries)" "opportunistic + CA pin: no query reached the evil server"
	stop_pid "$DNSPROXY_PID" dnsproxy
	assert_eq "0 0" "$(json_stat "$SNIFF_STATS" tcp_connections) $(json_stat "$SNIFF_STATS" udp_packets)" \
		"opportunistic + pin refusal: nothing sent to port 53 of the upstream's address"
else
	skip_part "not root: the opportunistic CA-pin check that listens on port 53"
fi

# --- 8. bad pins stop the start ---------------------------------------------------------------
bad_pin()
{
	local what=$1 pins=$2 out rc=0
	out=$(timeout 10 "$DNSPROXY_BIN" -c "$TEST_TMP/dnsproxy.ini" -D "server.listen=127.0.0.1:$(pick_port)" \
		-D "upstream.servers=127.0.0.1:$UPORT#$NAME" -D "tls.ca_file=$CA_FILE" -D admin.listen= \
		-D "storage.path=$TEST_TMP/bad.sqlite" -D "tls.pins=$pins" 2>&1) || rc=$?
	assert_eq 2 "$rc" "$what: exit status 2"
	assert_eq 1 "$(grep -c . <<<"$out")" "$what: exactly one line of output ($out)"
	assert_contains "$out" "tls.pins" "$what: the line names tls.pins"
	rc=0
	out=$(timeout 10 "$DNSPROXY_BIN" --check-config -c "$TEST_TMP/dnsproxy.ini" -D "tls.ca_file=$CA_FILE" -D "tls.pins=$pins" 2>&1) || rc=$?
	assert_eq 2 "$rc" "$what: --check-config exits 2"
	assert_contains "$out" "tls.pins" "$what: --check-config names tls.pins"
}
bad_pin "pin not in base64" "$NAME:notbase64!"
bad_pin "pin of the wrong length (16 bytes)" "$NAME:$(head -c 16 /dev/zero | base64)"
bad_pin "pin of the wrong length (SHA-1 size)" "$NAME:$(head -c 20 /dev/urandom | base64)"
bad_pin "pin without auth-name" "$PIN1"
[[ ! -e $TEST_TMP/bad.sqlite ]] || log "note: a refused start left $TEST_TMP/bad.sqlite behind"
