#!/usr/bin/env bash
# tests/e2e/test_attack_pins.sh - pin bypass attacks (issue 15 item 1, SPEC §5, RFC 7469 2.6).
# A pin matches only keys of the chain that verified with correct signatures from the leaf up;
# a certificate the server merely sends never counts. Each attack has a control beside it: the
# same proxy settings with the real chain (or a legitimate variant) are answered.
#   1. strict, CA pin; attacker leaf from another CA that ca_file trusts (mis-issuance) with the
#      real CA appended: refused.
#   2. strict, leaf pin; the same attacker leaf with the real leaf appended: refused.
#   3. opportunistic, CA pin; a self-signed attacker leaf with the real CA appended: refused.
#      Control: a self-signed leaf pinned by its own key is answered (with or without extras).
#   4. opportunistic, CA pin; a leaf whose issuer NAME is the real CA's but that the attacker
#      signed (no AuthorityKeyIdentifier), nothing appended: refused; the same with the real
#      CA's key identifier copied into it: refused. Control: a leaf the real CA signed, also
#      without AuthorityKeyIdentifier, is answered.
#   5. pin_policy = enforce, no configured pin: after the real key was learned, the attacker
#      leaf with the real leaf appended is refused and its key is not learned (GET /pins).
# Every refusal: SERVFAIL, /stats pins.refusals counts it, no query reaches the attacker.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss curl
require_binary

use_test_pki
PKI=$TEST_TMP/pki
make_self_signed "$PKI/self" "$NAME"
make_forged_leaf "$PKI/forged" "$PKI/ca" "$NAME"
make_forged_leaf "$PKI/forged-aki" "$PKI/ca" "$NAME" authorityKeyIdentifier=keyid
make_leaf_no_aki "$PKI/noaki" "$PKI/ca" "$NAME"
# What the attacker's server sends: its own leaf first, then a certificate anyone can download.
cat "$PKI/evil.pem" "$PKI/ca.pem" >"$PKI/evil+ca.pem"
cat "$PKI/evil.pem" "$PKI/server.pem" >"$PKI/evil+leaf.pem"
cat "$PKI/self.pem" "$PKI/ca.pem" >"$PKI/self+ca.pem"
# A ca_file that trusts the attacker's CA as well: the mis-issuance that pins exist to stop.
cat "$PKI/ca.pem" "$PKI/evil-ca.pem" >"$PKI/two-cas.pem"

CAPIN=$(spki_sha256 "$PKI/ca.pem")
LEAFPIN=$(spki_sha256 "$PKI/server.pem")
EVILPIN=$(spki_sha256 "$PKI/evil.pem")
SELFPIN=$(spki_sha256 "$PKI/self.pem")
log "real CA $CAPIN, real leaf $LEAFPIN, attacker leaf $EVILPIN, self-signed leaf $SELFPIN"
# The crafted certificates are what they claim to be.
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier 2>/dev/null | sed -n 2p | tr -d ' '; }
aki() { openssl x509 -in "$1" -noout -ext authorityKeyIdentifier 2>/dev/null | sed -n 2p | tr -d ' '; }
CA_ISSUER=$(openssl x509 -in "$PKI/ca.pem" -noout -subject | sed 's/^subject/issuer/')
for f in forged forged-aki; do
	assert_eq "$CA_ISSUER" "$(openssl x509 -in "$PKI/$f.pem" -noout -issuer)" "$f.pem names the real CA as its issuer"
	! openssl verify -CAfile "$PKI/ca.pem" "$PKI/$f.pem" >/dev/null 2>&1 || fail "$f.pem verifies against the real CA"
done
assert_eq "" "$(aki "$PKI/forged.pem")$(aki "$PKI/noaki.pem")" "forged.pem and noaki.pem have no AuthorityKeyIdentifier"
assert_eq "$(ski "$PKI/ca.pem")" "$(aki "$PKI/forged-aki.pem" | sed 's/^keyid://')" "forged-aki.pem carries the real CA's key identifier"

# One unbound per chain, each on its own port.
declare -A UPORT UCONF
upstream()
{
	local label=$1 cert=$2 key=$3
	UPORT[$label]=$(pick_port)
	start_unbound_dot "$TEST_TMP/u-$label" "${UPORT[$label]}" "$cert" "$key"
	UCONF[$label]=$UNBOUND_CONF
}
upstream real "$PKI/server.pem" "$PKI/server.key"
upstream evil+ca "$PKI/evil+ca.pem" "$PKI/evil.key"
upstream evil+leaf "$PKI/evil+leaf.pem" "$PKI/evil.key"
upstream self "$PKI/self.pem" "$PKI/self.key"
upstream self+ca "$PKI/self+ca.pem" "$PKI/self.key"
upstream forged "$PKI/forged.pem" "$PKI/forged.key"
upstream forged-aki "$PKI/forged-aki.pem" "$PKI/forged-aki.key"
upstream noaki "$PKI/noaki.pem" "$PKI/noaki.key"

APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
# ask UPSTREAM LABEL ARGS...: a proxy with ARGS forwarding to that unbound, one query for
# LABEL.zone.example; sets ANSWER, REFUSALS (/stats pins.refusals) and REACHED (queries that
# reached the upstream meanwhile). The proxy stays up (stop it with stop_pid) so /pins can be read.
ask()
{
	local up=$1 label=$2
	shift 2
	local before
	before=$(unbound_queries "${UCONF[$up]}")
	start_proxy "127.0.0.1:${UPORT[$up]}#$NAME" -D "admin.listen=127.0.0.1:$APORT" -D upstream.timeout_ms=1000 \
		-D cache.enabled=false "$@"
	ANSWER=$(kdig_short "$PROXY_PORT" "$label.zone.example" A)
	REFUSALS=$(stat_pins refusals)
	REACHED=$(($(unbound_queries "${UCONF[$up]}") - before))
}
# control WHAT UPSTREAM LABEL ARGS...: answered, nothing refused.
control()
{
	local what=$1
	shift
	ask "$@"
	assert_eq 192.0.2.1 "$ANSWER" "control: $what: answered"
	assert_eq 0 "$REFUSALS" "control: $what: no pin refusal"
	stop_pid "$DNSPROXY_PID" dnsproxy
}
# attack WHAT UPSTREAM LABEL ARGS...: SERVFAIL, refusal counted, nothing sent to the attacker.
# Leaves the proxy running.
attack()
{
	local what=$1
	shift
	ask "$@"
	assert_eq "(no answer: SERVFAIL)" "$ANSWER" "attack: $what: refused (SERVFAIL)"
	assert_ge 1 "$REFUSALS" "attack: $what: /stats pins.refusals counts it"
	assert_eq 0 "$REACHED" "attack: $what: no query reached the attacker's server"
}

# --- 1. strict, CA pin, mis-issued leaf with the real CA appended ----------------------------------
STRICT=(-D "tls.ca_file=$PKI/two-cas.pem")
control "strict, CA pin, the real chain" real strict-ca-ok "${STRICT[@]}" -D "tls.pins=$NAME:$CAPIN"
attack "strict, CA pin, a leaf from another trusted CA with the real CA appended" evil+ca strict-ca-bad \
	"${STRICT[@]}" -D "tls.pins=$NAME:$CAPIN"
line=$(grep -F -- "$CAPIN" "$PROXY_LOG" | grep -F -- "$EVILPIN" | head -n1 || true)
[[ -n $line ]] || fail "no log line names the expected CA pin and the attacker's leaf"
pass "the refusal names the pin and the attacker's key: $line"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- 2. strict, leaf pin, mis-issued leaf with the real leaf appended -----------------------------
control "strict, leaf pin, the real leaf" real strict-leaf-ok "${STRICT[@]}" -D "tls.pins=$NAME:$LEAFPIN"
attack "strict, leaf pin, a leaf from another trusted CA with the real leaf appended" evil+leaf strict-leaf-bad \
	"${STRICT[@]}" -D "tls.pins=$NAME:$LEAFPIN"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- 3. opportunistic, CA pin, self-signed leaf with the real CA appended -----------------------
OPP=(-D tls.profile=opportunistic)
control "opportunistic, CA pin, the real chain" real opp-ca-ok "${OPP[@]}" -D "tls.pins=$NAME:$CAPIN"
attack "opportunistic, CA pin, a self-signed leaf with the real CA appended" self+ca opp-self-bad \
	"${OPP[@]}" -D "tls.pins=$NAME:$CAPIN"
stop_pid "$DNSPROXY_PID" dnsproxy
# Pinning a self-signed server's own key is legitimate: the handshake proves that key.
control "opportunistic, a self-signed leaf pinned by its own key" self opp-self-ok "${OPP[@]}" -D "tls.pins=$NAME:$SELFPIN"
control "opportunistic, the same self-signed leaf with an extra certificate sent" self+ca opp-self-extra-ok \
	"${OPP[@]}" -D "tls.pins=$NAME:$SELFPIN"

# --- 4. opportunistic, CA pin, a leaf that only names the real CA as its issuer -------------------
control "opportunistic, CA pin, a leaf the real CA signed (no AuthorityKeyIdentifier)" noaki opp-noaki-ok \
	"${OPP[@]}" -D "tls.pins=$NAME:$CAPIN"
attack "opportunistic, CA pin, a leaf naming the real CA as issuer but signed by the attacker" forged opp-forged-bad \
	"${OPP[@]}" -D "tls.pins=$NAME:$CAPIN"
stop_pid "$DNSPROXY_PID" dnsproxy
attack "opportunistic, CA pin, the same with the real CA's key identifier copied in" forged-aki opp-forged-aki-bad \
	"${OPP[@]}" -D "tls.pins=$NAME:$CAPIN"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- 5. enforce: a learned key, then the attacker's leaf with the real leaf appended -------------
DB=$TEST_TMP/enforce.sqlite
ENFORCE=("${STRICT[@]}" -D tls.pin_policy=enforce -D "storage.path=$DB")
ask real enforce-first "${ENFORCE[@]}"
assert_eq 192.0.2.1 "$ANSWER" "enforce: the first connection (real leaf) is answered"
assert_eq learned "$(pin_field "$LEAFPIN" source)" "enforce: the real leaf's key is learned"
stop_pid "$DNSPROXY_PID" dnsproxy
attack "enforce, a leaf from another trusted CA with the learned leaf appended" evil+leaf enforce-bad "${ENFORCE[@]}"
assert_eq none "$(pin_field "$EVILPIN" source)" "attack: enforce: GET /pins does not list the attacker's key"
assert_eq 0 "$(stat_pins learned)" "attack: enforce: /stats pins.learned did not count a new key"
stop_pid "$DNSPROXY_PID" dnsproxy
control "enforce, the learned real leaf again" real enforce-again "${ENFORCE[@]}"
