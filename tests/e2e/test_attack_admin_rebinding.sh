#!/usr/bin/env bash
# tests/e2e/test_attack_admin_rebinding.sh - issue 15 item 9 against the real binary, each attack
# next to its control:
#  - DNS rebinding: GET /cache and /pins with the attacker's name in Host (what a browser sends
#    after evil.example was rebound to 127.0.0.1) are refused with 421 and leak no name; the same
#    requests with Host 127.0.0.1:PORT or localhost:PORT, and the dashboard, are answered;
#  - --check-config prints `token = (set)`, never the token, and the log never shows it;
#  - server.udp_payload_size = 65535 (a spoofed query could buy a 64 KB answer) exits 2 with one
#    line naming the key and the range 512..4096; 4096 is accepted;
#  - one warning when a listener beyond loopback serves public networks (--check-config on
#    stderr, and at start in the log: run in a private network namespace so 0.0.0.0 reaches
#    nothing but loopback); none for the defaults or a wildcard listener with the default allow.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig curl openssl ss
require_binary

start_test_unbound
APORT=$(pick_port)
TOKEN=rebinding-Secret-4711
start_proxy "$UPSTREAM" -D "admin.listen=127.0.0.1:$APORT" -D "admin.token=$TOKEN"
P=$PROXY_PORT
ADMIN=http://127.0.0.1:$APORT
WARNING="public networks in server.allow"

assert_eq 192.0.2.1 "$(kdig_short "$P" private-name.zone.example A)" "a client resolves a name (now in the cache)"

# get PATH [curl args...]: prints the status; the body is in $TEST_TMP/body.
get()
{
	local path=$1
	shift
	curl -s -m 5 -o "$TEST_TMP/body" -w '%{http_code}' "$@" "$ADMIN$path" || echo 000
}

# --- 1. DNS rebinding ------------------------------------------------------------------------

for path in /cache "/cache?name=private-name.zone.example" /pins /stats /; do
	assert_eq 421 "$(get "$path" -H "Host: evil.example:$APORT")" "attack: GET $path with Host evil.example:$APORT is refused"
	assert_not_contains "$(cat "$TEST_TMP/body")" "private-name" "attack: the refusal of $path leaks no name"
	assert_contains "$(cat "$TEST_TMP/body")" '"error"' "attack: the refusal of $path is a JSON error"
done
assert_eq 421 "$(get /cache -H "Host: 127.0.0.1.nip.io:$APORT")" "attack: a name that embeds an IP is refused"
assert_eq 421 "$(get "/cache" -X DELETE -H "Authorization: Bearer $TOKEN" -H "Host: evil.example")" \
	"attack: an authorised DELETE /cache with Host evil.example is refused"

for host in "127.0.0.1:$APORT" "localhost:$APORT"; do
	assert_eq 200 "$(get "/cache?name=private-name.zone.example" -H "Host: $host")" "control: GET /cache with Host $host"
	assert_contains "$(cat "$TEST_TMP/body")" "private-name.zone.example" "control: /cache with Host $host lists the name"
	assert_eq 200 "$(get /pins -H "Host: $host")" "control: GET /pins with Host $host"
	# The dashboard as opened by http://$host/: the page and the /stats it polls (relative URLs).
	assert_eq 200 "$(get / -H "Host: $host")" "control: the dashboard opened as http://$host/"
	assert_contains "$(cat "$TEST_TMP/body")" 'fetch("/stats"' "control: the dashboard polls a relative /stats"
	assert_eq 200 "$(get /stats -H "Host: $host")" "control: the dashboard's /stats poll with Host $host"
done
assert_eq 200 "$(get /health -0 -H 'Host:')" "control: an HTTP/1.0 request without Host is answered"

# --- 2. the token is never printed -------------------------------------------------------------

check_config()
{
	"$DNSPROXY_BIN" --check-config -c "$TEST_TMP/dnsproxy.ini" -D "tls.ca_file=$CA_FILE" "$@"
}
out=$(check_config -D "admin.token=$TOKEN" 2>&1) || fail "--check-config with a token failed: $out"
assert_not_contains "$out" "$TOKEN" "attack: --check-config does not print the admin token"
assert_contains "$out" "token = (set)" "control: --check-config says a token is set"
out=$(check_config 2>&1) || fail "--check-config failed: $out"
assert_eq "token = " "$(grep '^token =' <<<"$out")" "control: --check-config without a token prints it empty"
assert_not_contains "$(cat "$PROXY_LOG")" "$TOKEN" "the proxy's log does not show the token"

# --- 3. udp_payload_size at most 4096 ----------------------------------------------------------

rc=0
out=$(check_config -D server.udp_payload_size=65535 2>&1) || rc=$?
assert_eq 2 "$rc" "attack: udp_payload_size = 65535 exits 2"
assert_eq 1 "$(wc -l <<<"$out")" "attack: one line for udp_payload_size = 65535 ($out)"
assert_contains "$out" "server.udp_payload_size" "attack: the line names the key"
assert_contains "$out" "between 512 and 4096" "attack: the line states the allowed range"
out=$(check_config -D server.udp_payload_size=4096 2>&1) || fail "udp_payload_size = 4096 refused: $out"
assert_contains "$out" "udp_payload_size = 4096" "control: udp_payload_size = 4096 is accepted"

# --- 4. one warning when public networks reach a listener beyond loopback -----------------------

OPEN=(-D "server.listen=0.0.0.0:$P" -D "server.allow=0.0.0.0/0, ::/0")
out=$(check_config "${OPEN[@]}" 2>&1 >/dev/null) || fail "--check-config of an open resolver failed: $out"
assert_eq 1 "$(grep -c "$WARNING" <<<"$out")" "attack: --check-config warns once for listen 0.0.0.0, allow 0.0.0.0/0"
out=$(check_config -D "server.listen=0.0.0.0:$P" -D "admin.listen=0.0.0.0:$APORT" 2>&1 >/dev/null) ||
	fail "--check-config failed: $out"
assert_not_contains "$out" "$WARNING" "control: no warning for wildcard listeners with the default allow"
assert_not_contains "$(cat "$PROXY_LOG")" "$WARNING" "control: no warning in the log for the defaults"

# At start, in the log: 0.0.0.0 inside a fresh network namespace holds only loopback.
if unshare -n true 2>/dev/null; then
	cat >"$TEST_TMP/netns-dnsproxy" <<EOF
#!/bin/sh
exec unshare -n sh -c 'ip link set lo up && exec "\$0" "\$@"' "$DNSPROXY_BIN" "\$@"
EOF
	chmod +x "$TEST_TMP/netns-dnsproxy"
	for variant in open default; do
		args=(-D "server.listen=0.0.0.0:$P")
		[[ $variant == open ]] && args=("${OPEN[@]}")
		(
			DNSPROXY_BIN=$TEST_TMP/netns-dnsproxy
			start_dnsproxy "$TEST_TMP/netns-$variant.log" -c "$TEST_TMP/dnsproxy.ini" "${args[@]}" \
				-D "upstream.servers=$UPSTREAM" -D "tls.ca_file=$CA_FILE" -D "admin.listen=" \
				-D "storage.path=$TEST_TMP/netns-$variant.sqlite"
			stop_pid "$DNSPROXY_PID" "dnsproxy in a network namespace ($variant)" >/dev/null
		)
	done
	assert_eq 1 "$(grep -c "$WARNING" "$TEST_TMP/netns-open.log")" \
		"attack: the log warns once at start for listen 0.0.0.0, allow 0.0.0.0/0"
	assert_eq 0 "$(grep -c "$WARNING" "$TEST_TMP/netns-default.log")" \
		"control: no warning at start for listen 0.0.0.0 with the default allow"
else
	skip_part "unshare -n is not permitted here: the start-time warning is checked through --check-config only"
fi

stop_pid "$DNSPROXY_PID" dnsproxy
