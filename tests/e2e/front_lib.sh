# tests/e2e/front_lib.sh - helpers shared by the tests of the proxy's encrypted client listeners
# (issue 19: [server] tls_listen, https_listen, tls_cert_file/tls_key_file): the front
# certificate, waiting for the listener lines, the key a listener presents, the pin the proxy logs
# for its self-signed certificate, and the scripted DoT client tests/support/tls_dns_client.py.
# Sourced after lib.sh.

# FRONT_NAME: the DNS name in the certificate of the proxy's own listeners (not the upstream's
# $NAME, so a client that expects the upstream's name must fail).
FRONT_NAME=front.example

# make_front_cert: a certificate for $FRONT_NAME from the test CA (use_test_pki or
# start_test_unbound first: each makes a new CA), for the proxy's listeners. Sets FRONT_CERT and
# FRONT_KEY ($TEST_TMP/front/cert.pem and key.pem).
make_front_cert()
{
	[[ -f $TEST_TMP/pki/ca.pem ]] || fail "make_front_cert needs the test CA (use_test_pki) first"
	mkdir -p "$TEST_TMP/front"
	make_leaf "$TEST_TMP/front/leaf" "$TEST_TMP/pki/ca" "$FRONT_NAME"
	FRONT_CERT=$TEST_TMP/front/cert.pem
	FRONT_KEY=$TEST_TMP/front/key.pem
	mv "$TEST_TMP/front/leaf.pem" "$FRONT_CERT"
	mv "$TEST_TMP/front/leaf.key" "$FRONT_KEY"
}

# wait_listener_line LINE: waits up to 10 s for the exact line LINE in $PROXY_LOG (the startup
# line of an encrypted listener, SPEC §2); fails naming it.
wait_listener_line()
{
	wait_for -t 10 grep -qxF -- "$1" "$PROXY_LOG" ||
		fail "the proxy did not log '$1' (its listener lines: $(grep '^\[dnsproxy\] [a-z]*://' "$PROXY_LOG" | tr '\n' ' '))"
	pass "startup line: $1"
}

# start_front_proxy TLS_PORT HTTPS_PORT [ARGS...]: start_proxy to $UPSTREAM with a DoT listener
# on 127.0.0.1:TLS_PORT and a DoH one on 127.0.0.1:HTTPS_PORT (an empty port: that listener
# off), ARGS last; waits for their startup lines and for the ports to listen. A proxy that does not
# know the keys exits 2 in start_proxy: the test fails, it is not skipped.
start_front_proxy()
{
	local tport=$1 hport=$2
	shift 2
	local listeners=()
	[[ -z $tport ]] || listeners+=(-D "server.tls_listen=127.0.0.1:$tport")
	[[ -z $hport ]] || listeners+=(-D "server.https_listen=127.0.0.1:$hport" -D server.doh_path=/dns-query)
	start_proxy "$UPSTREAM" "${listeners[@]}" "$@"
	local upstream_shown=tcp+tls://${UPSTREAM%%#*}
	if [[ -n $tport ]]; then
		wait_listener_line "[dnsproxy] tls://127.0.0.1:$tport -> $upstream_shown"
		wait_for -t 5 tcp_listening 127.0.0.1 "$tport" || fail "nothing listens on the DoT port $tport"
	fi
	if [[ -n $hport ]]; then
		wait_listener_line "[dnsproxy] https://127.0.0.1:$hport/dns-query -> $upstream_shown"
		wait_for -t 5 tcp_listening 127.0.0.1 "$hport" || fail "nothing listens on the DoH port $hport"
	fi
}

# presented_pin PORT [ALPN]: base64(SHA-256(SPKI)) of the certificate that 127.0.0.1:PORT presents
# in a new handshake (SNI $FRONT_NAME, no verification), or "none" when no handshake completes.
presented_pin()
{
	local pem
	pem=$(openssl s_client -connect "127.0.0.1:$1" -servername "$FRONT_NAME" ${2:+-alpn "$2"} </dev/null 2>/dev/null |
		sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p') || true
	if [[ -z $pem ]]; then
		echo none
		return
	fi
	openssl x509 -pubkey -noout <<<"$pem" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
}

# presented_pin_is PORT PIN [ALPN]: for wait_for.
presented_pin_is() { [[ $(presented_pin "$1" "${3:-}") == "$2" ]]; }

# logged_pin: the base64 after the first pin-sha256=" in $PROXY_LOG (the self-signed certificate's
# SPKI pin that the proxy logs at every start), or nothing.
logged_pin() { grep -o 'pin-sha256="[A-Za-z0-9+/=]*"' "$PROXY_LOG" | head -n1 | sed 's/^pin-sha256="//; s/"$//'; }

# pin_logged: true once $PROXY_LOG has a pin-sha256="..." (for wait_for).
pin_logged() { [[ -n $(logged_pin) ]]; }

# tls_client SUBCOMMAND PORT ARGS...: tests/support/tls_dns_client.py SUBCOMMAND against the DoT
# listener on 127.0.0.1:PORT, verifying $FRONT_NAME with $CA_FILE.
tls_client()
{
	local cmd=$1 port=$2
	shift 2
	"$PY" "$SUPPORT_DIR/tls_dns_client.py" "$cmd" --port "$port" --ca "$CA_FILE" --hostname "$FRONT_NAME" "$@"
}

# kdig_tls PORT ARGS...: kdig over DoT to 127.0.0.1:PORT verifying $FRONT_NAME with $CA_FILE;
# prints the whole output (stdout and stderr), like _kdig.
kdig_tls() { _kdig "$1" +tls-ca="$CA_FILE" +tls-hostname="$FRONT_NAME" "${@:2}"; }

# answer_of KDIG_OUTPUT: the answer section's data (like kdig_short, from an output already taken).
answer_of() { awk '/^;; ANSWER SECTION:/ { a = 1; next } a && /^$/ { a = 0 } a && !/^;/ { print $NF }' <<<"$1"; }

# json_get JSON EXPR: evaluates the Python expression EXPR with d = the parsed JSON and prints
# the value; a tuple (EXPR "a, b") prints its items separated by spaces. Unparsable JSON prints
# "unparsable" (which no expected value matches).
json_get()
{
	"$PY" -c 'import json,sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    print("unparsable")
    sys.exit(1)
v = eval(sys.argv[2])
print(" ".join(str(x) for x in v) if isinstance(v, tuple) else v)' "$1" "$2"
}

# stats_value PATH: the value at the dotted PATH (e.g. queries.tls) of /stats from the admin API on
# 127.0.0.1:$APORT, or "missing".
stats_value()
{
	curl -s -m 5 "http://127.0.0.1:$APORT/stats" | "$PY" -c 'import json,sys
try:
    v = json.load(sys.stdin)
    for k in sys.argv[1].split("."):
        v = v[k]
except (ValueError, KeyError, TypeError):
    v = "missing"
print(v)' "$1"
}

# stat_ge MIN PATH WHAT: the value at PATH of /stats must be a number >= MIN (a missing key fails).
stat_ge()
{
	local v
	v=$(stats_value "$2")
	[[ $v != missing ]] || fail "/stats has no $2: '$3' not checked"
	assert_ge "$1" "$v" "/stats $2: $3"
}
