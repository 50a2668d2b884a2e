# bench/encrypted.sh - the "encrypted" stage of scripts/bench (issue 19): DNS-over-TLS and
# DNS-over-HTTPS front ends of dnsproxy, unbound and dnsdist, side by side in one run.
# Sourced by scripts/bench once the upstream, the query files, run_load, cpu_ticks and
# stop_target exist; stage_encrypted is the entry point. Not run on its own.
#
# Every target serves clients over DoT and DoH with a certificate for dns.test from a throwaway
# CA of its own, forwards to the same DoT upstream as the plain stage, and answers the hit names
# from its cache (warmed first). Rows, each written to $RESULTS (dnsperf rows) or $ENC_RESULTS:
#   dot-hit        dnsperf -m dot, cache hits, -c 8 -q 200
#   doh-hit        dnsperf -m doh (HTTP/2, GET), cache hits, -c 8 -q 200
#   dot-handshake  bench/dot_client.c: new client, full TLS handshake, one query, close, in a loop
#   dot-idle       RSS growth of the server while ENC_IDLE idle DoT clients are connected
# unbound runs as two instances (one DoT, one DoH): each listening port costs unbound
# incoming-num-tcp descriptors up front, and the DoT one needs room for ENC_IDLE clients within
# the descriptor limit (ulimit -n, 20,000 on these machines). unbound also cuts the idle
# timeout of a new connection to 200 ms-3 s once more than half of its TCP slots are taken
# (unbound.conf(5), tcp-idle-timeout), whatever the configured value: it only keeps idle clients
# up to half its slots. So the DoT instance gets 2 x ENC_IDLE + 200 slots when the limit allows,
# else as many as it does (19,700 here), and is measured with at most half of them (9,800 here);
# the row says how many clients each target held.
#
# Environment: BENCH_IDLE_CONNS (10000), BENCH_HANDSHAKE_PROCS (16 client processes),
# BENCH_HANDSHAKE_SECONDS (BENCH_SECONDS).

ENC_IDLE=${BENCH_IDLE_CONNS:-10000}
ENC_HS_PROCS=${BENCH_HANDSHAKE_PROCS:-16}
ENC_HS_SECONDS=${BENCH_HANDSHAKE_SECONDS:-$SECONDS_PER_RUN}
ENC_NAME=dns.test
ENC_QNAME=h1.bench.example
ENC_RESULTS=$W/encrypted.tsv

# enc_kdig_ok PORT dot|doh: true once the front end answers a hit name over its protocol.
enc_kdig_ok()
{
	local how=+tls
	[[ $2 == doh ]] && how=+https=/dns-query
	[[ $(kdig_short "$1" "$how" +tls-ca="$ENC_PKI/ca.pem" +tls-hostname="$ENC_NAME" ready.bench.example A) == 192.0.2.7 ]]
}

# enc_unbound KIND PORT INCOMING: unbound forwarding to the upstream, serving KIND (dot|doh) on
# 127.0.0.1:PORT with INCOMING TCP slots (see the top of this file). Sets ENC_PID.
enc_unbound()
{
	local kind=$1 port=$2 incoming=$3 dir=$W/enc-unbound-$1
	mkdir -p "$dir"
	local listen="tls-port: $port"
	[[ $kind == doh ]] && listen="https-port: $port
	http-endpoint: \"/dns-query\""
	cat >"$dir/unbound.conf" <<EOF
server:
	verbosity: 0
	use-syslog: no
	logfile: ""
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	use-systemd: no
	num-threads: 1
	do-ip6: no
	interface: 127.0.0.1@$port
	$listen
	tls-service-key: "$ENC_PKI/server.key"
	tls-service-pem: "$ENC_PKI/server.pem"
	incoming-num-tcp: $incoming
	tcp-idle-timeout: 300000
	outgoing-range: 64
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	tls-cert-bundle: "$CA_FILE"
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@$UP_PORT#$AUTH
	forward-tls-upstream: yes
EOF
	unbound-checkconf "$dir/unbound.conf" >"$dir/log" 2>&1 || fail "unbound-checkconf: $(cat "$dir/log")"
	taskset -c 0 unbound -d -c "$dir/unbound.conf" >"$dir/log" 2>&1 &
	ENC_PID=$!
	E2E_PIDS+=("$ENC_PID")
	show_on_fail "$dir/log"
}

# enc_dnsdist TLS_PORT DOH_PORT: dnsdist with addTLSLocal and addDOHLocal, its packet cache and
# client timeouts raised so idle clients stay. Sets ENC_PID.
enc_dnsdist()
{
	local dir=$W/enc-dnsdist
	mkdir -p "$dir"
	cat >"$dir/dnsdist.conf" <<EOF
setLocal("127.0.0.1:$(pick_port)")
setSecurityPollSuffix("")
newServer({address="127.0.0.1:$UP_PORT", tls="openssl", subjectName="$AUTH", validateCertificates=true,
	caStore="$CA_FILE", checkName="ready.bench.example."})
pc = newPacketCache(100000, {maxTTL=86400, minTTL=0, temporaryFailureTTL=60, staleTTL=60})
getPool(""):setCache(pc)
addTLSLocal("127.0.0.1:$1", "$ENC_PKI/server.pem", "$ENC_PKI/server.key", {provider="openssl"})
addDOHLocal("127.0.0.1:$2", "$ENC_PKI/server.pem", "$ENC_PKI/server.key", "/dns-query", {idleTimeout=300})
setTCPRecvTimeout(300)
setMaxTCPQueuedConnections(20000)
EOF
	taskset -c 0 dnsdist -C "$dir/dnsdist.conf" --supervised --disable-syslog >"$dir/log" 2>&1 &
	ENC_PID=$!
	E2E_PIDS+=("$ENC_PID")
	show_on_fail "$dir/log"
}

# enc_dnsproxy TLS_PORT DOH_PORT: dnsproxy with tls_listen and https_listen (and no per-source
# handshake rate: every load generator connects from 127.0.0.1, which the default 100/s would cap). Sets ENC_PID, or
# ENC_PID= and ENC_NA=<why> when the binary does not start them (keys it does not know yet).
enc_dnsproxy()
{
	local logf=$W/enc-dnsproxy.log
	ENC_NA=
	taskset -c 0 "$DNSPROXY_BIN" -c "$ROOT/etc/dnsproxy.ini" \
		-D "server.listen=127.0.0.1:$(pick_port)" \
		-D "server.tls_listen=127.0.0.1:$1" \
		-D "server.https_listen=127.0.0.1:$2" \
		-D "server.doh_path=/dns-query" \
		-D "server.tls_cert_file=$ENC_PKI/server.pem" \
		-D "server.tls_key_file=$ENC_PKI/server.key" \
		-D "server.max_tcp_connections=20000" \
		-D "server.tcp_idle_timeout_ms=300000" \
		-D "server.tls_handshakes_per_source=0" \
		-D "upstream.servers=127.0.0.1:$UP_PORT#$AUTH" \
		-D "tls.ca_file=$CA_FILE" \
		-D "admin.listen=" \
		-D "storage.path=$W/enc-dnsproxy.db" \
		-D "server.threads=$DNSPROXY_THREADS" >"$logf" 2>&1 &
	ENC_PID=$!
	E2E_PIDS+=("$ENC_PID")
	wait_for -t 15 enc_dnsproxy_settled "$logf" "$ENC_PID" || true
	if ! kill -0 "$ENC_PID" 2>/dev/null || ! enc_dnsproxy_settled "$logf" "$ENC_PID"; then
		ENC_NA="did not start its DoT/DoH listeners: $(grep -v '^\[dnsproxy\] \(udp\|tcp\)://' "$logf" | tail -n1)"
		stop_target "$ENC_PID"
		ENC_PID=
	fi
}

# enc_dnsproxy_settled LOG PID: both encrypted listening lines are there (SPEC §2), or the
# process has exited (which ends the wait early).
enc_dnsproxy_settled()
{
	kill -0 "$2" 2>/dev/null || return 0
	grep -q '^\[dnsproxy\] tls://' "$1" && grep -q '^\[dnsproxy\] https://' "$1"
}

# enc_row TARGET METRIC VALUE CPU_US DETAIL: one row of $ENC_RESULTS.
enc_row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ENC_RESULTS"; }

# enc_handshakes TARGET PID PORT: new DoT clients per second and the server's CPU per handshake.
enc_handshakes()
{
	local target=$1 pid=$2 port=$3 out=$W/handshakes-$1.txt before after
	before=$(cpu_ticks "$pid")
	taskset -c 1 "$W/dot_client" handshakes "$port" "$ENC_HS_SECONDS" "$ENC_HS_PROCS" "$ENC_QNAME" >"$out" 2>&1 || true
	after=$(cpu_ticks "$pid")
	local n failed rate cpu_us
	read -r _ n _ failed _ _ _ rate <"$out" || true
	[[ $n =~ ^[0-9]+$ ]] || { n=0 failed=? rate=0; }
	local ticks=$((after - before)) busy
	cpu_us=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.0f", n ? t / hz * 1e6 / n : 0 }')
	busy=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v s="$ENC_HS_SECONDS" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
	enc_row "$target" dot-handshake "$rate" "$cpu_us" "$n handshakes, $failed failed, $ENC_HS_PROCS clients, server busy $busy% of a core"
	log "  $target dot-handshake: $rate /s, $cpu_us us CPU each ($n done, $failed failed, server busy $busy%)"
}

vm_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# established_on PORT: established TCP connections whose local port is PORT (server side).
established_on() { ss -tnH state established "( sport = :$1 )" 2>/dev/null | wc -l; }
established_on_ge() { (($(established_on "$1") >= $2)); }

# enc_idle TARGET PID PORT COUNT: RSS per idle DoT client, COUNT clients held by dot_client.
enc_idle()
{
	local target=$1 pid=$2 port=$3 count=$4 fifo=$W/idle-$1.fifo out=$W/idle-$1.txt
	local before after open held client hold t0=$SECONDS
	before=$(vm_rss "$pid")
	mkfifo "$fifo"
	taskset -c 1 "$W/dot_client" idle "$port" "$count" "$ENC_HS_PROCS" "$ENC_QNAME" <"$fifo" >"$out" 2>&1 &
	client=$!
	E2E_PIDS+=("$client")
	exec {hold}>"$fifo"
	wait_for -t 300 grep -q '^open' "$out" || log "  $target: the idle clients did not all connect within 300 s"
	open=$(awk '/^open/ { print $2 }' "$out")
	# Every connection the client holds is accepted on the server's side too.
	wait_for -t 20 established_on_ge "$port" "${open:-0}" || true
	after=$(vm_rss "$pid")
	held=$(established_on "$port")
	exec {hold}>&-
	wait "$client" 2>/dev/null || true
	rm -f "$fifo"
	local per
	per=$(awk -v a="$after" -v b="$before" -v n="${held:-0}" 'BEGIN { printf "%.1f", n ? (a - b) / n : 0 }')
	enc_row "$target" dot-idle "$per" "" "RSS $before -> $after KiB, ${open:-0} opened in $((SECONDS - t0)) s, $held established at the server"
	log "  $target dot-idle: $per KiB per connection (RSS $before -> $after KiB, ${open:-0} opened, $held held, $((SECONDS - t0)) s)"
}

# stage_encrypted: start the targets, warm their caches, then the rows above, round by round
# for the dnsperf rows (best round kept by bench/report.py), once for handshakes and idle.
stage_encrypted()
{
	log "== encrypted stage: DoT and DoH front ends"
	ENC_PKI=$W/pki-front
	make_ca "$ENC_PKI" "$ENC_NAME"
	cc -O2 -o "$W/dot_client" "$ROOT/bench/dot_client.c" -lssl -lcrypto
	printf 'target\tmetric\tvalue\tcpu_us\tdetail\n' >"$ENC_RESULTS"
	local -A dot_pid dot_port doh_pid doh_port idle_of
	local t targets=() slots
	# Every target and the idle clients need a descriptor per connection: take the hard limit.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if (($(ulimit -n) < ENC_IDLE + 500)); then
		ENC_IDLE=$(($(ulimit -n) - 500))
		log "  ulimit -n is $(ulimit -n): $ENC_IDLE idle clients per target"
	fi
	slots=$((ENC_IDLE * 2 + 200))
	(($(ulimit -n) - 300 >= slots)) || slots=$(($(ulimit -n) - 300))
	for t in $FORWARDERS; do
		case $t in
		dnsproxy)
			dot_port[$t]=$(pick_port) doh_port[$t]=$(pick_port)
			enc_dnsproxy "${dot_port[$t]}" "${doh_port[$t]}"
			if [[ -z $ENC_PID ]]; then
				enc_row dnsproxy n/a "" "" "$ENC_NA"
				log "  dnsproxy: n/a, $ENC_NA"
				continue
			fi
			dot_pid[$t]=$ENC_PID doh_pid[$t]=$ENC_PID
			;;
		unbound)
			dot_port[$t]=$(pick_port) doh_port[$t]=$(pick_port)
			enc_unbound dot "${dot_port[$t]}" "$slots"
			idle_of[$t]=$((slots / 2 - 50 < ENC_IDLE ? slots / 2 - 50 : ENC_IDLE))
			dot_pid[$t]=$ENC_PID
			enc_unbound doh "${doh_port[$t]}" 1000
			doh_pid[$t]=$ENC_PID
			;;
		dnsdist)
			dot_port[$t]=$(pick_port) doh_port[$t]=$(pick_port)
			enc_dnsdist "${dot_port[$t]}" "${doh_port[$t]}"
			dot_pid[$t]=$ENC_PID doh_pid[$t]=$ENC_PID
			;;
		*) continue ;;
		esac
		targets+=("$t")
	done
	for t in "${targets[@]}"; do
		wait_for -t 20 enc_kdig_ok "${dot_port[$t]}" dot || fail "$t does not answer over DoT"
		wait_for -t 20 enc_kdig_ok "${doh_port[$t]}" doh || log "  $t does not answer kdig over DoH"
		taskset -c 1 dnsperf -s 127.0.0.1 -p "${dot_port[$t]}" -m dot -d "$HIT_FILE" -n 3 -Q 2000 >/dev/null 2>&1 || true
		taskset -c 1 dnsperf -s 127.0.0.1 -p "${doh_port[$t]}" -m doh -O "doh-uri=https://127.0.0.1:${doh_port[$t]}/dns-query" \
			-d "$HIT_FILE" -n 3 -Q 2000 -t 2 >/dev/null 2>&1 || true
	done
	local round
	for ((round = 1; round <= ROUNDS; round++)); do
		log "== encrypted round $round of $ROUNDS"
		for t in "${targets[@]}"; do
			run_load "$t" dot-hit "${dot_pid[$t]}" "${dot_port[$t]}" -m dot -d "$HIT_FILE" -c 8 -q 200
			run_load "$t" doh-hit "${doh_pid[$t]}" "${doh_port[$t]}" -m doh \
				-O "doh-uri=https://127.0.0.1:${doh_port[$t]}/dns-query" -d "$HIT_FILE" -c 8 -q 200 -t 2
		done
	done
	for t in "${targets[@]}"; do
		enc_handshakes "$t" "${dot_pid[$t]}" "${dot_port[$t]}"
	done
	for t in "${targets[@]}"; do
		enc_idle "$t" "${dot_pid[$t]}" "${dot_port[$t]}" "${idle_of[$t]:-$ENC_IDLE}"
	done
	for t in "${targets[@]}"; do
		stop_target "${dot_pid[$t]}"
		[[ ${doh_pid[$t]} == "${dot_pid[$t]}" ]] || stop_target "${doh_pid[$t]}"
	done
}
