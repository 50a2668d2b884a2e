#!/usr/bin/env bash
# tests/e2e/test_tls_verification.sh - strict profile (SPEC §5): an upstream whose certificate
# does not chain to tls.ca_file, or does not match the auth-name, gets no query and the client
# gets SERVFAIL; nothing is ever sent in clear text, neither to the upstream's port nor to
# port 53 of the same address.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig openssl ss
require_binary

use_test_pki
PKI=$TEST_TMP/pki
write_ini "$TEST_TMP/dnsproxy.ini"

# Control: the right certificate works with the same settings.
UPORT=$(pick_port)
start_unbound_dot "$TEST_TMP/good" "$UPORT" "$PKI/server.pem" "$PKI/server.key"
start_proxy "127.0.0.1:$UPORT#$NAME" -D upstream.timeout_ms=1000
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" control.zone.example A)" "control: the CA-signed certificate for the auth-name is accepted"
stop_pid "$DNSPROXY_PID" dnsproxy
stop_pid "$UNBOUND_PID" unbound

# 1. Certificate from another CA (evil).
# 2. Certificate from the right CA, for another name (wrongname: auth-name mismatch; it does list
#    IP:127.0.0.1, so verifying the address instead of the auth-name would wrongly pass).
# One line a case: CERT|WHAT (the messages' subject)|WITH (what no query reached the upstream with).
while IFS='|' read -r cert what with; do
	UPORT=$(pick_port)
	start_unbound_dot "$TEST_TMP/$cert" "$UPORT" "$PKI/$cert.pem" "$PKI/$cert.key"
	start_proxy "127.0.0.1:$UPORT#$NAME" -D upstream.timeout_ms=1000
	assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" "${cert}1.zone.example" A)" "$what: SERVFAIL over UDP"
	assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp "${cert}2.zone.example" A)" "$what: SERVFAIL over TCP"
	assert_eq 0 "$(unbound_queries)" "no query reached the upstream with $with"
	stop_pid "$DNSPROXY_PID" dnsproxy
	stop_pid "$UNBOUND_PID" unbound
done <<'EOF'
evil|certificate from an unrelated CA|the untrusted certificate
wrongname|certificate for another name|the mismatched name
EOF

# 3. No clear text: the "upstream" is a plain listener that fails every TLS handshake; it,
#    and port 53 on the same address (where an opportunistic fallback would go), must never
#    see the query name.
# A random loopback address of its own, so its port 53 is free even when tests run in parallel.
SNIFF_IP=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
SPORT=$(pick_port "$SNIFF_IP")
ports=$SPORT
if ((EUID == 0)); then
	ports+=",53"
else
	skip_part "not root: cannot listen on $SNIFF_IP:53, checking only the upstream port"
fi
start_sniffer "$SNIFF_IP" "$ports" cleartextprobe7
start_proxy "$SNIFF_IP:$SPORT#$NAME" -D upstream.timeout_ms=1000
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" cleartextprobe7.zone.example A)" "upstream without TLS: SERVFAIL over UDP"
assert_eq SERVFAIL "$(kdig_rcode "$PROXY_PORT" +tcp cleartextprobe7.nx.zone.example A)" "upstream without TLS: SERVFAIL over TCP"
stop_pid "$DNSPROXY_PID" dnsproxy
sniff() { json_stat "$SNIFF_STATS" "$1"; }
assert_ge 1 "$(sniff tls_client_hellos)" "the proxy did try TLS to the upstream address"
assert_eq false "$(sniff needle_seen)" "the query name was never sent in clear text"
assert_eq 0 "$(sniff udp_packets)" "no clear-text UDP to the upstream address"
