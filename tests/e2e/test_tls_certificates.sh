#!/usr/bin/env bash
# tests/e2e/test_tls_certificates.sh - the certificates of the encrypted listeners (issue 19;
# SPEC §2-3, [server] tls_cert_file/tls_key_file):
# - without files, a self-signed certificate is made once beside the database: its key file is mode
#   600, the proxy logs its SPKI pin (pin-sha256="..."), kdig +tls-pin with that pin is answered and
#   a wrong pin fails, and after a restart the same key is presented and logged; another database
#   folder gets another key (control);
# - with files, a certificate and key replaced on disk are presented by the next handshakes on the
#   DoT and DoH ports within seconds, while a DoT connection opened before keeps being answered;
# - SIGHUP with a broken certificate file keeps the running certificate (the reload is counted as
#   failed and logged) and connections; a valid file and SIGHUP afterwards is applied (control).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/front_lib.sh"
require_tool unbound unbound-control kdig openssl curl ss
require_binary

# How long the proxy may take to notice a replaced file ("checked every few seconds"), and how long
# a broken file must stay without effect (longer than one check).
CERT_WATCH_S=15
KEEP_S=7

start_test_unbound

# --- self-signed mode ---
STATE=$TEST_TMP/state
mkdir -p "$STATE"
TPORT=$(pick_port)
SELF_ARGS=(-D server.tls_cert_file= -D server.tls_key_file= -D "storage.path=$STATE/dnsproxy.db")
start_front_proxy "$TPORT" "" "${SELF_ARGS[@]}"
wait_for -t 5 pin_logged || true
PIN=$(logged_pin)
[[ -n $PIN ]] || fail "no pin-sha256=\"...\" in the log of a proxy with a self-signed certificate"
log "logged: $(grep -F 'pin-sha256=' "$PROXY_LOG" | head -n1)"
assert_eq "$PIN" "$(presented_pin "$TPORT")" "the DoT port presents the key whose pin is logged"
assert_eq 192.0.2.1 "$(kdig_short "$TPORT" +tls-pin="$PIN" pinned.zone.example A)" "kdig +tls-pin=<logged pin> is answered"
WRONG=$(spki_sha256 "$CERT")
assert_eq "(no answer: no response)" "$(kdig_short "$TPORT" +tls-pin="$WRONG" wrongpin.zone.example A)" \
	"control: kdig +tls-pin with another key's pin fails"

# state_files: the files the proxy made beside its database (not the database and its journals).
state_files() { find "$STATE" -maxdepth 1 -type f ! -name 'dnsproxy.db' ! -name 'dnsproxy.db-*' | sort; }
keys=0
certs=0
while read -r f; do
	[[ -n $f ]] || continue
	if grep -q 'PRIVATE KEY' "$f"; then
		keys=$((keys + 1))
		assert_eq 600 "$(stat -c %a "$f")" "the private key file $(basename "$f") beside the database is mode 600"
	fi
	if grep -q 'BEGIN CERTIFICATE' "$f" && [[ $(spki_sha256 "$f") == "$PIN" ]]; then
		certs=$((certs + 1))
	fi
done < <(state_files)
assert_ge 1 "$keys" "the self-signed key is kept beside the database ($(state_files | xargs -r -n1 basename | tr '\n' ' '))"
assert_ge 1 "$certs" "the certificate beside the database has the logged pin"
SUMS=$(state_files | xargs -r sha256sum)

stop_pid "$DNSPROXY_PID" dnsproxy
TPORT=$(pick_port)
start_front_proxy "$TPORT" "" "${SELF_ARGS[@]}"
wait_for -t 5 pin_logged || true
assert_eq "$PIN" "$(logged_pin)" "after a restart the same pin is logged"
assert_eq "$PIN" "$(presented_pin "$TPORT")" "after a restart the same key is presented"
assert_eq "$SUMS" "$(state_files | xargs -r sha256sum)" "the certificate files were not rewritten at the restart"
assert_eq 192.0.2.1 "$(kdig_short "$TPORT" +tls-pin="$PIN" restarted.zone.example A)" "kdig +tls-pin answered after the restart"
stop_pid "$DNSPROXY_PID" dnsproxy

mkdir -p "$TEST_TMP/state2"
TPORT=$(pick_port)
start_front_proxy "$TPORT" "" -D server.tls_cert_file= -D server.tls_key_file= -D "storage.path=$TEST_TMP/state2/dnsproxy.db"
wait_for -t 5 pin_logged || true
other=$(logged_pin)
[[ -n $other && $other != "$PIN" ]] || fail "a proxy with another database folder logged pin '$other' (first: $PIN)"
pass "control: another database folder gets another self-signed key"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- certificate files replaced on disk ---
make_front_cert
P1=$(spki_sha256 "$FRONT_CERT")
TPORT=$(pick_port)
HPORT=$(pick_port)
APORT=$(pick_port)
start_front_proxy "$TPORT" "$HPORT" -D "server.tls_cert_file=$FRONT_CERT" -D "server.tls_key_file=$FRONT_KEY" \
	-D server.tcp_idle_timeout_ms=60000 -D "admin.listen=127.0.0.1:$APORT"
assert_eq "$P1" "$(presented_pin "$TPORT")" "DoT presents the configured certificate"
assert_eq "$P1" "$(presented_pin "$HPORT" h2)" "DoH presents the configured certificate"

# hold_dot N: a DoT connection (tls_dns_client.py hold) answered once, waiting for $TEST_TMP/go-N.
hold_dot()
{
	start_support_script "$TEST_TMP/hold-$1.out" "^first " tls_dns_client.py hold --port "$TPORT" --ca "$CA_FILE" \
		--hostname "$FRONT_NAME" --name "held$1.zone.example" --until "$TEST_TMP/go-$1" --timeout 50
	show_on_fail "$TEST_TMP/hold-$1.out"
	assert_eq "first NOERROR" "$(head -n1 "$TEST_TMP/hold-$1.out")" "DoT connection $1 opened and answered"
	HOLD_PID=$SUPPORT_PID
}
# release_hold N PID: lets connection N ask again; its second query must be answered.
release_hold()
{
	touch "$TEST_TMP/go-$1"
	wait "$2" || true
	local out
	out=$(tail -n1 "$TEST_TMP/hold-$1.out")
	assert_eq "NOERROR NOERROR" "$(json_get "$out" 'd["first"], d["second"]')" "DoT connection $1 still answered ($out)"
}
# replace_cert NEW: NEW.pem and NEW.key take the place of the configured files (rename, same names).
replace_cert()
{
	cp "$1.key" "$FRONT_KEY.new" && mv "$FRONT_KEY.new" "$FRONT_KEY"
	cp "$1.pem" "$FRONT_CERT.new" && mv "$FRONT_CERT.new" "$FRONT_CERT"
	touch "$FRONT_KEY" "$FRONT_CERT"
}

hold_dot 1
HOLD1_PID=$HOLD_PID
make_leaf "$TEST_TMP/second" "$TEST_TMP/pki/ca" "$FRONT_NAME"
P2=$(spki_sha256 "$TEST_TMP/second.pem")
replace_cert "$TEST_TMP/second"
t0=$SECONDS
wait_for -t "$CERT_WATCH_S" presented_pin_is "$TPORT" "$P2" ||
	fail "DoT still presents $(presented_pin "$TPORT") ${CERT_WATCH_S}s after the files were replaced (new: $P2)"
pass "DoT presents the replaced certificate after about $((SECONDS - t0)) s"
wait_for -t 5 presented_pin_is "$HPORT" "$P2" h2 || fail "DoH still presents $(presented_pin "$HPORT" h2) after the swap"
pass "DoH presents the replaced certificate"
assert_eq 192.0.2.1 "$(answer_of "$(kdig_tls "$TPORT" swapped.zone.example A)")" "kdig verifies the new certificate and is answered"
release_hold 1 "$HOLD1_PID"

# --- SIGHUP with a broken certificate file ---
reload_field() { curl -s -m 5 "http://127.0.0.1:$APORT/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reload"][sys.argv[1]])' "$1"; }
reload_count_above() { (($(reload_field count) > $1)); }
hold_dot 2
HOLD2_PID=$HOLD_PID
count=$(reload_field count)
failed=$(reload_field failed)
lines=$(wc -l <"$PROXY_LOG")
echo "this is not a certificate" >"$FRONT_CERT"
kill -HUP "$DNSPROXY_PID"
wait_for -t 5 reload_count_above "$count" || fail "the SIGHUP was not counted in /stats reload.count"
assert_ge $((failed + 1)) "$(reload_field failed)" "the reload with a broken certificate file is counted as failed"
new_lines=$(tail -n +"$((lines + 1))" "$PROXY_LOG")
log "logged after SIGHUP: $new_lines"
assert_contains "$new_lines" "$(basename "$FRONT_CERT")" "the log names the broken certificate file"
deadline=$((SECONDS + KEEP_S))
while ((SECONDS < deadline)); do
	kill -0 "$DNSPROXY_PID" 2>/dev/null || fail "dnsproxy died after SIGHUP with a broken certificate file"
	got=$(presented_pin "$TPORT")
	[[ $got == "$P2" ]] || fail "after SIGHUP with a broken certificate file DoT presents '$got' instead of the running $P2"
	sleep 0.5
done
pass "the running certificate is still presented ${KEEP_S}s after SIGHUP with a broken file"
assert_eq "$P2" "$(presented_pin "$HPORT" h2)" "DoH still presents the running certificate"
assert_eq 192.0.2.1 "$(answer_of "$(kdig_tls "$TPORT" broken.zone.example A)")" "DoT answered with the running certificate"

# Control: a valid file and SIGHUP are applied.
make_leaf "$TEST_TMP/third" "$TEST_TMP/pki/ca" "$FRONT_NAME"
P3=$(spki_sha256 "$TEST_TMP/third.pem")
replace_cert "$TEST_TMP/third"
count=$(reload_field count)
kill -HUP "$DNSPROXY_PID"
wait_for -t 5 reload_count_above "$count" || fail "the second SIGHUP was not counted"
wait_for -t "$CERT_WATCH_S" presented_pin_is "$TPORT" "$P3" || fail "control: a valid certificate and SIGHUP were not applied"
pass "control: a valid certificate file and SIGHUP: the new certificate is presented"
release_hold 2 "$HOLD2_PID"
stop_pid "$DNSPROXY_PID" dnsproxy
