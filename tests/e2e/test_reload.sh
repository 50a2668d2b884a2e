#!/usr/bin/env bash
# tests/e2e/test_reload.sh - SIGHUP reload (SPEC 2, issue 17 item 5): a changed upstream.servers is
# used for the next miss, the cache and an open client TCP connection survive, a file that does not
# validate changes nothing and is logged in one line, a changed listen address is reopened, /stats
# shows the last reload, and ten reloads under dnsperf load lose no query.
source "$(dirname "$0")/lib.sh"
require_tool openssl
require_tool dnsperf
require_tool curl
require_binary

use_test_pki
APORT=$(pick_port)
BPORT=$(pick_port)
start_dot_server "$APORT" "$CERT" "$KEY"
start_dot_server "$BPORT" "$CERT" "$KEY"
PORT=$(pick_port)
ADMIN_PORT=$(pick_port)
INI=$TEST_TMP/reload.ini
LOGF=$TEST_TMP/dnsproxy-reload.log

# write_reload_ini SERVERS [LISTEN_PORT]: the whole configuration is in the file (a -D given at
# start would override the file at every reload too).
write_reload_ini()
{
	cat >"$INI.new" <<EOF
[server]
listen = 127.0.0.1:${2:-$PORT}
tcp_idle_timeout_ms = 60000
allow = ${ALLOW:-127.0.0.0/8}

[upstream]
servers = $1
timeout_ms = ${TIMEOUT_MS:-2000}

[tls]
ca_file = $CA_FILE

[storage]
path = $TEST_TMP/reload.sqlite

[admin]
listen = 127.0.0.1:$ADMIN_PORT
token = ${TOKEN:-}

[log]
level = information
EOF
	mv "$INI.new" "$INI"
}
# asked NAME PORT: how many times dot server PORT was asked NAME.
asked()
{
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["qnames"].count(sys.argv[2]))' \
		"$TEST_TMP/dot-$2.json" "$1"
}
reload_field() { curl -s -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reload"][sys.argv[1]])' "$1"; }
reload_count_is() { [[ $(reload_field count) == "$1" ]]; }
cache_hits() { curl -s -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["cache"]["hits"])'; }
# hup N: sends SIGHUP and waits until /stats counts N reloads.
hup()
{
	kill -HUP "$DNSPROXY_PID"
	wait_for reload_count_is "$1" || fail "reload $1 not counted in /stats (process alive: $(kill -0 "$DNSPROXY_PID" 2>/dev/null && echo yes || echo no))"
}

A="127.0.0.1:$APORT#$NAME"
B="127.0.0.1:$BPORT#$NAME"
write_reload_ini "$A"
start_dnsproxy "$LOGF" -c "$INI"

# Before: A answers a miss, and the name is cached.
assert_eq 192.0.2.1 "$(kdig_short "$PORT" cached.zone.example)" "before the reload: answered"
assert_eq 1 "$(asked cached.zone.example "$APORT")" "before the reload: A was asked"

# A client TCP connection opened before the reload.
HOLD_FILE=$TEST_TMP/hold-go
HOLD_OUT=$TEST_TMP/hold.out
start_support_script "$HOLD_OUT" "^first " dns_client.py hold --port "$PORT" --name held.zone.example --until "$HOLD_FILE"
HOLD_PID=$SUPPORT_PID
assert_contains "$(cat "$HOLD_OUT")" "first NOERROR" "the held TCP connection got its first answer"

# Control: the same query again is a cache hit before any reload.
hits0=$(cache_hits)
kdig_short "$PORT" cached.zone.example >/dev/null
assert_eq $((hits0 + 1)) "$(cache_hits)" "control: the repeated name is a cache hit"

# Reload: the servers become B.
write_reload_ini "$B"
hup 1
assert_contains "$(cat "$LOGF")" "reload: configuration applied" "the reload is logged"
assert_eq ok "$(reload_field result)" "/stats reload.result is ok"
last=$(reload_field last)
assert_ge $(($(date +%s) - 60)) "$last" "/stats reload.last is the reload's unix time"
assert_eq 192.0.2.1 "$(kdig_short "$PORT" after.zone.example)" "after the reload: a miss is answered"
assert_eq 1 "$(asked after.zone.example "$BPORT")" "the next miss went to the new server B"
assert_eq 0 "$(asked after.zone.example "$APORT")" "and not to the old server A"
hits1=$(cache_hits)
kdig_short "$PORT" cached.zone.example >/dev/null
assert_eq $((hits1 + 1)) "$(cache_hits)" "a name cached before the reload is still a hit"
assert_eq 0 "$(asked cached.zone.example "$BPORT")" "the cached name did not go upstream"
touch "$HOLD_FILE"
wait_for grep -q '"second"' "$HOLD_OUT" || fail "the held connection printed nothing after the reload"
assert_contains "$(tail -n1 "$HOLD_OUT")" '"second": "NOERROR"'  "the TCP connection opened before the reload still gets answers"

# A file that does not validate: one line naming the key, the running configuration stays.
errors_before=$(grep -c 'reload failed' "$LOGF" || true)
printf '[upstream]\nservers = %s\ntimeout_ms = soon\n' "$A" >"$INI"
hup 2
assert_eq $((errors_before + 1)) "$(grep -c 'reload failed' "$LOGF")" "the broken file is logged in exactly one line"
assert_contains "$(grep 'reload failed' "$LOGF")" "upstream.timeout_ms" "the line names the key"
assert_contains "$(reload_field result)" "failed: upstream.timeout_ms" "/stats reload.result says why"
kill -0 "$DNSPROXY_PID" || fail "dnsproxy died on a broken file"
assert_eq 192.0.2.1 "$(kdig_short "$PORT" kept.zone.example)" "after the broken file: still answering"
assert_eq 1 "$(asked kept.zone.example "$BPORT")" "the running configuration (server B) stayed"
assert_eq 0 "$(asked kept.zone.example "$APORT")" "the broken file's server A was not used"
rm -f "$INI"
hup 3
assert_contains "$(reload_field result)" "failed: $INI" "a missing file names the file"

# A changed listen address is reopened; the old one is closed; a client connection opened on the
# old address before the reload is still served (SPEC 2: no open client connection dropped).
MOVE_FILE=$TEST_TMP/move-go
MOVE_OUT=$TEST_TMP/move.out
start_support_script "$MOVE_OUT" "^first " dns_client.py hold --port "$PORT" --name beforemove.zone.example --until "$MOVE_FILE"
MOVE_PID=$SUPPORT_PID
assert_contains "$(cat "$MOVE_OUT")" "first NOERROR" "a TCP connection to the old address got its first answer"
NEW_PORT=$(pick_port)
write_reload_ini "$B" "$NEW_PORT"
hup 4
assert_eq 192.0.2.1 "$(kdig_short "$NEW_PORT" moved.zone.example)" "the new listen address answers"
assert_eq "(no answer: no response)" "$(kdig_short "$PORT" +timeout=1 old.zone.example)" "the old listen address is closed"
touch "$MOVE_FILE"
wait "$MOVE_PID" || true
assert_contains "$(tail -n1 "$MOVE_OUT")" '"second": "NOERROR"' \
	"the TCP connection opened on the old address before the move still gets answers"
PORT=$NEW_PORT

# The ACL and the admin token follow the file.
assert_eq 403 "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X DELETE -H 'Authorization: Bearer t1' "http://127.0.0.1:$ADMIN_PORT/cache")" "control: no token configured, DELETE /cache is 403"
TOKEN=t1 ALLOW=10.0.0.0/8 write_reload_ini "$B" "$PORT"
hup 5
assert_eq 200 "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X DELETE -H 'Authorization: Bearer t1' "http://127.0.0.1:$ADMIN_PORT/cache")" "the reloaded admin token is accepted"
assert_eq REFUSED "$(kdig_rcode "$PORT" acl.zone.example)" "the reloaded allow list refuses 127.0.0.1"
write_reload_ini "$B" "$PORT"
hup 6
assert_eq NOERROR "$(kdig_rcode "$PORT" acl2.zone.example)" "allowed again after the next reload"

# Ten reloads under load, alternating the servers: no query lost. Every name is new (a miss), so
# each reload is followed by upstream traffic to the server it selected; the next reload waits
# until that server has answered a load query.
QFILE=$TEST_TMP/queries.txt
for i in $(seq 1 1000); do echo "load$i.zone.example A"; done >"$QFILE"
DPERF_OUT=$TEST_TMP/dnsperf.out
show_on_fail "$DPERF_OUT"
# 100 misses a second: the scripted servers are single Python processes on a shared machine, and
# what is measured here is the reloads, not their speed (timeout_ms 5000 for the same reason).
dnsperf -s 127.0.0.1 -p "$PORT" -d "$QFILE" -n 1 -l 30 -Q 100 -q 500 -c 4 -t 12 >"$DPERF_OUT" 2>&1 &
DPERF_PID=$!
E2E_PIDS+=("$DPERF_PID")
# (grep, not a Python process per poll: the load loop polls often)
answered_by() { grep -o '"answered": [0-9]*' "$TEST_TMP/dot-$1.json" | grep -o '[0-9]*$' || echo 0; }
answered_more() { (($(answered_by "$1") > $2)); }
for n in $(seq 7 16); do
	if ((n % 2)); then server=$A port=$APORT; else server=$B port=$BPORT; fi
	TIMEOUT_MS=5000 write_reload_ini "$server" "$PORT"
	before=$(answered_by "$port")
	hup "$n"
	[[ $(reload_field result) == ok ]] || fail "reload $n under load: $(reload_field result)"
	wait_for answered_more "$port" "$before" || {
		grep -v '^\[dnsproxy\] [ut]' "$LOGF" | grep -v reconfigured | tail -n 20
		fail "after reload $n the selected server (port $port) got no load query"
	}
done
kill -0 "$DPERF_PID" 2>/dev/null || fail "dnsperf ended before the ten reloads did (not under load)"
pass "ten reloads under load applied, each followed by misses answered by the server it selected"
wait "$DPERF_PID" || fail "dnsperf failed: $(cat "$DPERF_OUT")"
sent=$(awk '/Queries sent:/ { print $3 }' "$DPERF_OUT")
lost=$(awk '/Queries lost:/ { print $3 }' "$DPERF_OUT")
completed=$(awk '/Queries completed:/ { print $3 }' "$DPERF_OUT")
assert_ge 200 "$sent" "dnsperf sent $sent queries across the reloads"
assert_eq 0 "$lost" "no query lost across ten reloads ($completed completed)"
assert_contains "$(grep 'Response codes' "$DPERF_OUT")" "NOERROR $completed" "every answer under load was NOERROR"

kill -0 "$HOLD_PID" 2>/dev/null && kill "$HOLD_PID" 2>/dev/null
stop_pid "$DNSPROXY_PID" dnsproxy
