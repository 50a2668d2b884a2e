#!/usr/bin/env bash
# tests/e2e/test_session_resumption.sh - reconnects resume the TLS session (SPEC §5), with a
# TLS 1.2 and a TLS 1.3 server alike: the DoT server closes after every 2 answers, and each
# handshake after the first must be a resumed one (ssl_object.session_reused on the server).
source "$(dirname "$0")/lib.sh"
require_tool kdig openssl
require_binary

use_test_pki

for version in 1.2 1.3; do
	start_test_dot_server --tls-version "$version" --close-after 2
	start_proxy "$UPSTREAM" -D tls.session_resumption=true
	answered=0
	for ((i = 1; i <= 8; i++)); do
		a=$(kdig_short "$PROXY_PORT" "tls${version/./}-$i.zone.example" A || true)
		[[ $a == 192.0.2.1 ]] && answered=$((answered + 1))
	done
	assert_eq 8 "$answered" "TLS $version: 8 queries answered across server-side closes"
	hs=$(dot_stat handshakes)
	assert_ge 4 "$hs" "TLS $version: the proxy reconnected ($hs handshakes)"
	assert_ge $((hs - 1)) "$(dot_stat resumed)" "TLS $version: every reconnect resumed the session ($(dot_stat resumed) of $((hs - 1)))"
	stop_proxy_and_dot_server
done
