#!/usr/bin/env bash
# tests/e2e/test_doh_listener.sh - the DNS-over-HTTPS listener for clients (issue 19; SPEC §2-3,
# [server] https_listen and doh_path; RFC 8484) against a real unbound DoT upstream: kdig +https
# (POST) and +https-get are answered; curl over HTTP/2 and HTTP/1.1 (ALPN) gets 200 with an
# application/dns-message answer and Cache-Control max-age no longer than the answer's TTL, by POST
# and by GET ?dns=<base64url>; each bad request gets its status next to a good control (404 wrong
# path, 415 wrong content type, 405 PUT, 413 a 70 KB body, 400 bad base64; over HTTP/2 the
# requests with a body go through tests/support/doh_h2_client.py, and any stream reset after an
# early answer must be NO_ERROR); a wrong CA fails;
# HTTP/1.1 keeps its connection for a second request and HTTP/2 multiplexes four on one; a client
# outside allow is not served.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/front_lib.sh"
require_tool unbound unbound-control kdig openssl curl ss
require_binary
"$PY" -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed (scripts/test installs it)"

start_test_unbound
make_front_cert
HPORT=$(pick_port)
APORT=$(pick_port)
start_front_proxy "" "$HPORT" -D "server.tls_cert_file=$FRONT_CERT" -D "server.tls_key_file=$FRONT_KEY" \
	-D server.allow=127.0.0.1/32 -D "admin.listen=127.0.0.1:$APORT"
URL=https://$FRONT_NAME:$HPORT/dns-query
CURL=(curl -sS --no-progress-meter -m 10 --cacert "$CA_FILE" --resolve "$FRONT_NAME:$HPORT:127.0.0.1")
CT='content-type: application/dns-message'

# query_file NAME FILE: a wire-format A query for NAME with ID 0 (RFC 8484 4.1) in FILE.
query_file()
{
	"$PY" -c 'import dns.message,sys; q = dns.message.make_query(sys.argv[1], "A"); q.id = 0
open(sys.argv[2], "wb").write(q.to_wire())' "$1" "$2"
}
# query_b64 NAME: the same query in base64url without padding, for GET ?dns= (RFC 8484 4.1).
query_b64()
{
	"$PY" -c 'import base64,dns.message,sys; q = dns.message.make_query(sys.argv[1], "A"); q.id = 0
print(base64.urlsafe_b64encode(q.to_wire()).decode().rstrip("="))' "$1"
}
# answer_summary FILE: "ID RCODE ADDRESSES SMALLEST-TTL" of the DNS message in FILE.
answer_summary()
{
	"$PY" -c 'import dns.message,dns.rcode,sys; m = dns.message.from_wire(open(sys.argv[1], "rb").read())
ttls = [rr.ttl for rr in m.answer + m.authority]
print(m.id, dns.rcode.to_text(m.rcode()), ",".join(rd.to_text() for rr in m.answer for rd in rr), min(ttls) if ttls else "none")' "$1" 2>&1
}
# header VALUE-NAME HEADERS-FILE: the value of the first header of that name (case-insensitive).
header() { tr -d '\r' <"$2" | awk -v n="$1" 'BEGIN { n = tolower(n) } { split($0, a, ":"); if (tolower(a[1]) == n) { sub(/^[^:]*:[ \t]*/, ""); print; exit } }'; }

# check_ok WHAT HEADERS BODY STATUS_AND_VERSION EXPECTED_VERSION: a 200 answer for 192.0.2.1 with
# the DNS content type and max-age <= the answer's smallest TTL.
check_ok()
{
	local what=$1 headers=$2 body=$3 got=$4 version=$5
	assert_eq "200 $version" "$got" "$what: status 200 over HTTP/$version"
	assert_eq application/dns-message "$(header content-type "$headers")" "$what: content-type application/dns-message"
	local summary id rcode addr ttl
	summary=$(answer_summary "$body")
	read -r id rcode addr ttl <<<"$summary"
	assert_eq "0 NOERROR 192.0.2.1" "$id $rcode $addr" "$what: the body is the DNS answer (ID 0 kept)"
	local cc age
	cc=$(header cache-control "$headers")
	age=$(sed -n 's/.*max-age=\([0-9]*\).*/\1/p' <<<"$cc")
	[[ $age =~ ^[0-9]+$ ]] || fail "$what: no max-age in cache-control '$cc'"
	((age <= ttl)) || fail "$what: max-age=$age is longer than the answer's smallest TTL $ttl"
	((age + 2 >= ttl)) || fail "$what: max-age=$age is not the answer's smallest TTL $ttl"
	pass "$what: cache-control '$cc' for a smallest TTL of $ttl"
}

# --- kdig ---
out=$(_kdig "$HPORT" +https=/dns-query +tls-ca="$CA_FILE" +tls-hostname="$FRONT_NAME" post.zone.example A)
assert_eq 192.0.2.1 "$(answer_of "$out")" "kdig +https (POST) answered"
assert_contains "$out" "(HTTP/2-POST)" "kdig +https used HTTP/2 POST"
out=$(_kdig "$HPORT" +https=/dns-query +https-get +tls-ca="$CA_FILE" +tls-hostname="$FRONT_NAME" get.zone.example A)
assert_eq 192.0.2.1 "$(answer_of "$out")" "kdig +https-get answered"
assert_contains "$out" "(HTTP/2-GET)" "kdig +https-get used HTTP/2 GET"
out=$(_kdig "$HPORT" +https=/dns-query +tls-ca="$TEST_TMP/pki/evil-ca.pem" +tls-hostname="$FRONT_NAME" evil.zone.example A)
assert_eq "" "$(answer_of "$out")" "control: kdig +https trusting another CA gets no answer"

# --- curl: POST and GET over HTTP/2 and HTTP/1.1 ---
Q=$TEST_TMP/q.bin
query_file curl-post.zone.example "$Q"
got=$("${CURL[@]}" --http2 -H "$CT" --data-binary @"$Q" -D "$TEST_TMP/h2post.h" -o "$TEST_TMP/h2post.bin" \
	-w '%{http_code} %{http_version}' "$URL") || fail "curl --http2 POST failed: $got"
check_ok "curl --http2 POST" "$TEST_TMP/h2post.h" "$TEST_TMP/h2post.bin" "$got" 2
got=$("${CURL[@]}" --http2 -D "$TEST_TMP/h2get.h" -o "$TEST_TMP/h2get.bin" -w '%{http_code} %{http_version}' \
	"$URL?dns=$(query_b64 curl-get2.zone.example)") || fail "curl --http2 GET failed: $got"
check_ok "curl --http2 GET ?dns=" "$TEST_TMP/h2get.h" "$TEST_TMP/h2get.bin" "$got" 2
got=$("${CURL[@]}" --http1.1 -D "$TEST_TMP/h1get.h" -o "$TEST_TMP/h1get.bin" -w '%{http_code} %{http_version}' \
	"$URL?dns=$(query_b64 curl-get1.zone.example)") || fail "curl --http1.1 GET failed: $got"
check_ok "curl --http1.1 GET ?dns=" "$TEST_TMP/h1get.h" "$TEST_TMP/h1get.bin" "$got" 1.1
got=$("${CURL[@]}" --http1.1 -H "$CT" --data-binary @"$Q" -D "$TEST_TMP/h1post.h" -o "$TEST_TMP/h1post.bin" \
	-w '%{http_code} %{http_version}' "$URL") || fail "curl --http1.1 POST failed: $got"
check_ok "curl --http1.1 POST" "$TEST_TMP/h1post.h" "$TEST_TMP/h1post.bin" "$got" 1.1
# The same name again, later: a cached answer's TTL has counted down and max-age with it.
sleep 1.2
got=$("${CURL[@]}" --http2 -H "$CT" --data-binary @"$Q" -D "$TEST_TMP/again.h" -o "$TEST_TMP/again.bin" \
	-w '%{http_code} %{http_version}' "$URL") || fail "curl --http2 POST (again) failed: $got"
check_ok "curl --http2 POST of a cached name" "$TEST_TMP/again.h" "$TEST_TMP/again.bin" "$got" 2
"${CURL[@]}" --http2 -o "$TEST_TMP/nx.bin" "$URL?dns=$(query_b64 no.nx.zone.example)" || fail "curl GET of an NXDOMAIN name failed"
assert_eq "0 NXDOMAIN" "$(answer_summary "$TEST_TMP/nx.bin" | awk '{ print $1, $2 }')" "NXDOMAIN comes back as a DNS answer over DoH"

# --- bad requests, each with its status; the good request above is the control ---
# code ARGS...: the HTTP status curl gets for one request.
code() { "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true; }
# h2_status METHOD PATH [CONTENT-TYPE [BODY-FILE]]: the status of one HTTP/2 request sent by
# tests/support/doh_h2_client.py. A server may answer a request before reading its body and then
# reset the stream, with NO_ERROR only (RFC 9113 8.1); curl 7.88 fails on such an early answer
# (exit 92, no status), so requests with a body that the proxy rejects go through this client.
h2_status()
{
	local out
	out=$("$PY" "$SUPPORT_DIR/doh_h2_client.py" --port "$HPORT" --ca "$CA_FILE" --hostname "$FRONT_NAME" \
		--method "$1" --path "$2" ${3:+--content-type "$3"} ${4:+--body-file "$4"})
	log "HTTP/2 $1 $2 (${3:-no content type}): $out" >&2
	[[ $(json_get "$out" 'd["reset"] in (None, 0)') == True ]] ||
		echo "stream reset with error code $(json_get "$out" 'd["reset"]'), not NO_ERROR"
	json_get "$out" 'd["status"]'
}
head -c 70000 /dev/zero >"$TEST_TMP/big.bin"
DNSCT=application/dns-message
assert_eq 404 "$(h2_status POST /other "$DNSCT" "$Q")" "HTTP/2: POST to a wrong path is 404"
assert_eq 404 "$(code --http2 "https://$FRONT_NAME:$HPORT/dns-query-not?dns=$(query_b64 p.zone.example)")" \
	"HTTP/2: GET on a longer path is 404"
assert_eq 415 "$(h2_status POST /dns-query text/plain "$Q")" "HTTP/2: POST with content-type text/plain is 415"
assert_eq 405 "$(h2_status PUT /dns-query "$DNSCT" "$Q")" "HTTP/2: PUT is 405"
assert_eq 413 "$(h2_status POST /dns-query "$DNSCT" "$TEST_TMP/big.bin")" "HTTP/2: a 70 KB POST body is 413"
assert_eq 400 "$(code --http2 "$URL?dns=!!!*")" "HTTP/2: GET with bad base64 is 400"
assert_eq 400 "$(code --http2 "$URL")" "HTTP/2: GET without dns= is 400"
assert_eq 200 "$(h2_status POST /dns-query "$DNSCT" "$Q")" "HTTP/2: control: the same POST to /dns-query is 200"
assert_eq 200 "$(h2_status GET "/dns-query?dns=$(query_b64 h2get.zone.example)")" "HTTP/2: control: a GET with dns= is 200"

h=(--http1.1)
assert_eq 404 "$(code "${h[@]}" -H "$CT" --data-binary @"$Q" "https://$FRONT_NAME:$HPORT/other")" \
	"HTTP/1.1: POST to a wrong path is 404"
assert_eq 404 "$(code "${h[@]}" "https://$FRONT_NAME:$HPORT/dns-query-not?dns=$(query_b64 p.zone.example)")" \
	"HTTP/1.1: GET on a longer path is 404"
assert_eq 415 "$(code "${h[@]}" -H 'content-type: text/plain' --data-binary @"$Q" "$URL")" \
	"HTTP/1.1: POST with content-type text/plain is 415"
assert_eq 405 "$(code "${h[@]}" -X PUT -H "$CT" --data-binary @"$Q" "$URL")" "HTTP/1.1: PUT is 405"
# With "Expect: 100-continue" curl sends the body only once asked; the proxy answers 413 from
# Content-Length first. (Sent eagerly, the body may still be arriving when the proxy closes, and
# curl 7.88 then stops at the broken pipe without reading the 413.)
assert_eq 413 "$(code "${h[@]}" -H 'Expect: 100-continue' -H "$CT" --data-binary @"$TEST_TMP/big.bin" "$URL")" \
	"HTTP/1.1: a 70 KB POST body is 413"
assert_eq 400 "$(code "${h[@]}" "$URL?dns=!!!*")" "HTTP/1.1: GET with bad base64 is 400"
assert_eq 400 "$(code "${h[@]}" "$URL")" "HTTP/1.1: GET without dns= is 400"
assert_eq 200 "$(code "${h[@]}" -H "$CT" --data-binary @"$Q" "$URL")" "HTTP/1.1: control: the same POST to $URL is 200"
got=$("${CURL[@]}" --http2 --cacert "$TEST_TMP/pki/evil-ca.pem" -o /dev/null -w '%{http_code}' -H "$CT" \
	--data-binary @"$Q" "$URL" 2>&1) && fail "curl trusting another CA got an answer: $got"
pass "curl trusting another CA fails ($got)"
got=$("${CURL[@]}" --http2 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' -H "$CT" --data-binary @"$Q" "$URL" 2>&1) &&
	fail "curl from 127.0.0.2 (outside allow) got an answer: $got"
pass "a DoH client from 127.0.0.2 (outside allow) is not served ($got)"
assert_eq 200 "$("${CURL[@]}" --http2 --interface 127.0.0.1 -o /dev/null -w '%{http_code}' -H "$CT" --data-binary @"$Q" "$URL")" \
	"control: the same request from 127.0.0.1 is 200"

# --- connection reuse: HTTP/1.1 keep-alive, HTTP/2 multiplexing ---
got=$("${CURL[@]}" --http1.1 -o /dev/null -o /dev/null -w '%{http_code} %{num_connects} %{http_version}\n' \
	"$URL?dns=$(query_b64 ka1.zone.example)" "$URL?dns=$(query_b64 ka2.zone.example)")
assert_eq "200 1 1.1
200 0 1.1" "$got" "HTTP/1.1: two GETs on one kept-alive connection"
got=$("${CURL[@]}" --http1.1 -H "$CT" --data-binary @"$Q" -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects} %{http_version}\n' "$URL" "$URL")
assert_eq "200 1 1.1
200 0 1.1" "$got" "HTTP/1.1: two POSTs on one kept-alive connection"
urls=()
outs=()
for i in 1 2 3 4; do
	urls+=("$URL?dns=$(query_b64 "mux$i.zone.example")")
	outs+=(-o "$TEST_TMP/mux$i.bin")
done
got=$("${CURL[@]}" --http2 --parallel --parallel-max 4 "${outs[@]}" -w '%{http_code} %{num_connects} %{http_version}\n' "${urls[@]}")
log "parallel HTTP/2 transfers (status, new connections, version): $(tr '\n' ';' <<<"$got")"
assert_eq "4 1 4" "$(awk '$1 == 200 { ok++ } $3 == 2 { v2++ } { c += $2 } END { print ok + 0, c + 0, v2 + 0 }' <<<"$got")" \
	"HTTP/2: four parallel requests (all 200, over HTTP/2) multiplexed on one connection"
for i in 1 2 3 4; do
	assert_eq "0 NOERROR 192.0.2.1" "$(answer_summary "$TEST_TMP/mux$i.bin" | awk '{ print $1, $2, $3 }')" "multiplexed answer $i"
done

# Per-transport /stats counters (docs/ADMIN-API.md).
stat_ge 15 queries.https "queries over DoH counted"
stat_ge 1 encrypted.https.http2_connections "HTTP/2 connections counted"
stat_ge 1 encrypted.https.http1_connections "HTTP/1.1 connections counted"
stat_ge 14 encrypted.https.http_errors "the 14 bad requests counted as HTTP errors"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" plain.zone.example)" "plain UDP still answered beside DoH"
stop_pid "$DNSPROXY_PID" dnsproxy
