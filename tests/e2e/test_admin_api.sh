#!/usr/bin/env bash
# tests/e2e/test_admin_api.sh - the admin REST API (SPEC section 6) with curl against the real
# dnsproxy and a real unbound DoT upstream: /stats counts a known mix of queries per transport
# and rcode; /metrics parses as Prometheus text and agrees with /stats; /cache shows, flushes
# by name and flushes all; /pins needs the token (401/403); 404/405/413/400; 200 concurrent
# admin requests while DNS load runs; /health turns 503 when the upstream is gone.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control kdig curl openssl ss
require_binary
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	skip "python3-prometheus-client is not installed (scripts/test installs it)"

TOKEN=secret
start_test_unbound
APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
DB=$TEST_TMP/admin.sqlite
PROXY_ARGS=(-D "admin.listen=127.0.0.1:$APORT" -D "admin.token=$TOKEN" -D "server.allow=127.0.0.1/32"
	-D "upstream.timeout_ms=500" -D "storage.path=$DB")
start_proxy "$UPSTREAM" "${PROXY_ARGS[@]}"
P=$PROXY_PORT
assert_contains "$(cat "$PROXY_LOG")" "admin API on http://127.0.0.1:$APORT/" "admin listener is logged"

# --- helpers -----------------------------------------------------------------------------

# http METHOD PATH [curl args...]: prints "STATUS BODY" (body on the following lines).
http()
{
	local method=$1 path=$2
	shift 2
	curl -s -m 10 -X "$method" -o "$TEST_TMP/body" -w '%{http_code}' "$@" "$ADMIN$path" || echo 000
	echo
	cat "$TEST_TMP/body" 2>/dev/null
}
status_of() { head -n1 <<<"$1"; }
body_of() { tail -n +2 <<<"$1"; }

# jget EXPR: evaluates a Python expression over the JSON document j = GET /stats.
jget()
{
	curl -s -m 10 "$ADMIN/stats" | "$PY" -c 'import json,sys; j=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# json_field JSON EXPR: a Python expression over the given JSON text (as j).
json_field()
{
	"$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

stat_is() { test "$(jget "$1")" "$2" "$3"; }
health_is() { test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$ADMIN/health")" = "$1"; }

# --- 1. a known mix of queries -> /stats counts per transport and rcode --------------------

for i in 1 2 3 4 5; do
	assert_eq 192.0.2.1 "$(kdig_short "$P" "mix-udp$i.zone.example" A)" "UDP query $i answered"
done
for i in 1 2 3; do
	assert_eq 192.0.2.1 "$(kdig_short "$P" +tcp "mix-tcp$i.zone.example" A)" "TCP query $i answered"
done
assert_eq NXDOMAIN "$(kdig_rcode "$P" a.nx.zone.example A)" "UDP NXDOMAIN"
assert_eq NXDOMAIN "$(kdig_rcode "$P" +tcp b.nx.zone.example A)" "TCP NXDOMAIN"
# From 127.0.0.2, outside server.allow: REFUSED (counted as a UDP query and a REFUSED answer).
assert_eq REFUSED "$(kdig_rcode "$P" -b 127.0.0.2 refused.zone.example A)" "query from outside allow is REFUSED"
# Repeats of one name: cache hits when the cache is on, upstream queries otherwise.
assert_eq 192.0.2.1 "$(kdig_short "$P" mix-udp1.zone.example A)" "repeat 1 answered"
assert_eq 192.0.2.1 "$(kdig_short "$P" +tcp mix-udp1.zone.example A)" "repeat 2 answered"

stats=$(curl -s -m 10 "$ADMIN/stats")
assert_eq 8 "$(json_field "$stats" 'j["queries"]["udp"]')" "/stats queries.udp counts the UDP queries"
assert_eq 5 "$(json_field "$stats" 'j["queries"]["tcp"]')" "/stats queries.tcp counts the TCP queries"
assert_eq 13 "$(json_field "$stats" 'j["queries"]["total"]')" "/stats queries.total"
assert_eq 10 "$(json_field "$stats" 'j["answers"]["NOERROR"]')" "/stats answers.NOERROR"
assert_eq 2 "$(json_field "$stats" 'j["answers"]["NXDOMAIN"]')" "/stats answers.NXDOMAIN"
assert_eq 1 "$(json_field "$stats" 'j["answers"]["REFUSED"]')" "/stats answers.REFUSED"
assert_eq 0 "$(json_field "$stats" 'j["answers"]["SERVFAIL"]')" "/stats answers.SERVFAIL before the upstream fails"
assert_eq 1 "$(json_field "$stats" 'j["clients"]["refused"]')" "/stats clients.refused counts the ACL refusal"
assert_eq True "$(json_field "$stats" 'j["cache"]["enabled"]')" "/stats cache.enabled"
assert_eq 2 "$(json_field "$stats" 'j["cache"]["hits"]')" "/stats cache.hits counts the repeats"
assert_eq 10 "$(json_field "$stats" 'j["cache"]["misses"]')" "/stats cache.misses counts the first queries (NOERROR and NXDOMAIN)"
upstream_expected=10    # 12 answered queries, 2 of them repeats answered from the cache
assert_eq "127.0.0.1:$UPORT" "$(json_field "$stats" 'j["upstreams"][0]["address"]')" "upstream address"
assert_eq "$NAME" "$(json_field "$stats" 'j["upstreams"][0]["name"]')" "upstream auth-name"
assert_eq up "$(json_field "$stats" 'j["upstreams"][0]["state"]')" "upstream state"
assert_eq "$upstream_expected" "$(json_field "$stats" 'j["upstreams"][0]["queries"]')" "upstream queries = forwarded queries"
assert_eq "$upstream_expected" "$(unbound_queries)" "unbound saw exactly the forwarded queries"
assert_ge 1 "$(json_field "$stats" 'j["upstreams"][0]["connections_opened"]')" "upstream connections_opened >= 1"
assert_eq True "$(json_field "$stats" '0 <= j["upstreams"][0]["tls_resumptions"] <= j["upstreams"][0]["connections_opened"]')" \
	"upstream tls_resumptions is present and <= connections_opened"
assert_eq True "$(json_field "$stats" '0 < j["upstreams"][0]["latency_ms"]["p50"] <= j["upstreams"][0]["latency_ms"]["p95"] <= j["upstreams"][0]["latency_ms"]["p99"] < 1000')" \
	"latency percentiles are positive, ordered and below 1 s"
assert_eq "$upstream_expected" "$(json_field "$stats" 'j["upstreams"][0]["latency_ms"]["count"]')" "latency count = answered upstream queries"

# --- 2. /metrics parses as Prometheus text and agrees with /stats --------------------------

curl -s -m 10 -D "$TEST_TMP/metrics.hdr" "$ADMIN/metrics" >"$TEST_TMP/metrics.txt"
assert_contains "$(tr -d '\r' <"$TEST_TMP/metrics.hdr")" "Content-Type: text/plain; version=0.0.4" "/metrics content type"
curl -s -m 10 "$ADMIN/stats" >"$TEST_TMP/stats.json"
out=$("$PY" - "$TEST_TMP/metrics.txt" "$TEST_TMP/stats.json" <<'PYEOF' 2>&1
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
stats = json.load(open(sys.argv[2]))
samples = {}
families = {}
for fam in text_string_to_metric_families(text):
    families[fam.name] = fam.type
    for s in fam.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
def get(_metric, **labels):
    return samples[(_metric, tuple(sorted(labels.items())))]
errors = []
def same(what, metric, expected):
    if metric != expected:
        errors.append("%s: metrics %r != stats %r" % (what, metric, expected))
assert all(n.startswith("dnsproxy_") for n in families), "unprefixed family"
for t in ("udp", "tcp"):
    same("queries " + t, get("dnsproxy_queries_total", transport=t), stats["queries"][t])
for rcode, n in stats["answers"].items():
    same("answers " + rcode, get("dnsproxy_answers_total", rcode=rcode), n)
c = stats["cache"]
same("cache entries", get("dnsproxy_cache_entries"), c["entries"])
same("cache hits", get("dnsproxy_cache_hits_total"), c["hits"])
same("cache misses", get("dnsproxy_cache_misses_total"), c["misses"])
same("refused", get("dnsproxy_client_refused_total"), stats["clients"]["refused"])
for u in stats["upstreams"]:
    l = dict(upstream=u["address"], name=u["name"])
    same("upstream queries", get("dnsproxy_upstream_queries_total", **l), u["queries"])
    same("upstream connections", get("dnsproxy_upstream_connections_opened_total", **l), u["connections_opened"])
    same("upstream resumptions", get("dnsproxy_upstream_tls_resumptions_total", **l), u["tls_resumptions"])
    same("upstream up", get("dnsproxy_upstream_up", **l), 1 if u["state"] == "up" else 0)
    same("latency count", get("dnsproxy_upstream_latency_seconds_count", **l), u["latency_ms"]["count"])
    same("latency +Inf bucket", get("dnsproxy_upstream_latency_seconds_bucket", le="+Inf", **l), u["latency_ms"]["count"])
    buckets = sorted((float(lbl["le"]), v) for (n, lbls), v in samples.items()
                     for lbl in [dict(lbls)] if n == "dnsproxy_upstream_latency_seconds_bucket"
                     and lbl.get("upstream") == u["address"])
    if any(b[1] > a[1] for a, b in zip(buckets[1:], buckets)):
        errors.append("histogram buckets are not cumulative: %r" % buckets)
if families.get("dnsproxy_upstream_latency_seconds") != "histogram":
    errors.append("latency is not a histogram: %r" % families.get("dnsproxy_upstream_latency_seconds"))
if families.get("dnsproxy_queries") != "counter":
    errors.append("dnsproxy_queries_total is not a counter")
print("\n".join(errors) if errors else "agree %d families" % len(families))
PYEOF
) || true
assert_contains "$out" "agree" "/metrics parses with prometheus_client and agrees with /stats"

# --- 3. /cache: remaining TTL, flush by name (next query goes upstream), flush all ---------

r=$(http GET "/cache?name=mix-udp2.zone.example&type=A")
assert_eq 200 "$(status_of "$r")" "GET /cache?name=...&type=A"
b=$(body_of "$r")
assert_eq 1 "$(json_field "$b" 'len(j["entries"])')" "/cache shows the cached entry"
assert_eq True "$(json_field "$b" '0 < j["entries"][0]["ttl_remaining"] <= 300')" "entry has a remaining TTL in (0, 300]"
assert_eq A "$(json_field "$b" 'j["entries"][0]["type"]')" "entry type as mnemonic"
before=$(unbound_queries)
assert_eq 192.0.2.1 "$(kdig_short "$P" mix-udp2.zone.example A)" "cached name answered"
assert_eq "$before" "$(unbound_queries)" "cached answer did not go upstream"
r=$(http DELETE "/cache?name=mix-udp2.zone.example" -H "Authorization: Bearer $TOKEN")
assert_eq 200 "$(status_of "$r")" "DELETE /cache?name=..."
assert_ge 1 "$(json_field "$(body_of "$r")" 'j["entries"]')" "DELETE /cache?name= reports the erased entries"
assert_eq 0 "$(json_field "$(body_of "$(http GET "/cache?name=mix-udp2.zone.example")")" 'len(j["entries"])')" \
	"entry gone from /cache"
assert_eq 192.0.2.1 "$(kdig_short "$P" mix-udp2.zone.example A)" "flushed name answered again"
assert_eq $((before + 1)) "$(unbound_queries)" "after DELETE by name the next query went upstream"
assert_ge 1 "$(jget 'j["cache"]["entries"]')" "cache holds entries before the full flush"
r=$(http DELETE /cache -H "Authorization: Bearer $TOKEN")
assert_eq 200 "$(status_of "$r")" "DELETE /cache"
assert_eq 0 "$(jget 'j["cache"]["entries"]')" "DELETE /cache empties the cache"
before=$(unbound_queries)
assert_eq 192.0.2.1 "$(kdig_short "$P" mix-udp3.zone.example A)" "name answered after the full flush"
assert_eq $((before + 1)) "$(unbound_queries)" "after DELETE /cache the next query went upstream"

# "Also on disk": entries survive a restart; after DELETE /cache and a kill -9 (no shutdown
# flush) nothing comes back, so the flush reached SQLite at once.
stop_pid "$DNSPROXY_PID" dnsproxy
start_proxy "$UPSTREAM" "${PROXY_ARGS[@]}"
P=$PROXY_PORT
assert_ge 1 "$(jget 'j["cache"]["loaded"]')" "cache entries were persisted and loaded after a restart"
assert_eq 200 "$(status_of "$(http DELETE /cache -H "Authorization: Bearer $TOKEN")")" "DELETE /cache after restart"
kill -KILL "$DNSPROXY_PID"
wait "$DNSPROXY_PID" 2>/dev/null || true
start_proxy "$UPSTREAM" "${PROXY_ARGS[@]}"
P=$PROXY_PORT
assert_eq 0 "$(jget 'j["cache"]["loaded"]')" "after DELETE /cache and kill -9 the restart loads nothing"
assert_eq 0 "$(jget 'j["cache"]["entries"]')" "cache is empty after that restart"

# --- 4. pins: token checks (401 without or wrong token; 403 without configured token) ------

PIN=$(openssl x509 -in "$TEST_TMP/pki/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
assert_eq 401 "$(status_of "$(http POST /pins -d "{\"name\":\"$NAME\",\"sha256\":\"$PIN\"}")")" "POST /pins without token: 401"
assert_eq 401 "$(status_of "$(http POST /pins -H 'Authorization: Bearer wrong' -d "{\"name\":\"$NAME\",\"sha256\":\"$PIN\"}")")" \
	"POST /pins with a wrong token: 401"
assert_eq 401 "$(status_of "$(http DELETE "/pins/$NAME")")" "DELETE /pins/{name} without token: 401"
assert_eq 401 "$(status_of "$(http DELETE "/pins/$NAME" -H 'Authorization: Bearer wrong')")" "DELETE /pins/{name} wrong token: 401"
assert_eq 401 "$(status_of "$(http DELETE /cache)")" "DELETE /cache without token: 401"
r=$(http GET /pins)
assert_eq 200 "$(status_of "$r")" "GET /pins"
assert_contains "$(body_of "$r")" "$PIN" "GET /pins lists the learned digest of the upstream"
r=$(http POST /pins -H "Authorization: Bearer $TOKEN" -d "{\"name\":\"$NAME\",\"sha256\":\"$PIN\"}")
assert_eq 200 "$(status_of "$r")" "POST /pins with the token approves"
assert_contains "$(body_of "$(http GET "/pins/$NAME")")" '"approved"' "approved digest listed as approved"
r=$(http DELETE "/pins/$NAME" -H "Authorization: Bearer $TOKEN")
assert_eq 200 "$(status_of "$r")" "DELETE /pins/{name} with the token"
assert_ge 1 "$(json_field "$(body_of "$r")" 'j["forgotten"]')" "DELETE /pins/{name} forgot the digests"

# --- 5. error statuses ----------------------------------------------------------------------

r=$(http GET /no-such-thing)
assert_eq 404 "$(status_of "$r")" "unknown path: 404"
assert_contains "$(body_of "$r")" '"error"' "404 body is a JSON error"
curl -s -m 10 -o /dev/null -D "$TEST_TMP/405.hdr" -X POST "$ADMIN/stats"
assert_contains "$(tr -d '\r' <"$TEST_TMP/405.hdr")" "HTTP/1.1 405" "POST /stats: 405"
assert_contains "$(tr -d '\r' <"$TEST_TMP/405.hdr")" "Allow: GET" "405 carries Allow"
head -c 70000 /dev/zero | tr '\0' 'x' >"$TEST_TMP/big.json"
assert_eq 413 "$(status_of "$(http POST /pins -H "Authorization: Bearer $TOKEN" --data-binary @"$TEST_TMP/big.json")")" \
	"body over 64 KiB: 413"
assert_eq 400 "$(status_of "$(http POST /pins -H "Authorization: Bearer $TOKEN" -d '{"name": ')")" "malformed JSON: 400"
r=$(http POST /pins -H "Authorization: Bearer $TOKEN" -d "{\"name\":\"$NAME\",\"sha256\":\"AAAA\"}")
assert_eq 400 "$(status_of "$r")" "sha256 that is not 32 bytes of base64: 400"
assert_contains "$(body_of "$r")" "32-byte" "400 body names the problem"
assert_eq 400 "$(status_of "$(http GET "/cache?name=a.zone.example&type=NOPE")")" "unknown type: 400"

# --- 6. 200 concurrent admin requests while DNS load runs -----------------------------------

"$PY" "$SUPPORT_DIR/dns_client.py" load --port "$P" --clients 8 --queries 4000 --unique >"$TEST_TMP/load.json" &
LOAD_PID=$!
E2E_PIDS+=("$LOAD_PID")
wait_for -t 10 stat_is 'j["queries"]["total"]' -ge 200 || fail "DNS load did not start"
codes=$(for i in $(seq 1 200); do
	case $((i % 4)) in
	0) path=/stats ;; 1) path=/metrics ;; 2) path=/health ;; 3) path=/ ;;
	esac
	curl -s -m 20 -o /dev/null -w '%{http_code}\n' "$ADMIN$path" &
done
wait_admin=$(jobs -p | grep -v "^$LOAD_PID\$" || true)
[[ -n $wait_admin ]] && wait $wait_admin)
assert_eq 200 "$(grep -c '^200$' <<<"$codes")" "200 concurrent admin requests all answered 200"
wait "$LOAD_PID" || fail "DNS load client failed"
load=$(cat "$TEST_TMP/load.json")
assert_eq 4000 "$(json_field "$load" 'j["answered"]')" "every DNS query answered during the admin burst ($load)"

# --- 7. /health: 200 while the upstream is usable, 503 when it is gone ----------------------

assert_eq 200 "$(status_of "$(http GET /health)")" "/health 200 with a usable upstream"
assert_eq ok "$(json_field "$(body_of "$(http GET /health)")" 'j["status"]')" '/health says {"status":"ok"}'
servfail_before=$(jget 'j["answers"]["SERVFAIL"]')
stop_pid "$UNBOUND_PID" unbound
assert_eq SERVFAIL "$(kdig_rcode "$P" after-stop.zone.example A)" "query fails with SERVFAIL once the upstream is gone"
wait_for -t 10 health_is 503 || fail "/health did not turn 503 after the upstream stopped"
pass "/health 503 when no upstream is usable"
assert_eq unavailable "$(json_field "$(body_of "$(http GET /health)")" 'j["status"]')" "/health body says unavailable"
assert_eq $((servfail_before + 1)) "$(jget 'j["answers"]["SERVFAIL"]')" "/stats answers.SERVFAIL counts the failure"
assert_eq down "$(jget 'j["upstreams"][0]["state"]')" "/stats shows the upstream down"

stop_pid "$DNSPROXY_PID" dnsproxy

# --- 8. without [admin] token every mutating request is forbidden (403), even with a token --

APORT=$(pick_port)
ADMIN=http://127.0.0.1:$APORT
start_proxy "127.0.0.1:$UPORT#$NAME" -D "admin.listen=127.0.0.1:$APORT"
assert_eq 403 "$(status_of "$(http POST /pins -H "Authorization: Bearer $TOKEN" -d "{\"name\":\"$NAME\",\"sha256\":\"$PIN\"}")")" \
	"POST /pins without a configured token: 403"
assert_eq 403 "$(status_of "$(http DELETE "/pins/$NAME")")" "DELETE /pins/{name} without a configured token: 403"
assert_eq 403 "$(status_of "$(http DELETE /cache -H "Authorization: Bearer $TOKEN")")" "DELETE /cache without a configured token: 403"
assert_eq 200 "$(status_of "$(http GET /stats)")" "reads still work without a token"

# An admin port already in use is a start-up error: exit 2 with one line naming admin.listen.
rc=0
out=$(timeout 10 "$DNSPROXY_BIN" -c "$TEST_TMP/dnsproxy.ini" -D "server.listen=127.0.0.1:$(pick_port)" \
	-D "upstream.servers=127.0.0.1:$UPORT#$NAME" -D "tls.ca_file=$CA_FILE" -D "admin.listen=127.0.0.1:$APORT" \
	-D "storage.path=$TEST_TMP/db-busy.sqlite" 2>&1) || rc=$?
assert_eq 2 "$rc" "admin.listen on a port in use exits 2"
assert_contains "$out" "admin.listen: cannot listen on 127.0.0.1:$APORT" "the error names admin.listen and the address"
stop_pid "$DNSPROXY_PID" dnsproxy
