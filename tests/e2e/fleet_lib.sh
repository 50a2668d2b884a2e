# tests/e2e/fleet_lib.sh - helpers shared by the test_fleet_*.sh scripts (SPEC 4b): a real
# redis-server on a loopback port, a silent fake Redis, dnsproxy processes joined to a fleet,
# /stats fields, answer TTLs and per-query timings. Sourced after lib.sh.

# redis-cli options that reach the Redis started next (TLS, password), e.g.
# REDIS_CLI_ARGS=(--tls --cacert "$CA_FILE" --no-auth-warning -a "$PASSWORD").
REDIS_CLI_ARGS=()

# start_redis PORT [REDIS-SERVER ARGS...]: redis-server in the foreground on 127.0.0.1:PORT, no
# persistence, ARGS after the defaults (later ones win: "--port 0 --tls-port PORT" for TLS
# only). Sets REDIS_PID; waits until it answers PING through redis-cli "${REDIS_CLI_ARGS[@]}".
start_redis()
{
	local port=$1
	shift
	local out=$TEST_TMP/redis-$port.log
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no "$@" >>"$out" 2>&1 &
	REDIS_PID=$!
	E2E_PIDS+=("$REDIS_PID")
	show_on_fail "$out"
	wait_for -t 10 redis_ping "$port" || fail "redis-server did not answer PING on port $port"
}

redis_ping() { [[ $(redis-cli -p "$1" "${REDIS_CLI_ARGS[@]}" ping 2>/dev/null) == PONG ]]; }

# rcli PORT ARGS...: redis-cli with "${REDIS_CLI_ARGS[@]}" against 127.0.0.1:PORT.
rcli()
{
	local port=$1
	shift
	redis-cli -p "$port" "${REDIS_CLI_ARGS[@]}" "$@"
}

# stop_redis: SIGTERM the redis-server started last, wait for it.
stop_redis()
{
	kill -TERM "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null || true
}

# start_silent_redis PORT: accepts connections and reads them, never answers. Sets SILENT_PID.
start_silent_redis()
{
	local port=$1
	local out=$TEST_TMP/silent-$port.log
	"$PY" - "$port" >"$out" 2>&1 <<'PYEOF' &
import socket, sys, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(64)
print("listening", flush=True)
def drain(conn):
    while conn.recv(4096):
        pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
PYEOF
	SILENT_PID=$!
	E2E_PIDS+=("$SILENT_PID")
	wait_for -t 10 grep -q listening "$out" || fail "silent redis did not start"
}

# start_fleet_proxy LABEL DB REDIS_URL [ARGS...]: dnsproxy on a fresh port with an admin port,
# joined to the fleet at REDIS_URL, forwarding to $UPSTREAM with $CA_FILE, signing with
# $FLEET_SECRET (a test secret by default; set it empty for an unsigned fleet, then pins are not
# shared). DB is the SQLite path (reuse it to restart "the same" proxy). Sets <LABEL>_PORT,
# <LABEL>_ADMIN, <LABEL>_PID, <LABEL>_LOG.
start_fleet_proxy()
{
	local label=$1 db=$2 redis=$3
	shift 3
	local port admin secret=()
	[[ -z ${FLEET_SECRET-x} ]] || secret=(-D "fleet.secret=${FLEET_SECRET-fleet-test-secret}")
	port=$(pick_port)
	admin=$(pick_port)
	local logf=$TEST_TMP/dnsproxy-$label-$port.log
	[[ -f $TEST_TMP/dnsproxy.ini ]] || write_ini "$TEST_TMP/dnsproxy.ini"
	start_dnsproxy "$logf" -c "$TEST_TMP/dnsproxy.ini" \
		-D "server.listen=127.0.0.1:$port" \
		-D "upstream.servers=$UPSTREAM" \
		-D "tls.ca_file=$CA_FILE" \
		-D "admin.listen=127.0.0.1:$admin" \
		-D "admin.token=${TOKEN:-secret}" \
		-D "storage.path=$db" \
		-D "fleet.redis=$redis" \
		"${secret[@]}" "$@"
	printf -v "${label}_PORT" '%s' "$port"
	printf -v "${label}_ADMIN" '%s' "http://127.0.0.1:$admin"
	printf -v "${label}_PID" '%s' "$DNSPROXY_PID"
	printf -v "${label}_LOG" '%s' "$logf"
}

# fleet_stat ADMIN_URL FIELD: one field of /stats "fleet" (e.g. hits, breaker, subscribed).
fleet_stat()
{
	curl -s -m 5 "$1/stats" | "$PY" -c 'import json,sys
v = json.load(sys.stdin)["fleet"][sys.argv[1]]
print(str(v).lower() if isinstance(v, bool) else v)' "$2"
}

# fleet_stat_ge ADMIN_URL FIELD N: the counter FIELD is at least N (for wait_for).
fleet_stat_ge() { (($(fleet_stat "$1" "$2") >= $3)); }

# fleet_stat_is ADMIN_URL FIELD VALUE: for wait_for.
fleet_stat_is() { [[ $(fleet_stat "$1" "$2") == "$3" ]]; }

# fleet_ready ADMIN_URL: Redis in use (breaker closed) and, when pins are shared (a secret is
# set), subscribed to the pin channel.
fleet_ready()
{
	fleet_stat_is "$1" breaker closed && { [[ -z ${FLEET_SECRET-x} ]] || fleet_stat_is "$1" subscribed true; }
}

# check_fleet_refused LABEL PATTERN: proxy LABEL gave up on Redis with exactly one log line matching
# PATTERN after several failed probes, and still answers from the upstream with /health ok.
check_fleet_refused()
{
	local label=$1 pattern=$2 port admin logf
	port=${label}_PORT admin=${label}_ADMIN logf=${label}_LOG
	wait_for -t 10 fleet_stat_ge "${!admin}" errors 3 || fail "$label: Redis was not probed again"
	assert_eq 1 "$(grep -c -E "$pattern" "${!logf}")" "$label: one log line says why ($pattern)"
	log "$(grep -E "$pattern" "${!logf}")"
	assert_eq 192.0.2.1 "$(kdig_short "${!port}" "$label.zone.example" A)" "$label: DNS unaffected"
	assert_eq '{"status":"ok"}' "$(curl -s -m 5 "${!admin}/health" | tr -d ' \n')" "$label: /health ok"
	assert_eq open "$(fleet_stat "${!admin}" breaker)" "$label: Redis skipped"
}

# wait_both_ready SECONDS WHAT: proxies A and B (start_fleet_proxy) are fleet_ready within SECONDS,
# else fail "proxy A did not WHAT using Redis", e.g. wait_both_ready 15 resume.
wait_both_ready()
{
	local p admin
	for p in A B; do
		admin=${p}_ADMIN
		wait_for -t "$1" fleet_ready "${!admin}" || fail "proxy $p did not $2 using Redis"
	done
}

# redis_cache_keys: the dnsproxy:cache: keys in the Redis on $REDIS_PORT, one a line.
redis_cache_keys() { redis-cli -p "$REDIS_PORT" --scan --pattern 'dnsproxy:cache:*'; }

# redis_has_cache_key: for wait_for, true once that Redis holds a cache key.
redis_has_cache_key() { [[ $(redis_cache_keys | wc -l) -ge 1 ]]; }

# answer_ttl PORT NAME: TTL of the first answer record (A), or "none".
answer_ttl()
{
	local out
	out=$(kdig @127.0.0.1 -p "$1" +retry=0 +timeout=6 +noall +answer "$2" A 2>/dev/null) || true
	awk 'NF >= 5 && $1 !~ /^;/ { print $2; found = 1; exit } END { if (!found) print "none" }' <<<"$out"
}

# timed_queries PORT NAME...: one UDP query per name, in order; prints JSON
# {"answered": n, "failed": n, "max_ms": m, "first_ms": f, "rest_max_ms": r}.
timed_queries()
{
	local port=$1
	shift
	"$PY" - "$port" "$@" <<'PYEOF'
import json, sys, time
import dns.message, dns.query, dns.rcode
port, names = int(sys.argv[1]), sys.argv[2:]
times, failed = [], 0
for name in names:
    q = dns.message.make_query(name, "A")
    t0 = time.monotonic()
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=5)
        ok = r.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) and r.id == q.id
    except Exception:
        ok = False
    times.append((time.monotonic() - t0) * 1000)
    failed += 0 if ok else 1
print(json.dumps({"answered": len(names) - failed, "failed": failed, "max_ms": round(max(times), 1),
                  "first_ms": round(times[0], 1), "rest_max_ms": round(max(times[1:] or [0]), 1)}))
PYEOF
}

# fleet_setup: PKI, one unbound DoT upstream (UPSTREAM, UPORT) and a Redis (REDIS_PORT, REDIS_URL).
fleet_setup()
{
	require_tool unbound unbound-control kdig curl openssl ss redis-server redis-cli
	require_binary
	use_test_pki dot.example
	UPORT=$(pick_port)
	start_unbound_dot "$TEST_TMP/pki" "$UPORT"
	UPSTREAM="127.0.0.1:$UPORT#$NAME"
	REDIS_PORT=$(pick_port)
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
	start_redis "$REDIS_PORT"
}
