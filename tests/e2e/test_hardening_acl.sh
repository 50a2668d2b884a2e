#!/usr/bin/env bash
# tests/e2e/test_hardening_acl.sh - [server] allow (issue 8, acceptance 4): with allow = 127.0.0.1/32
# a query from 127.0.0.2 gets REFUSED over UDP, its TCP connection is reset at accept (issue 15), both
# counted; 127.0.0.1 is served. Issue 16: an IPv6 network admits IPv4 clients by their IPv4-mapped form,
# so allow = ::/0 and ::ffff:127.0.0.0/104 serve 127.0.0.1 (both refused it before); ::1/128 does not.
source "$(dirname "$0")/lib.sh"
require_tool openssl kdig curl
require_binary

use_test_pki
start_test_dot_server
start_proxy_with_admin "$UPSTREAM" -D "server.allow=127.0.0.1/32"

assert_eq REFUSED "$(kdig_rcode "$PROXY_PORT" -b 127.0.0.2 acl1.zone.example)" "UDP query from 127.0.0.2 refused"
assert_eq none "$(kdig_rcode "$PROXY_PORT" -b 127.0.0.2 +tcp acl2.zone.example)" "TCP connection from 127.0.0.2 closed at accept"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 acl3.zone.example)" "UDP query from 127.0.0.1 answered"
assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 +tcp acl4.zone.example)" "TCP query from 127.0.0.1 answered"
assert_eq 2 "$(client_stat refused)" "both refusals counted in /stats clients.refused"
qnames=$(json_stat "$DOT_STATS" qnames)
assert_contains "$qnames" acl3.zone.example "the allowed query reached the upstream"
assert_not_contains "$qnames" acl1.zone.example "the refused UDP query never reached the upstream"
assert_not_contains "$qnames" acl2.zone.example "the refused TCP query never reached the upstream"
stop_pid "$DNSPROXY_PID" dnsproxy

# One proxy per allow list; the query comes from 127.0.0.1 over UDP and TCP.
for allow in "::/0" "::ffff:127.0.0.0/104"; do
	start_proxy "$UPSTREAM" -D "server.allow=$allow"
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 "mapped-udp.zone.example")" "allow = $allow: UDP query from 127.0.0.1 answered"
	assert_eq 192.0.2.1 "$(kdig_short "$PROXY_PORT" -b 127.0.0.1 +tcp "mapped-tcp.zone.example")" "allow = $allow: TCP query from 127.0.0.1 answered"
	stop_pid "$DNSPROXY_PID" dnsproxy
done
# Control: a native IPv6 network still refuses IPv4 clients.
start_proxy "$UPSTREAM" -D "server.allow=::1/128"
assert_eq REFUSED "$(kdig_rcode "$PROXY_PORT" -b 127.0.0.1 v6only.zone.example)" "allow = ::1/128: UDP query from 127.0.0.1 refused"
stop_pid "$DNSPROXY_PID" dnsproxy
