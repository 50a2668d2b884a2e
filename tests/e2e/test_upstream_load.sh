#!/usr/bin/env bash
# tests/e2e/test_upstream_load.sh - connection reuse under load and resumption across many
# server-side closes, with TLS 1.2 and TLS 1.3 servers (issue "Upstream pool", criteria 2 and 3).
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki

# 2. 10,000 queries from 50 concurrent clients (half UDP, half TCP), unique names so every one
# goes upstream: at most `connections` (1) TLS connection, nothing lost.
start_test_dot_server
start_proxy "$UPSTREAM" -D upstream.connections=1
out=$(dns_client load --port "$PROXY_PORT" --clients 50 --queries 10000 --unique)
log "load: $out"
assert_eq 10000 "$(json_field "$out" answered)" "10,000 queries from 50 clients all answered"
assert_eq 1 "$(dot_stat connections_total)" "one TLS connection carried them all"
echo "# measured: $(json_field "$out" qps) queries/s through one connection ($(dot_stat queries) upstream queries)"
stop_proxy_and_dot_server

# 3. The server closes after every 100 answers: 5,000 queries all answered; every reconnect
# after the first resumes the TLS session, with TLS 1.2 and with TLS 1.3.
for version in 1.2 1.3; do
	start_test_dot_server --tls-version "$version" --close-after 100
	start_proxy "$UPSTREAM"
	out=$(dns_client load --port "$PROXY_PORT" --clients 20 --queries 5000 --unique --tcp-share 0.5)
	log "TLS $version close-after-100: $out"
	assert_eq 5000 "$(json_field "$out" answered)" "TLS $version: 5,000 queries answered while the server closes every 100"
	hs=$(dot_stat handshakes)
	resumed=$(dot_stat resumed)
	assert_ge 50 "$hs" "TLS $version: the proxy reconnected after the closes ($hs handshakes)"
	assert_eq $((hs - 1)) "$resumed" "TLS $version: every reconnect after the first was resumed ($resumed of $((hs - 1)))"
	echo "# measured TLS $version: $(json_field "$out" qps) queries/s, $hs handshakes, $resumed resumed"
	stop_proxy_and_dot_server
done
