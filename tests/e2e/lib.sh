# tests/e2e/lib.sh - shared helpers for the end-to-end scripts: temp dir, ports, test CA,
# a real unbound DoT upstream, the dnsproxy process, polling with deadlines and assertions.
#
# Every tests/e2e/test_*.sh sources this file first. It runs the real build/dnsproxy
# ($DNSPROXY_BIN) against real servers on 127.0.0.0/8 only. Nothing here sleeps to
# synchronise: every wait polls an observable condition until a deadline (STYLE §4).
# All processes started through these helpers are recorded by PID and stopped in the
# EXIT trap; the per-test temp dir is removed there too (kept when DNSPROXY_KEEP_TMP=1).

set -euo pipefail

E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DNSPROXY_SOURCE=${DNSPROXY_SOURCE:-$(cd "$E2E_DIR/../.." && pwd)}
DNSPROXY_BIN=${DNSPROXY_BIN:-$DNSPROXY_SOURCE/build/dnsproxy}
SUPPORT_DIR=$DNSPROXY_SOURCE/tests/support
# Debian's python has dnspython; a pyenv shim in PATH may not.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dnsproxy-e2e-$E2E_NAME.XXXXXX")
E2E_PIDS=()
E2E_SHOW_ON_FAIL=()    # log files printed when the test fails

_e2e_cleanup()
{
	local rc=$?
	set +e
	local pid
	for pid in "${E2E_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		local i
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [[ -f $TEST_TMP/.ports ]]; then
		local port
		while read -r port; do
			rmdir "$E2E_PORT_DIR/$port" 2>/dev/null
		done <"$TEST_TMP/.ports"
	fi
	if [[ ${DNSPROXY_KEEP_TMP:-0} == 1 ]]; then
		echo "# kept $TEST_TMP"
	else
		rm -rf "$TEST_TMP"
	fi
	exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- reporting -------------------------------------------------------------------------

log() { echo "# $*"; }

pass() { echo "ok - $*"; }

fail()
{
	echo "FAIL - $E2E_NAME: $*" >&2
	local f
	for f in "${E2E_SHOW_ON_FAIL[@]}"; do
		[[ -f $f ]] || continue
		echo "----- $f (last 40 lines) -----" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

# show_on_fail FILE...: print these files' tails when the test fails.
show_on_fail() { E2E_SHOW_ON_FAIL+=("$@"); }

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

# --- skipping ---------------------------------------------------------------------------
# A test that cannot run exits 77, which CTest shows as skipped (SKIP_RETURN_CODE 77 in
# tests/CMakeLists.txt), never 0. In CI (CI=true) nothing may be missing -- scripts/test installs
# every tool and runs as root -- so there a missing prerequisite fails the test instead.

in_ci() { [[ ${CI:-} == true || ${CI:-} == 1 ]]; }

# skip REASON: exit 77 (skipped); in CI, fail with REASON.
skip()
{
	in_ci && fail "prerequisite missing in CI: $1"
	echo "# SKIP $E2E_NAME: $1"
	exit 77
}

# skip_part REASON: carry on without one part of the test; in CI, fail with REASON. Use only
# where the rest of the test is worth running; the part left out is named in the output.
skip_part()
{
	in_ci && fail "prerequisite missing in CI: $1"
	echo "# SKIP part of $E2E_NAME: $1"
}

require_tool()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "required tool '$t' is not installed (scripts/test installs it)"
	done
}

# require_root WHAT: skip unless running as root (CI runs as root).
require_root() { ((EUID == 0)) || skip "must run as root: $1"; }

require_binary()
{
	[[ -x $DNSPROXY_BIN ]] || skip "dnsproxy binary not found at $DNSPROXY_BIN (build it first)"
}

# --- waiting ---------------------------------------------------------------------------

# wait_for [-t SECONDS] CMD...: run CMD every 50 ms until it succeeds; 1 on deadline.
wait_for()
{
	local timeout=10
	if [[ ${1:-} == -t ]]; then
		timeout=$2
		shift 2
	fi
	local deadline=$((SECONDS + timeout))
	while true; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

# --- ports -----------------------------------------------------------------------------

# pick_port [IP]: a port free for both TCP and UDP on IP (127.0.0.1 by default), below the
# kernel's ephemeral range so outgoing connections cannot take it. Each port is reserved
# machine-wide (mkdir in $E2E_PORT_DIR, released in the EXIT trap) so tests running at the
# same time (ctest -j) never pick the same one; reservations older than 15 min are stale.
# The reservation logic is tests/support/reserve.py.
E2E_PORT_DIR=${TMPDIR:-/tmp}/dnsproxy-e2e-ports
pick_port()
{
	"$PY" "$SUPPORT_DIR/reserve.py" port --ip "${1:-127.0.0.1}" --dir "$E2E_PORT_DIR" --used "$TEST_TMP/.ports"
}

# tcp_listening IP PORT: true when something listens on IP:PORT (TCP).
tcp_listening()
{
	[[ -n $(ss -tlnH "( sport = :$2 )" 2>/dev/null | awk -v a="$1:$2" '$4 == a') ]]
}

# established_to PORT: number of established TCP connections whose peer port is PORT.
established_to()
{
	ss -tnH state established "( dport = :$1 )" 2>/dev/null | wc -l
}

# established_to_is PORT OP N: e.g. wait_for established_to_is 853 -ge 1
established_to_is()
{
	test "$(established_to "$1")" "$2" "$3"
}

# --- certificates ----------------------------------------------------------------------

# make_ca DIR NAME: writes into DIR
#   ca.pem ca.key                 throwaway CA
#   server.pem server.key         cert for DNS:NAME and IP:127.0.0.1, signed by ca
#   evil-ca.pem evil-ca.key       an unrelated CA
#   evil.pem evil.key             cert for the same NAME, signed by evil-ca
#   wrongname.pem wrongname.key   cert for DNS:wrong-NAME and IP:127.0.0.1, signed by ca
make_ca()
{
	local dir=$1 name=$2
	mkdir -p "$dir"
	_make_root "$dir/ca" "dnsproxy e2e test CA"
	_make_root "$dir/evil-ca" "dnsproxy e2e evil CA"
	_make_leaf "$dir/server" "$dir/ca" "$name" "DNS:$name,IP:127.0.0.1"
	_make_leaf "$dir/evil" "$dir/evil-ca" "$name" "DNS:$name,IP:127.0.0.1"
	_make_leaf "$dir/wrongname" "$dir/ca" "wrong-$name" "DNS:wrong-$name,IP:127.0.0.1"
}

_make_root()
{
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 ||
		fail "openssl could not create CA $1"
}

# _make_leaf OUT CA CN SAN [AKI]: AKI is the authorityKeyIdentifier line of the extensions
# ("authorityKeyIdentifier=keyid,issuer" unless given; "authorityKeyIdentifier=none" leaves it out).
_make_leaf()
{
	local out=$1 ca=$2 cn=$3 san=$4 aki=${5-authorityKeyIdentifier=keyid,issuer}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$out.key" -out "$out.csr" -subj "/CN=$cn" >/dev/null 2>&1 ||
		fail "openssl could not create key for $out"
	cat >"$out.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
subjectKeyIdentifier=hash
$aki
EOF
	openssl x509 -req -in "$out.csr" -CA "$ca.pem" -CAkey "$ca.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 2 -extfile "$out.ext" -out "$out.pem" >/dev/null 2>&1 ||
		fail "openssl could not sign $out"
	rm -f "$out.csr" "$out.ext"
}

# --- unbound as the DoT upstream -------------------------------------------------------

# start_unbound_dot DIR PORT [CERT KEY [IP]]: unbound serving DoT (and plain UDP) on
# IP:PORT (127.0.0.1 by default) from local data only, with DIR/server.pem by default.
# Zones: every name under zone.example. -> A 192.0.2.1 TTL 300; nx.zone.example. and
# below -> NXDOMAIN; big.example. TXT -> an answer of about 1.9 kB.
# UNBOUND_EXTRA_CONF, when set, is added to the server: clause as is (extra local-zone and
# local-data lines, one per line). Sets UNBOUND_PID, UNBOUND_CONF. Waits until it listens and
# answers unbound-control.
start_unbound_dot()
{
	local dir=$1 port=$2 cert=${3:-$1/server.pem} key=${4:-$1/server.key} ip=${5:-127.0.0.1}
	mkdir -p "$dir"
	UNBOUND_CONF=$dir/unbound.conf
	local txt
	txt=$(printf 'x%.0s' {1..240})
	{
		cat <<EOF
server:
	verbosity: 1
	use-syslog: no
	logfile: ""
	log-time-ascii: yes
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	use-systemd: no
	num-threads: 1
	do-ip6: no
	interface: $ip@$port
	port: $port
	tls-port: $port
	tls-service-key: "$key"
	tls-service-pem: "$cert"
	incoming-num-tcp: 64
	module-config: "iterator"
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	local-zone: "zone.example." redirect
	local-data: "zone.example. 300 IN A 192.0.2.1"
	local-zone: "nx.zone.example." always_nxdomain
	local-zone: "big.example." static
EOF
		local i
		for i in 1 2 3 4 5 6 7; do
			echo "	local-data: 'big.example. 300 IN TXT \"$i$txt\"'"
		done
		[[ -z ${UNBOUND_EXTRA_CONF:-} ]] || printf '%s\n' "$UNBOUND_EXTRA_CONF"
		cat <<EOF

remote-control:
	control-enable: yes
	control-interface: "$dir/unbound.ctl"
	control-use-cert: no
EOF
	} >"$UNBOUND_CONF"
	unbound-checkconf "$UNBOUND_CONF" >"$dir/checkconf.log" 2>&1 ||
		{ cat "$dir/checkconf.log" >&2; fail "unbound-checkconf rejected $UNBOUND_CONF"; }
	unbound -d -c "$UNBOUND_CONF" >>"$dir/unbound.log" 2>&1 &
	UNBOUND_PID=$!
	E2E_PIDS+=("$UNBOUND_PID")
	show_on_fail "$dir/unbound.log"
	local deadline=$((SECONDS + 15))
	until tcp_listening "$ip" "$port" && unbound-control -c "$UNBOUND_CONF" status >/dev/null 2>&1; do
		kill -0 "$UNBOUND_PID" 2>/dev/null || fail "unbound exited during startup"
		((SECONDS < deadline)) || fail "unbound did not start listening on $ip:$port"
		sleep 0.05
	done
}

# unbound_queries [CONF]: total.num.queries that reached unbound (not reset by reading).
unbound_queries()
{
	unbound-control -c "${1:-$UNBOUND_CONF}" stats_noreset | awk -F= '$1 == "total.num.queries" { print $2 }'
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

# dot_stat KEY [FILE]: one value from the dot_server.py stats file (json_stat: an unreadable
# file or a missing key prints a non-number, so no comparison passes on it).
dot_stat() { json_stat "${2:-$DOT_STATS}" "$1"; }

# dot_stat_is KEY OP N: compare a stats value, e.g. wait_for dot_stat_is connections -eq 0
dot_stat_is()
{
	test "$(dot_stat "$1")" "$2" "$3"
}

# --- dnsproxy --------------------------------------------------------------------------

# write_ini FILE: a minimal configuration; tests override the rest with -D.
write_ini()
{
	cat >"$1" <<'EOF'
; dnsproxy configuration for an end-to-end test
[server]
listen = 127.0.0.1:53

[upstream]
timeout_ms = 2000

[admin]
listen =

[log]
level = information
EOF
}

# start_dnsproxy LOG ARGS...: runs $DNSPROXY_BIN ARGS... in the background with stdout and
# stderr in LOG, waits for its "[dnsproxy] tcp://" startup line. Sets DNSPROXY_PID.
start_dnsproxy()
{
	local logf=$1
	shift
	require_binary
	"$DNSPROXY_BIN" "$@" >"$logf" 2>&1 &
	DNSPROXY_PID=$!
	E2E_PIDS+=("$DNSPROXY_PID")
	show_on_fail "$logf"
	local deadline=$((SECONDS + 15))
	until grep -q '^\[dnsproxy\] tcp://' "$logf" 2>/dev/null; do
		if ! kill -0 "$DNSPROXY_PID" 2>/dev/null; then
			local rc=0
			wait "$DNSPROXY_PID" || rc=$?
			fail "dnsproxy exited with status $rc during startup: $(cat "$logf")"
		fi
		((SECONDS < deadline)) || fail "dnsproxy did not log its '[dnsproxy] tcp://' line within 15 s"
		sleep 0.05
	done
}

# start_proxy UPSTREAM [ARGS...]: writes an ini, picks PROXY_PORT and starts dnsproxy on
# 127.0.0.1:PROXY_PORT forwarding to UPSTREAM (IP:port#name), trusting $CA_FILE.
# Sets PROXY_PORT, PROXY_LOG, DNSPROXY_PID.
start_proxy()
{
	local upstream=$1
	shift
	PROXY_PORT=$(pick_port)
	PROXY_LOG=$TEST_TMP/dnsproxy-$PROXY_PORT.log
	[[ -f $TEST_TMP/dnsproxy.ini ]] || write_ini "$TEST_TMP/dnsproxy.ini"
	start_dnsproxy "$PROXY_LOG" -c "$TEST_TMP/dnsproxy.ini" \
		-D "server.listen=127.0.0.1:$PROXY_PORT" \
		-D "upstream.servers=$upstream" \
		-D "tls.ca_file=$CA_FILE" \
		-D "admin.listen=" \
		-D "storage.path=$TEST_TMP/db-$PROXY_PORT.sqlite" \
		"$@"
}

# stop_pid PID [NAME]: SIGTERM, wait up to 5 s; fails unless it exited with status 0.
stop_pid()
{
	local pid=$1 name=${2:-process $1}
	kill -TERM "$pid" 2>/dev/null || fail "$name (pid $pid) was not running when asked to stop"
	local deadline=$((SECONDS + 5)) start=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		# kill -0 also succeeds for a zombie; wait reaps it below.
		if [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]]; then
			break
		fi
		if ((SECONDS > deadline)); then
			kill -KILL "$pid" 2>/dev/null
			fail "$name (pid $pid) did not exit within 5 s of SIGTERM"
		fi
		sleep 0.05
	done
	local rc=0
	wait "$pid" 2>/dev/null || rc=$?
	((rc == 0)) || fail "$name exited with status $rc after SIGTERM (expected 0)"
	pass "$name exited 0 within $((SECONDS - start + 1)) s of SIGTERM"
}

# --- clients ---------------------------------------------------------------------------

# _kdig PORT ARGS...: kdig against the proxy on 127.0.0.1:PORT, one try, 6 s budget; prints its
# whole output (stdout and stderr) and always succeeds.
_kdig()
{
	local port=$1
	shift
	kdig @127.0.0.1 -p "$port" +retry=0 +timeout=6 "$@" 2>&1 || true
}

# _kdig_status KDIG_OUTPUT: the first "status:" in kdig's output, or nothing.
_kdig_status() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$1" | head -n1; }

# kdig_short PORT ARGS...: _kdig; prints the answer section's data (like +short), or
# "(no answer: STATUS)" so a failed assertion shows why.
kdig_short()
{
	local out ans
	out=$(_kdig "$@")
	ans=$(awk '/^;; ANSWER SECTION:/ { a = 1; next } a && /^$/ { a = 0 } a && !/^;/ { print $NF }' <<<"$out")
	if [[ -n $ans ]]; then
		echo "$ans"
	else
		local st
		st=$(_kdig_status "$out")
		echo "(no answer: ${st:-no response})"
	fi
}

# kdig_rcode PORT ARGS...: _kdig; the response status (NOERROR, NXDOMAIN, SERVFAIL...) or "none".
kdig_rcode()
{
	local out st
	out=$(_kdig "$@")
	st=$(_kdig_status "$out")
	echo "${st:-none}"
}

# --- TLS security tests: own loopback addresses, clear-text servers, SPKI digests --------

# pick_loopback_ip: a random address in 127.0.0.0/8 (not 127.0.0.x) whose port 53 is free for
# TCP and UDP, reserved machine-wide like pick_port (released in the EXIT trap), so a test can
# own port 53 there (opportunistic fallback target) even when tests run in parallel.
pick_loopback_ip()
{
	"$PY" "$SUPPORT_DIR/reserve.py" loopback-ip --port 53 --dir "$E2E_PORT_DIR" --used "$TEST_TMP/.ports"
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

# --- shared set-ups -------------------------------------------------------------------

# use_test_pki [NAME]: a throwaway CA and a server certificate for NAME (default dot.example);
# sets NAME, CA_FILE, CERT and KEY.
use_test_pki()
{
	NAME=${1:-dot.example}
	make_ca "$TEST_TMP/pki" "$NAME"
	CA_FILE=$TEST_TMP/pki/ca.pem
	CERT=$TEST_TMP/pki/server.pem
	KEY=$TEST_TMP/pki/server.key
}

# dns_client ARGS...: tests/support/dns_client.py (scripted dnspython clients; prints JSON).
dns_client() { "$PY" "$SUPPORT_DIR/dns_client.py" "$@"; }

# json_field JSON KEY: one top-level field of a JSON object.
json_field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
