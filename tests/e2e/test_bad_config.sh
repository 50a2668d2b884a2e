#!/usr/bin/env bash
# tests/e2e/test_bad_config.sh - a bad configuration exits with status 2 and ONE line naming
# the key or file (SPEC §2): unknown key, bad value, unreadable CA file, port in use; the
# shipped etc/dnsproxy.ini passes --check-config; --version and --help exit 0.
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki
INI=$TEST_TMP/dnsproxy.ini
write_ini "$INI"
PORT=$(pick_port)
BASE=(-c "$INI" -D "server.listen=127.0.0.1:$PORT" -D "upstream.servers=127.0.0.1:853#$NAME"
	-D "tls.ca_file=$CA_FILE" -D "admin.listen=" -D "storage.path=$TEST_TMP/db.sqlite")

# run_proxy OUTFILE ARGS...: dnsproxy with a 10 s limit; prints its exit status.
run_proxy()
{
	local outf=$1 rc=0
	shift
	timeout -k 2 10 "$DNSPROXY_BIN" "$@" >"$outf" 2>&1 </dev/null || rc=$?
	echo "$rc"
}

# expect_config_error WHAT NEEDLE ARGS...: exit 2, exactly one non-empty line, naming NEEDLE.
expect_config_error()
{
	local what=$1 needle=$2
	shift 2
	local outf=$TEST_TMP/out.txt rc
	rc=$(run_proxy "$outf" "$@")
	local out
	out=$(cat "$outf")
	((rc != 124)) || fail "$what: dnsproxy did not exit within 10 s (it should refuse to start): $out"
	assert_eq 2 "$rc" "$what: exit status"
	assert_eq 1 "$(grep -c . "$outf" || true)" "$what: exactly one line of output (got: $out)"
	assert_contains "$out" "$needle" "$what: the line names '$needle'"
}

expect_config_error "unknown key" "server.bogus" "${BASE[@]}" -D server.bogus=1
expect_config_error "bad value" "upstream.timeout_ms" "${BASE[@]}" -D upstream.timeout_ms=abc
expect_config_error "unreadable CA file" "/nonexistent" "${BASE[@]}" -D tls.ca_file=/nonexistent/ca.pem
# Issue 16: one table drives validation; a value check, a check across keys and fleet.redis through RedisUrl.
expect_config_error "udp_payload_size above 4096" "server.udp_payload_size" "${BASE[@]}" -D server.udp_payload_size=4097
expect_config_error "min_ttl above max_ttl" "cache.min_ttl" "${BASE[@]}" -D cache.min_ttl=10 -D cache.max_ttl=5
expect_config_error "bad redis IPv6 host" "fleet.redis" "${BASE[@]}" -D "fleet.redis=redis://[not-v6]:6379"
expect_config_error "unknown command-line option" "bogus" "${BASE[@]}" --bogus
expect_config_error "option without its argument" "config" "${BASE[@]}" -c

# Port in use: hold the UDP and TCP port with python, then start on it.
"$PY" - "$PORT" "$TEST_TMP/holder.ready" >"$TEST_TMP/holder.log" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", port)); t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", port))
open(sys.argv[2], "w").write("ready\n")
while True:
    time.sleep(60)
PY
HOLDER=$!
E2E_PIDS+=("$HOLDER")
show_on_fail "$TEST_TMP/holder.log"
wait_for -t 10 test -s "$TEST_TMP/holder.ready" || fail "could not occupy port $PORT"
expect_config_error "port in use" "$PORT" "${BASE[@]}"
kill "$HOLDER"

# The shipped configuration is valid as it is (with the system CA bundle when present).
SHIPPED=$DNSPROXY_SOURCE/etc/dnsproxy.ini
[[ -f $SHIPPED ]] || fail "etc/dnsproxy.ini is missing"
extra=()
[[ -r /etc/ssl/certs/ca-certificates.crt ]] || extra=(-D "tls.ca_file=$CA_FILE")
rc=$(run_proxy "$TEST_TMP/check.txt" -c "$SHIPPED" "${extra[@]}" --check-config)
assert_eq 0 "$rc" "--check-config accepts the shipped etc/dnsproxy.ini (output: $(head -c 300 "$TEST_TMP/check.txt"))"
rc=$(run_proxy "$TEST_TMP/check2.txt" -c "$SHIPPED" "${extra[@]}" -D upstream.timeout_ms=1234 --check-config)
assert_eq 0 "$rc" "--check-config with a -D override exits 0"
assert_contains "$(cat "$TEST_TMP/check2.txt")" "1234" "--check-config prints the effective configuration, overrides included"
rc=$(run_proxy "$TEST_TMP/check3.txt" -c "$SHIPPED" "${extra[@]}" -D upstream.strategy=sometimes --check-config)
assert_eq 2 "$rc" "--check-config exits 2 on a bad value"
assert_contains "$(cat "$TEST_TMP/check3.txt")" "upstream.strategy" "--check-config names the bad key"

rc=$(run_proxy "$TEST_TMP/version.txt" --version)
assert_eq 0 "$rc" "--version exits 0"
grep -Eq '[0-9]+\.[0-9]+' "$TEST_TMP/version.txt" || fail "--version printed no version number: $(cat "$TEST_TMP/version.txt")"
pass "--version prints a version number"
rc=$(run_proxy "$TEST_TMP/help.txt" --help)
assert_eq 0 "$rc" "--help exits 0"
assert_contains "$(cat "$TEST_TMP/help.txt")" "config" "--help describes the options"
