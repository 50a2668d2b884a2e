#!/usr/bin/env bash
# tests/e2e/test_admin_pins.sh - the pin store through the admin API with pin_policy = enforce
# (SPEC sections 5 and 6): GET /pins lists the digest learned on the first verified
# connection; a new key on the upstream is refused (SERVFAIL, /stats pins.refusals) until
# POST /pins approves it; DELETE /pins/{name} forgets the learned and approved digests.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig curl openssl ss
require_binary

use_test_pki
TOKEN=secret
# A second certificate for the same name from the same CA, with its own key: a legitimate
# key rollover that only the pin check notices.
make_leaf "$TEST_TMP/pki/server2" "$TEST_TMP/pki/ca" "$NAME"
PIN1=$(spki_sha256 "$CERT")
PIN2=$(spki_sha256 "$TEST_TMP/pki/server2.pem")

UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/pki" "$UPORT"
APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
start_proxy "127.0.0.1:$UPORT#$NAME" -D "admin.listen=127.0.0.1:$APORT" -D "admin.token=$TOKEN" \
	-D "tls.pin_policy=enforce" -D "upstream.timeout_ms=500" -D "cache.enabled=false"
P=$PROXY_PORT

assert_eq 200 "$(curl -s -m 10 -o "$TEST_TMP/pins.json" -w '%{http_code}' "$ADMIN/pins")" "GET /pins"

pins_json() { curl -s -m 10 "$ADMIN/pins${1:-}"; }
# source_of DIGEST: the source recorded for DIGEST under $NAME, or "none".
source_of() { pin_field "$1" source; }
answers_ok() { [[ $(kdig_short "$P" "$1" A) == 192.0.2.1 ]]; }

assert_eq 192.0.2.1 "$(kdig_short "$P" first.zone.example A)" "first query over a verified connection"
assert_eq learned "$(source_of "$PIN1")" "GET /pins lists the upstream's digest as learned"
assert_ge 1 "$(pins_json | "$PY" -c 'import json,sys; print(sum(x["count"] for n in json.load(sys.stdin)["pins"] for x in n["digests"]))')" \
	"the learned digest has a connection count"

# Key rollover on the upstream: same name, same CA, new key.
stop_pid "$UNBOUND_PID" unbound
start_unbound_dot "$TEST_TMP/pki" "$UPORT" "$TEST_TMP/pki/server2.pem" "$TEST_TMP/pki/server2.key"
assert_eq SERVFAIL "$(kdig_rcode "$P" rolled.zone.example A)" "enforce: a new key is refused (SERVFAIL)"
assert_ge 1 "$(stat_pins refusals)" "/stats pins.refusals counts the refusal"
assert_eq none "$(source_of "$PIN2")" "the refused key is not stored"

r=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"name\": \"$NAME\", \"sha256\": \"$PIN2\"}" "$ADMIN/pins")
assert_eq 200 "$r" "POST /pins approves the new key"
assert_eq approved "$(source_of "$PIN2")" "GET /pins lists it as approved"
# The server may be marked down after the refusal; it is probed again after its back-off.
wait_for -t 20 answers_ok approved.zone.example || fail "queries still fail after the approval"
pass "after approval the new key is accepted (enforce)"

body=$(curl -s -m 10 -X DELETE -H "Authorization: Bearer $TOKEN" "$ADMIN/pins/$NAME")
assert_ge 2 "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["forgotten"])' "$body")" \
	"DELETE /pins/{name} forgets the learned and the approved digest"
assert_eq none "$(source_of "$PIN1")" "learned digest gone"
assert_eq none "$(source_of "$PIN2")" "approved digest gone"

stop_pid "$DNSPROXY_PID" dnsproxy
