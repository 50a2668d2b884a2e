# scripts/lib/harness.sh - processes, ports, a throwaway PKI, a real unbound DoT upstream and the
# dnsproxy process, for the e2e tests (through tests/e2e/lib.sh) and for scripts/bench,
# scripts/soak and scripts/container-test, written once for all of them. Sourced, not run.
#
# It makes a temp dir ($TEST_TMP) and records every process it starts by PID (E2E_PIDS); the
# EXIT trap stops them and removes the temp dir (kept when DNSPROXY_KEEP_TMP=1). Nothing here
# sleeps to synchronise: every wait polls an observable condition until a deadline (STYLE §4).
# A prerequisite that is missing exits 77 (skipped), or fails in CI (CI=true).

set -euo pipefail

# The name of the script that runs (the outermost file on the source stack).
E2E_NAME=$(basename "${BASH_SOURCE[-1]:-$0}" .sh)
DNSPROXY_SOURCE=${DNSPROXY_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
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
# The reservation logic is scripts/lib/reserve.py.
E2E_PORT_DIR=${TMPDIR:-/tmp}/dnsproxy-e2e-ports
pick_port()
{
	"$PY" "$DNSPROXY_SOURCE/scripts/lib/reserve.py" port --ip "${1:-127.0.0.1}" --dir "$E2E_PORT_DIR" --used "$TEST_TMP/.ports"
}

# tcp_listening IP PORT: true when something listens on IP:PORT (TCP).
tcp_listening()
{
	[[ -n $(ss -tlnH "( sport = :$2 )" 2>/dev/null | awk -v a="$1:$2" '$4 == a') ]]
}

# udp_listening PORT: true when a UDP socket is bound to PORT.
udp_listening()
{
	[[ -n $(ss -ulnH "( sport = :$1 )" 2>/dev/null) ]]
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
