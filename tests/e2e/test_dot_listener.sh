#!/usr/bin/env bash
# tests/e2e/test_dot_listener.sh - the DNS-over-TLS listener for clients (issue 19; SPEC §2-3,
# [server] tls_listen; RFC 7858, 7766, 7828, 8467) against a real unbound DoT upstream:
# kdig and a Python ssl client are answered with the configured certificate (ALPN dot), a wrong CA
# or name fails; 20 queries written at once on one connection are all answered, matched by ID;
# padded queries get answers padded to 468-octet blocks, unpadded ones no padding; EDNS keepalive
# is answered only to clients that ask; TLS sessions resume; an idle connection is closed after
# tcp_idle_timeout_ms; 50 connections that never send a ClientHello and 10 that send it one octet
# every 200 ms are cut at the handshake timeout while a normal client is answered; max_tcp_connections covers TCP and DoT together; a
# client outside allow is not served.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/front_lib.sh"
require_tool unbound unbound-control kdig openssl ss
require_binary

# The TLS handshake timeout (not in SPEC: [server] tls_handshake_timeout_ms, default 5000).
HANDSHAKE_S=3
HANDSHAKE_ARGS=(-D server.tls_handshake_timeout_ms=3000)
IDLE_MS=2000
IDLE_MIN_S=1.8    # 0.9 x IDLE_MS

start_test_unbound
make_front_cert
TPORT=$(pick_port)
APORT=$(pick_port)
start_front_proxy "$TPORT" "" -D "server.tls_cert_file=$FRONT_CERT" -D "server.tls_key_file=$FRONT_KEY" \
	-D "server.tcp_idle_timeout_ms=$IDLE_MS" -D "admin.listen=127.0.0.1:$APORT"

# --- answers and verification (each failure case next to its control) ---
out=$(kdig_tls "$TPORT" a.zone.example A)
assert_eq 192.0.2.1 "$(answer_of "$out")" "kdig +tls-ca +tls-hostname=$FRONT_NAME is answered"
assert_contains "$out" ";; TLS session" "kdig's answer came over TLS"
out=$(_kdig "$TPORT" +tls-ca="$TEST_TMP/pki/evil-ca.pem" +tls-hostname="$FRONT_NAME" b.zone.example A)
assert_eq "" "$(answer_of "$out")" "kdig trusting another CA gets no answer"
assert_contains "$out" "handshake failed" "kdig trusting another CA fails the handshake"
out=$(_kdig "$TPORT" +tls-ca="$CA_FILE" +tls-hostname="$NAME" c.zone.example A)
assert_eq "" "$(answer_of "$out")" "kdig expecting another name ($NAME) gets no answer"
out=$(kdig_tls "$TPORT" +keepopen d1.zone.example A d2.zone.example A d3.zone.example A)
assert_eq "192.0.2.1 192.0.2.1 192.0.2.1" "$(answer_of "$out" | tr '\n' ' ' | sed 's/ $//')" \
	"kdig +keepopen: three queries answered in turn on one connection"
assert_eq NXDOMAIN "$(_kdig_status "$(kdig_tls "$TPORT" no.nx.zone.example A)")" "NXDOMAIN passes through over DoT"

out=$(tls_client one "$TPORT" --name py.zone.example)
log "python client: $out"
assert_eq "['192.0.2.1'] True dot" "$(json_get "$out" 'd["answer"], d["id_ok"], d["alpn"]')" \
	"Python ssl client (CA and name verified) is answered; ALPN 'dot' selected (RFC 7858 3.2)"
if out=$("$PY" "$SUPPORT_DIR/tls_dns_client.py" one --port "$TPORT" --ca "$TEST_TMP/pki/evil-ca.pem" \
	--hostname "$FRONT_NAME" --name evil.zone.example 2>&1); then
	fail "the Python client trusting another CA was answered: $out"
fi
assert_contains "$out" "CERTIFICATE_VERIFY_FAILED" "the Python client trusting another CA fails verification"

# --- pipelining: 20 queries in one write on one connection (RFC 7766 6.2.1.1) ---
out=$(tls_client pipeline "$TPORT" --count 20)
log "pipeline: $out"
assert_eq "20 True True {'NOERROR': 20}" "$(json_get "$out" 'd["answered"], d["ids_ok"], d["questions_ok"], d["rcodes"]')" \
	"20 pipelined queries on one DoT connection: every one answered, matched by ID and question"

# --- padding (RFC 7830, RFC 8467: answers to padded queries in 468-octet blocks) ---
out=$(kdig_tls "$TPORT" +padding pad1.zone.example A)
assert_contains "$out" ";; PADDING:" "kdig +padding: the answer carries a padding option"
len=$(sed -n 's/^;; Received \([0-9]*\) B$/\1/p' <<<"$out")
assert_ge 1 "$len" "kdig +padding: answer length read"
assert_eq 0 $((len % 468)) "kdig +padding: the answer is $len octets, a multiple of 468"
out=$(kdig_tls "$TPORT" +nopadding pad2.zone.example A)
assert_eq 192.0.2.1 "$(answer_of "$out")" "control: kdig +nopadding is answered"
assert_not_contains "$out" "PADDING" "control: an unpadded query gets no padding"
out=$(tls_client one "$TPORT" --name pad3.zone.example --pad 128)
log "padded python query: $out"
assert_eq "0 True" "$(json_get "$out" 'd["length"] % 468, d["padding"] is not None')" \
	"a query padded to 128 gets a padded answer whose message length is a multiple of 468"
out=$(tls_client one "$TPORT" --name big.example --type TXT --pad 128)
log "padded big answer: $(json_get "$out" 'd["length"], d["padding"]')"
assert_eq "0 True" "$(json_get "$out" 'd["length"] % 468, d["length"] > 468')" \
	"a padded answer longer than one block ends on a 468-octet boundary"
out=$(tls_client pipeline "$TPORT" --count 5 --pad 128)
assert_eq "5 True" "$(json_get "$out" 'd["answered"], all(n % 468 == 0 for n in d["lengths"])')" \
	"pipelined padded queries: every answer a multiple of 468"
out=$(tls_client one "$TPORT" --name pad4.zone.example)
assert_eq "None []" "$(json_get "$out" 'd["padding"], d["options"]')" "control: the Python client's unpadded query gets no option"

# --- EDNS keepalive (RFC 7828), answered only when asked ---
out=$(kdig_tls "$TPORT" +nopadding +ednsopt=11 ka1.zone.example A)
assert_contains "$out" ";; Option (11):" "kdig +ednsopt=11: the answer carries edns-tcp-keepalive"
out=$(kdig_tls "$TPORT" +nopadding ka2.zone.example A)
assert_not_contains "$out" "Option (11)" "control: no keepalive option for a client that did not ask"
out=$(tls_client one "$TPORT" --name ka3.zone.example --keepalive)
ka=$(json_get "$out" 'd["keepalive"]')
log "keepalive timeout offered: $ka (units of 100 ms; tcp_idle_timeout_ms $IDLE_MS)"
assert_ge 1 "$ka" "the keepalive option carries a timeout"
((ka <= IDLE_MS / 100)) || fail "keepalive timeout $ka x 100 ms is longer than tcp_idle_timeout_ms $IDLE_MS"
pass "keepalive timeout $ka x 100 ms is within tcp_idle_timeout_ms"

# --- TLS session resumption (stdin held open 1 s so TLS 1.3 tickets arrive) ---
SESS=$TEST_TMP/session.pem
s_client() { openssl s_client -connect "127.0.0.1:$TPORT" -servername "$FRONT_NAME" -CAfile "$CA_FILE" -alpn dot "$@" 2>&1 < <(sleep 1) || true; }
out=$(s_client -sess_out "$SESS")
assert_contains "$out" "New, TLS" "first openssl s_client handshake is a new session"
assert_contains "$out" "Verify return code: 0 (ok)" "openssl s_client verifies the certificate"
assert_contains "$out" "ALPN protocol: dot" "openssl s_client -alpn dot: 'dot' selected"
[[ -s $SESS ]] || fail "openssl s_client -sess_out saved no session"
out=$(s_client -sess_in "$SESS")
assert_contains "$out" "Reused, TLS" "openssl s_client -sess_in resumes the session"

# --- idle DoT connection closed after tcp_idle_timeout_ms ---
IDLE=$TEST_TMP/idle.json
out=$(tls_client idle "$TPORT" --count 1 --status "$IDLE" --max-seconds 8)
log "idle connection: $out"
after=$(json_get "$out" 'd["close_after"][0] if d["close_after"] else "never"')
num_is "$after" ">=" "$IDLE_MIN_S" || fail "idle DoT connection closed after ${after}s, before tcp_idle_timeout_ms"
num_is "$after" '<=' $((IDLE_MS / 1000 + 3)) || fail "idle DoT connection closed after ${after}s (tcp_idle_timeout_ms $IDLE_MS)"
pass "idle DoT connection closed after ${after}s (tcp_idle_timeout_ms $IDLE_MS)"

# Per-transport /stats counters (docs/ADMIN-API.md).
stat_ge 40 queries.tls "queries over DoT counted"
stat_ge 1 encrypted.tls.resumptions "the resumed handshake counted"
stat_ge 2 encrypted.tls.handshake_failures "the handshakes refused by the wrong-CA clients counted"
stop_pid "$DNSPROXY_PID" dnsproxy

# --- 50 connections that never send a ClientHello vs a normal client ---
APORT=$(pick_port)
TPORT=$(pick_port)
start_front_proxy "$TPORT" "" -D "server.tls_cert_file=$FRONT_CERT" -D "server.tls_key_file=$FRONT_KEY" \
	-D server.tcp_idle_timeout_ms=30000 -D server.max_tcp_connections=70 -D "admin.listen=127.0.0.1:$APORT" \
	-D server.allow=127.0.0.1/32 "${HANDSHAKE_ARGS[@]}"

# A DoT client outside allow is closed at accept (SPEC §4); the same client from 127.0.0.1 is answered.
out=$(kdig_tls "$TPORT" -b 127.0.0.2 acl.zone.example A)
assert_eq "" "$(answer_of "$out")" "a DoT client from 127.0.0.2 (outside allow) gets no answer"
assert_eq 192.0.2.1 "$(answer_of "$(kdig_tls "$TPORT" -b 127.0.0.1 acl.zone.example A)")" "control: the same query from 127.0.0.1 is answered"
HOLD=$TEST_TMP/silent.json
"$PY" "$SUPPORT_DIR/hostile_client.py" hold --port "$TPORT" --count 50 --status "$HOLD" \
	--max-seconds $((HANDSHAKE_S + 8)) >"$TEST_TMP/silent.out" 2>&1 &
HOLD_PID=$!
E2E_PIDS+=("$HOLD_PID")
show_on_fail "$TEST_TMP/silent.out"
wait_for -t 10 test -s "$HOLD" || fail "the 50 silent connections were not opened"
flood_start=$(date +%s%N)
# And 10 that send a real ClientHello one octet every 200 ms: the timeout covers the whole handshake.
"$PY" "$SUPPORT_DIR/tls_dns_client.py" slowhello --port "$TPORT" --count 10 --trickle-ms 200 \
	--max-seconds $((HANDSHAKE_S + 8)) >"$TEST_TMP/slowhello.out" 2>&1 &
SLOW_PID=$!
E2E_PIDS+=("$SLOW_PID")
show_on_fail "$TEST_TMP/slowhello.out"
assert_eq 0 "$(json_get "$(cat "$HOLD")" 'd["closed"]')" "50 silent connections open on the DoT port"
for i in 1 2 3; do
	t0=$(date +%s%N)
	out=$(kdig_tls "$TPORT" "flood$i.zone.example" A)
	ms=$((($(date +%s%N) - t0) / 1000000))
	assert_eq 192.0.2.1 "$(answer_of "$out")" "normal DoT client $i answered during the silent flood (${ms} ms)"
	((ms < 3000)) || fail "normal DoT client $i took ${ms} ms during the silent flood"
done
# Served while the flood still stood (the silent connections must not be cut before the timeout).
if (($(date +%s%N) - flood_start < HANDSHAKE_S * 800000000)); then
	assert_eq 0 "$(json_get "$(cat "$HOLD")" 'd["closed"]')" "the silent connections were all still open meanwhile"
fi
wait "$HOLD_PID" || true
out=$(cat "$TEST_TMP/silent.out")
summary=$(json_get "$out" '"%d %s %s" % (d["closed"], min(d["close_after"] or [-1]), max(d["close_after"] or [-1]))')
read -r closed first last <<<"$summary"
log "silent connections: closed $closed, first after ${first}s, last after ${last}s (handshake timeout ${HANDSHAKE_S}s)"
assert_eq 50 "$closed" "all 50 connections without a ClientHello were closed"
num_is "$first" ">=" $((HANDSHAKE_S * 8 / 10)) || fail "a silent connection was cut after ${first}s, before the handshake timeout"
num_is "$last" '<=' $((HANDSHAKE_S + 3)) || fail "the last silent connection was cut only after ${last}s"
pass "silent connections cut between ${first}s and ${last}s (handshake timeout ${HANDSHAKE_S}s, idle timeout 30 s)"
wait "$SLOW_PID" || true
out=$(cat "$TEST_TMP/slowhello.out")
log "slow ClientHellos: $out"
summary=$(json_get "$out" '"%d %s %s %d %d" % (d["closed"], min(d["close_after"] or [-1]), max(d["close_after"] or [-1]), d["max_sent"], d["hello_octets"])')
read -r closed first last sent hello <<<"$summary"
assert_eq 10 "$closed" "all 10 connections trickling a ClientHello were closed"
num_is "$first" '>=' $((HANDSHAKE_S * 8 / 10)) || fail "a trickling ClientHello was cut after ${first}s, before the handshake timeout"
num_is "$last" '<=' $((HANDSHAKE_S + 3)) || fail "the last trickling ClientHello was cut only after ${last}s"
((sent < hello)) || fail "a trickling connection sent its whole ClientHello ($sent of $hello octets) before the cut"
pass "trickling ClientHellos cut between ${first}s and ${last}s, after at most $sent of $hello octets"
stat_ge 60 encrypted.tls.handshake_timeouts "the 50 silent and 10 trickling connections counted as handshake timeouts"
assert_eq 192.0.2.1 "$(answer_of "$(kdig_tls "$TPORT" afterflood.zone.example A)")" "DoT answered after the flood"

# --- max_tcp_connections = 70 covers plain TCP and DoT: 35 + 35 held, the 71st served ---
# (70 leaves room for the 60 connections of the flood above and the normal clients.)
wait_for -t 5 client_stat_is tcp_connections -eq 0 || log "tcp_connections after the flood: $(client_stat tcp_connections)"
HOLD=$TEST_TMP/tcp35.json
"$PY" "$SUPPORT_DIR/hostile_client.py" hold --port "$PROXY_PORT" --count 35 --status "$HOLD" \
	--max-seconds 20 >"$TEST_TMP/tcp35.out" 2>&1 &
TCP_PID=$!
E2E_PIDS+=("$TCP_PID")
wait_for -t 10 test -s "$HOLD" || fail "the 35 plain TCP connections were not opened"
IDLE=$TEST_TMP/dot35.json
"$PY" "$SUPPORT_DIR/tls_dns_client.py" idle --port "$TPORT" --ca "$CA_FILE" --hostname "$FRONT_NAME" \
	--count 35 --status "$IDLE" --max-seconds 20 >"$TEST_TMP/dot35.out" 2>&1 &
DOT_IDLE_PID=$!
E2E_PIDS+=("$DOT_IDLE_PID")
show_on_fail "$TEST_TMP/tcp35.out" "$TEST_TMP/dot35.out"
wait_for -t 15 test -s "$IDLE" || fail "the 35 DoT connections were not opened"
assert_eq "35 0" "$(json_get "$(cat "$IDLE")" 'd["opened"], d["closed"]')" "35 DoT connections answered and idle"
assert_eq 0 "$(json_get "$(cat "$HOLD")" 'd["closed"]')" "35 plain TCP connections still held"
out=$(kdig_tls "$TPORT" conn71.zone.example A)
assert_eq 192.0.2.1 "$(answer_of "$out")" "connection 71 (DoT) served at max_tcp_connections = 70"
wait_for -t 5 "$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["closed"] >= 1 else 1)' "$HOLD" ||
	fail "no idle connection closed to make room (DoT closed: $(cat "$IDLE"))"
assert_eq "[0]" "$(json_get "$(cat "$HOLD")" 'd["closed_index"]')" \
	"the idlest connection (the first plain TCP one) was closed for the DoT client: one limit for both"
assert_eq 0 "$(json_get "$(cat "$IDLE")" 'd["closed"]')" "no DoT connection closed instead"
kill "$TCP_PID" "$DOT_IDLE_PID" 2>/dev/null || true
wait "$TCP_PID" "$DOT_IDLE_PID" 2>/dev/null || true
stop_pid "$DNSPROXY_PID" dnsproxy
