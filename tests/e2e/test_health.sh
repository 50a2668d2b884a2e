#!/usr/bin/env bash
# tests/e2e/test_health.sh - `dnsproxy --health [--ready] --config=FILE` (SPEC 2, issue 17 item 6):
# it asks the instance the file describes, wherever its admin API listens, through DNS when the
# admin API is off, and exits 1 within a few seconds when nothing serves.
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_binary

use_test_pki
DOT_PORT=$(pick_port)
start_dot_server "$DOT_PORT" "$CERT" "$KEY"
UPSTREAM="127.0.0.1:$DOT_PORT#$NAME"

# health_ini FILE DNS_PORT ADMIN_LISTEN [PROTOCOLS]: everything in the file, as a mounted ini would be.
health_ini()
{
	cat >"$1" <<EOF
[server]
listen = 127.0.0.1:$2
protocols = ${4:-udp,tcp}

[upstream]
servers = $UPSTREAM
timeout_ms = 1000

[tls]
ca_file = $CA_FILE

[storage]
path = $TEST_TMP/health-$2.sqlite

[admin]
listen = $3
EOF
}
# health_rc ARGS...: the exit status of dnsproxy --health ARGS..., its output in the file $HEALTH_OUT.
HEALTH_OUT=$TEST_TMP/health.out
health_rc()
{
	local rc=0
	"$DNSPROXY_BIN" --health "$@" >"$HEALTH_OUT" 2>&1 || rc=$?
	echo "$rc"
}
# healthy_proxy NAME PORT ADMIN [PROTOCOLS] WHAT: starts a proxy from $TEST_TMP/NAME.ini (health_ini);
# --health with that file must exit 0 within 5 s ("WHAT: --health exits 0").
healthy_proxy()
{
	local name=$1 what=${*: -1}
	health_ini "$TEST_TMP/$name.ini" "$2" "$3" "${@:4:$# - 4}"
	start_dnsproxy "$TEST_TMP/$name.log" -c "$TEST_TMP/$name.ini"
	assert_eq 0 "$(health_timed 5 -c "$TEST_TMP/$name.ini")" "$what: --health exits 0"
}
# health_timed SECONDS ARGS...: fails unless --health ARGS... returns within SECONDS.
health_timed()
{
	local limit=$1 start rc
	shift
	start=$(date +%s%N)
	rc=$(health_rc "$@")
	local ms=$((($(date +%s%N) - start) / 1000000))
	((ms < limit * 1000)) || fail "--health $* took $ms ms (limit $limit s)"
	echo "$rc"
}

# 1. Admin API on its usual port.
P1=$(pick_port)
A1=$(pick_port)
healthy_proxy admin "$P1" "127.0.0.1:$A1" "admin on"
assert_eq 0 "$(health_rc --ready -c "$TEST_TMP/admin.ini")" "admin on: --health --ready exits 0 while the upstream is usable"
assert_contains "$(cat "$HEALTH_OUT")" "/health: 200" "admin on: it asked GET /health on [admin] listen"
# Liveness and readiness part when no upstream is usable: stop the upstream, let a query fail.
stop_pid "$DOT_PID" "dot_server.py"
kdig_short "$P1" +timeout=3 down.zone.example >/dev/null
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$A1/health")
assert_eq 503 "$code" "control: with the upstream gone /health answers 503"
assert_eq 0 "$(health_rc -c "$TEST_TMP/admin.ini")" "upstream gone: --health (liveness) still exits 0: the proxy serves"
assert_eq 1 "$(health_rc --ready -c "$TEST_TMP/admin.ini")" "upstream gone: --health --ready exits 1"
stop_pid "$DNSPROXY_PID" dnsproxy
start_dot_server "$DOT_PORT" "$CERT" "$KEY"

# 2. The same file while nothing runs: exit 1, bounded in time.
assert_eq 1 "$(health_timed 5 -c "$TEST_TMP/admin.ini")" "proxy not running (admin on): --health exits 1 within 5 s"

# 3. Admin API on another address and port: the probe follows the file.
P2=$(pick_port)
A2=$(pick_port)
healthy_proxy moved "$P2" "127.0.0.1:$A2" "admin on port $A2"
assert_contains "$(cat "$HEALTH_OUT")" ":$A2/health" "it asked the moved admin address"
assert_eq 1 "$(health_rc -c "$TEST_TMP/admin.ini")" "control: the first file's address (nothing there now) is unhealthy"
stop_pid "$DNSPROXY_PID" dnsproxy

# 4. Admin API off: one DNS query to the first listener.
P3=$(pick_port)
healthy_proxy noadmin "$P3" "" "admin off (DNS probe)"
assert_contains "$(cat "$HEALTH_OUT")" "udp://127.0.0.1:$P3" "admin off: it asked the first listener over UDP"
assert_eq 0 "$(health_rc --ready -c "$TEST_TMP/noadmin.ini")" "admin off: --health --ready exits 0 (the upstream answers . NS)"
stop_pid "$DNSPROXY_PID" dnsproxy
assert_eq 1 "$(health_timed 5 -c "$TEST_TMP/noadmin.ini")" "proxy not running (admin off): --health exits 1 within 5 s"

# 5. Admin off and TCP only: the probe uses TCP.
P4=$(pick_port)
healthy_proxy tcp "$P4" "" tcp "admin off, TCP only"
assert_contains "$(cat "$HEALTH_OUT")" "tcp://127.0.0.1:$P4" "admin off, TCP only: it asked over TCP"
stop_pid "$DNSPROXY_PID" dnsproxy
