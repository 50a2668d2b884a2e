# tests/e2e/lib.sh - shared helpers for the end-to-end scripts: what every script needs
# (temp dir, ports, test CA, unbound, dnsproxy, waiting, skipping) comes from
# scripts/lib/harness.sh, which scripts/bench and scripts/soak use too; this file adds the
# assertions, the scripted test servers of tests/support/ and the TLS security helpers.
#
# Every tests/e2e/test_*.sh sources this file first. It runs the real build/dnsproxy
# ($DNSPROXY_BIN) against real servers on 127.0.0.0/8 only. Nothing here sleeps to
# synchronise: every wait polls an observable condition until a deadline (STYLE §4).

# shellcheck source=../../scripts/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/harness.sh"

# --- assertions ------------------------------------------------------------------------

assert_eq()
{
	# assert_eq EXPECTED ACTUAL MESSAGE
	[[ $1 == "$2" ]] || fail "$3: expected '$1', got '$2'"
	pass "$3"
}

assert_contains()
{
	# assert_contains HAYSTACK NEEDLE MESSAGE
	# grep -F, not [[ == *"$2"* ]]: bash's glob matcher took a minute on some long log lines.
	grep -qF -- "$2" <<<"$1" || fail "$3: '$2' not found in: $1"
	pass "$3"
}

assert_not_contains()
{
	! grep -qF -- "$2" <<<"$1" || fail "$3: '$2' unexpectedly found in: $1"
	pass "$3"
}

assert_ge()
{
	# assert_ge MIN ACTUAL MESSAGE (integers; an empty or non-numeric ACTUAL fails, never counts as 0)
	[[ $2 =~ ^-?[0-9]+$ ]] || fail "$3: expected a number >= $1, got '$2'"
	(($2 >= $1)) || fail "$3: expected >= $1, got '$2'"
	pass "$3"
}

# --- the scripted DoT server -----------------------------------------------------------

# start_support_script OUT READY SCRIPT ARGS...: runs tests/support/SCRIPT ARGS... with $PY in the
# background, stdout and stderr in OUT, and waits up to 10 s for the text READY in OUT (the
# script's "ready" line). Sets SUPPORT_PID; the EXIT trap stops it.
start_support_script()
{
	local out=$1 ready=$2 script=$3
	shift 3
	"$PY" "$SUPPORT_DIR/$script" "$@" >"$out" 2>&1 &
	SUPPORT_PID=$!
	E2E_PIDS+=("$SUPPORT_PID")
	local deadline=$((SECONDS + 10))
	until grep -q "$ready" "$out" 2>/dev/null; do
		kill -0 "$SUPPORT_PID" 2>/dev/null || fail "$script exited during startup: $(cat "$out")"
		((SECONDS < deadline)) || fail "$script did not start"
		sleep 0.05
	done
}

# start_dot_server PORT CERT KEY [dot_server.py options...]: starts tests/support/dot_server.py,
# sets DOT_PID and DOT_STATS (JSON file), waits for its "listening on" line.
start_dot_server()
{
	local port=$1 cert=$2 key=$3
	shift 3
	DOT_STATS=$TEST_TMP/dot-$port.json
	local out=$TEST_TMP/dot-$port.log
	show_on_fail "$out" "$DOT_STATS"
	start_support_script "$out" "listening on" dot_server.py --port "$port" --cert "$cert" --key "$key" \
		--stats "$DOT_STATS" "$@"
	DOT_PID=$SUPPORT_PID
}

# start_test_dot_server [dot_server.py options...]: start_dot_server on a new port with the test
# PKI's certificate (use_test_pki). Sets DPORT and UPSTREAM (127.0.0.1:DPORT#NAME) besides DOT_PID
# and DOT_STATS.
start_test_dot_server()
{
	DPORT=$(pick_port)
	start_dot_server "$DPORT" "$CERT" "$KEY" "$@"
	UPSTREAM=127.0.0.1:$DPORT#$NAME
}

# stop_proxy_and_dot_server: stop_pid dnsproxy, then dot_server.py; each must exit 0.
stop_proxy_and_dot_server()
{
	stop_pid "$DNSPROXY_PID" dnsproxy
	stop_pid "$DOT_PID" dot_server.py
}

# dot_stat KEY [FILE]: one value from the dot_server.py stats file (json_stat: an unreadable
# file or a missing key prints a non-number, so no comparison passes on it).
dot_stat() { json_stat "${2:-$DOT_STATS}" "$1"; }

# dot_stat_is KEY OP N: compare a stats value, e.g. wait_for dot_stat_is connections -eq 0
dot_stat_is()
{
	test "$(dot_stat "$1")" "$2" "$3"
}

# --- unbound as the upstream ------------------------------------------------------------

# start_test_unbound: the test PKI (use_test_pki) and unbound serving DoT with its certificate on
# 127.0.0.1:UPORT (start_unbound_dot; UNBOUND_EXTRA_CONF applies). Sets UPORT and UPSTREAM
# (127.0.0.1:UPORT#NAME, for start_proxy and upstream.servers) besides what those two set.
start_test_unbound()
{
	use_test_pki
	UPORT=$(pick_port)
	start_unbound_dot "$TEST_TMP/pki" "$UPORT"
	UPSTREAM=127.0.0.1:$UPORT#$NAME
}

# start_cache_test_unbound RECORD...: start_test_unbound with the zone cache.test. and RECORDs as
# its local data, e.g. start_cache_test_unbound "a.cache.test. 300 IN A 192.0.2.10". The zone's
# SOA has TTL 3600 and MINIMUM 60, so negative answers live 60 s (RFC 2308 5).
start_cache_test_unbound()
{
	UNBOUND_EXTRA_CONF='	local-zone: "cache.test." static
	local-data: "cache.test. 3600 IN SOA ns.cache.test. hostmaster.cache.test. 1 3600 1200 604800 60"'
	local record
	for record in "$@"; do
		UNBOUND_EXTRA_CONF+=$'\n\tlocal-data: "'"$record"'"'
	done
	start_test_unbound
}

# stored_cache_proxy_args [ARGS...]: for the persistence tests, which start, kill and restart the
# proxy themselves. Writes the ini and sets DB (the SQLite file, in $TEST_TMP/state), P (a free
# port) and PROXY_ARGS: a proxy on 127.0.0.1:P forwarding to $UPSTREAM with its cache stored in DB,
# then ARGS (e.g. -D storage.flush_interval_ms=1000; a later -D overrides an earlier one).
stored_cache_proxy_args()
{
	DB=$TEST_TMP/state/dnsproxy.db
	P=$(pick_port)
	write_ini "$TEST_TMP/dnsproxy.ini"
	PROXY_ARGS=(-c "$TEST_TMP/dnsproxy.ini" -D "server.listen=127.0.0.1:$P" -D "upstream.servers=$UPSTREAM"
		-D "tls.ca_file=$CA_FILE" -D "admin.listen=" -D "storage.path=$DB" "$@")
}

# --- the proxy's own figures -------------------------------------------------------------

# client_stat KEY: one counter of the "clients" object of /stats (pending, over_limit, refused,
# tcp_connections...) from the admin API on 127.0.0.1:$APORT.
client_stat()
{
	curl -s -m 5 "http://127.0.0.1:$APORT/stats" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["clients"][sys.argv[1]])' "$1"
}

# client_stat_is KEY OP N: for wait_for, which must re-read the value on every try
# (wait_for test "$(client_stat KEY)" ... would read it once).
client_stat_is() { test "$(client_stat "$1")" "$2" "$3"; }

# start_proxy_with_admin UPSTREAM [ARGS...]: start_proxy with the admin API on a new port. Sets
# APORT and ADMIN (its base URL) for client_stat, stat_pins and curl.
start_proxy_with_admin()
{
	local upstream=$1
	shift
	APORT=$(pick_port)
	ADMIN=http://127.0.0.1:$APORT
	start_proxy "$upstream" -D "admin.listen=127.0.0.1:$APORT" "$@"
}

# num_is A OP B: compares two numbers that may have fractions (bash's (( )) takes integers only);
# OP is <, <=, >= or >. False when A or B is not a number, e.g. num_is "$ms" '<' 1500 || fail ...
num_is()
{
	"$PY" -c 'import operator, sys
op = {"<": operator.lt, "<=": operator.le, ">=": operator.ge, ">": operator.gt}[sys.argv[2]]
try:
    sys.exit(0 if op(float(sys.argv[1]), float(sys.argv[3])) else 1)
except ValueError:
    sys.exit(1)' "$1" "$2" "$3"
}

# rss_kib [PID]: resident set size in KiB of PID ($DNSPROXY_PID by default).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/${1:-$DNSPROXY_PID}/status"; }

# --- TLS security tests: own loopback addresses, clear-text servers, SPKI digests --------

# pick_loopback_ip: a random address in 127.0.0.0/8 (not 127.0.0.x) whose port 53 is free for
# TCP and UDP, reserved machine-wide like pick_port (released in the EXIT trap), so a test can
# own port 53 there (opportunistic fallback target) even when tests run in parallel.
pick_loopback_ip()
{
	"$PY" "$DNSPROXY_SOURCE/scripts/lib/reserve.py" loopback-ip --port 53 --dir "$E2E_PORT_DIR" --used "$TEST_TMP/.ports"
}

# start_clear_dns IP [PORT]: tests/support/clear_dns_server.py, a clear-text DNS responder on
# IP:PORT (53 by default, UDP and TCP) answering every A query with 192.0.2.53 and recording
# the queries. Sets CLEAR_PID, CLEAR_STATS (JSON: udp_queries, tcp_queries, qnames...).
start_clear_dns()
{
	local ip=$1 port=${2:-53}
	CLEAR_STATS=$TEST_TMP/clear-$ip-$port.json
	local out=$TEST_TMP/clear-$ip-$port.log
	show_on_fail "$out" "$CLEAR_STATS"
	start_support_script "$out" listening clear_dns_server.py --host "$ip" --port "$port" --stats "$CLEAR_STATS"
	CLEAR_PID=$SUPPORT_PID
}

# start_sniffer IP PORTS NEEDLE: tests/support/plain_sniffer.py on IP (TCP and UDP PORTS,
# comma-separated), never answering. Sets SNIFF_PID, SNIFF_STATS.
start_sniffer()
{
	local ip=$1 ports=$2 needle=$3
	SNIFF_STATS=$TEST_TMP/sniff-$ip.json
	local out=$TEST_TMP/sniff-$ip.log
	show_on_fail "$out" "$SNIFF_STATS"
	start_support_script "$out" listening plain_sniffer.py --host "$ip" --ports "$ports" --needle "$needle" \
		--stats "$SNIFF_STATS"
	SNIFF_PID=$SUPPORT_PID
}

# json_stat FILE KEY: one top-level value of a JSON stats file. The support servers write every
# key before they report ready, so an unreadable file or a missing key is a fault: it prints
# "unreadable:KEY" (which no expected value or numeric test matches) and returns 1.
json_stat()
{
	"$PY" -c 'import json,sys
try:
    v = json.load(open(sys.argv[1]))[sys.argv[2]]
except (OSError, ValueError, KeyError) as e:
    print("unreadable:%s" % sys.argv[2])
    print("json_stat %s %s: %r" % (sys.argv[1], sys.argv[2], e), file=sys.stderr)
    sys.exit(1)
print(json.dumps(v) if isinstance(v, (list, dict, bool)) else v)' "$1" "$2"
}

# spki_sha256 CERT.pem: base64(SHA-256(DER SubjectPublicKeyInfo)), the openssl pipeline of SPEC §5.
spki_sha256()
{
	openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
}

# stat_pins KEY: one counter of the "pins" object in $ADMIN/stats (learned, changes_seen,
# refusals, expiring_soon...). ADMIN is the admin API's base URL, http://127.0.0.1:PORT.
stat_pins() { curl -s -m 10 "$ADMIN/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pins"][sys.argv[1]])' "$1"; }

# use_pin_test_pki: use_test_pki, a second leaf for $NAME from the same CA with a key of its own
# ($PKI/server2: a key rollover), the ini, and the admin API's address and token for the pin tests.
# Sets PKI, PIN1 and PIN2 (the SPKI digests of server and server2), TOKEN, APORT and ADMIN.
use_pin_test_pki()
{
	use_test_pki
	TOKEN=secret
	PKI=$TEST_TMP/pki
	make_leaf "$PKI/server2" "$PKI/ca" "$NAME"
	write_ini "$TEST_TMP/dnsproxy.ini"
	PIN1=$(spki_sha256 "$PKI/server.pem")
	PIN2=$(spki_sha256 "$PKI/server2.pem")
	APORT=$(pick_port)
	ADMIN=http://127.0.0.1:$APORT
}

# start_pin_test_proxy [ARGS...]: start_proxy to $UPSTREAM with the admin API on $APORT (token
# $TOKEN), a 1 s upstream timeout and no cache, so every query meets the upstream's key; ARGS last.
start_pin_test_proxy()
{
	start_proxy "$UPSTREAM" -D "admin.listen=127.0.0.1:$APORT" -D "admin.token=$TOKEN" \
		-D upstream.timeout_ms=1000 -D cache.enabled=false "$@"
}

# answers_ok NAME: true when the proxy on $PROXY_PORT answers NAME A with unbound's 192.0.2.1.
answers_ok() { [[ $(kdig_short "$PROXY_PORT" "$1" A) == 192.0.2.1 ]]; }

# pin_field DIGEST FIELD: that field (source, count...) of DIGEST's entry under $NAME in
# $ADMIN/pins, or "none" when the digest is not listed there.
pin_field()
{
	curl -s -m 10 "$ADMIN/pins" | "$PY" -c 'import json,sys
d = [x[sys.argv[3]] for n in json.load(sys.stdin)["pins"] if n["name"] == sys.argv[2] for x in n["digests"] if x["sha256"] == sys.argv[1]]
print(d[0] if d else "none")' "$1" "$NAME" "$2"
}

# make_leaf OUT CA NAME: another certificate (new key) for DNS:NAME,IP:127.0.0.1 signed by CA
# (paths without .pem/.key), e.g. a key rollover: make_leaf "$PKI/server2" "$PKI/ca" dot.example
make_leaf()
{
	_make_leaf "$1" "$2" "$3" "DNS:$3,IP:127.0.0.1"
}

# make_self_signed OUT NAME: a self-signed certificate (new key) for DNS:NAME,IP:127.0.0.1, its own
# issuer, as a server without any CA has it.
make_self_signed()
{
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:FALSE" -addext "subjectAltName=DNS:$2,IP:127.0.0.1" >/dev/null 2>&1 ||
		fail "openssl could not create the self-signed certificate $1"
}

# make_leaf_no_aki OUT CA NAME: like make_leaf, but without an AuthorityKeyIdentifier, so a client
# finds its issuer by name alone.
make_leaf_no_aki()
{
	_make_leaf "$1" "$2" "$3" "DNS:$3,IP:127.0.0.1" authorityKeyIdentifier=none
}

# make_forged_leaf OUT CA NAME [AKI]: a certificate for DNS:NAME,IP:127.0.0.1 whose issuer NAME is
# CA's subject but which is signed by a new key of its own (OUT-issuer.key), by default without an
# AuthorityKeyIdentifier: OpenSSL builds the chain [OUT, CA] by name, and only the signature check
# tells that CA never signed it. AKI "authorityKeyIdentifier=keyid" copies CA's key identifier
# instead (anyone can), which OpenSSL follows the same way. OUT-issuer.pem is CA's certificate
# re-signed with that key (same subject and key identifier, other key).
make_forged_leaf()
{
	local out=$1 ca=$2 name=$3 aki=${4:-authorityKeyIdentifier=none}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$out-issuer.key" >/dev/null 2>&1 &&
		openssl x509 -in "$ca.pem" -signkey "$out-issuer.key" -out "$out-issuer.pem" >/dev/null 2>&1 ||
		fail "openssl could not make the forging key for $out"
	_make_leaf "$out" "$out-issuer" "$name" "DNS:$name,IP:127.0.0.1" "$aki"
}
