#!/usr/bin/env bash
# tests/e2e/test_attack_tls_handshake_rate.sh - a client that reconnects to the DoT listener in a
# loop ([server] tls_handshakes_per_source, not in SPEC): past its rate its new connections are
# reset at accept, before any handshake or connection slot is spent, while another source (the
# control, 127.0.0.2) and the same source a second later complete their handshakes and are
# answered. /stats counts the resets.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/front_lib.sh"
require_tool unbound unbound-control kdig openssl
require_binary

RATE=5
start_test_unbound
make_front_cert
TPORT=$(pick_port)
APORT=$(pick_port)
start_front_proxy "$TPORT" "" -D "server.tls_cert_file=$FRONT_CERT" -D "server.tls_key_file=$FRONT_KEY" \
	-D "server.tls_handshakes_per_source=$RATE" -D "admin.listen=127.0.0.1:$APORT"

# handshakes SOURCE COUNT: opens COUNT TLS connections from SOURCE one after another, as fast as
# possible; prints how many completed their handshake and the seconds the attempts took.
handshakes()
{
	"$PY" - "$TPORT" "$CA_FILE" "$FRONT_NAME" "$1" "$2" <<'PY'
import socket, ssl, sys
port, ca, name, source, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["dot"])
done = 0
import time
start = time.monotonic()
for _ in range(count):
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=3, source_address=(source, 0))
        with ctx.wrap_socket(raw, server_hostname=name):
            done += 1
    except (OSError, ssl.SSLError):
        pass
print(done, round(time.monotonic() - start, 3))
PY
}

# Control first: a source within its rate completes every handshake.
read -r done _ < <(handshakes 127.0.0.2 "$RATE")
assert_eq "$RATE" "$done" "control: $RATE handshakes from 127.0.0.2 within its rate all complete"
sleep 1.2
# The attack: 40 new connections in a burst from one source. It may complete its burst plus what
# the bucket refilled while the attempts ran (RATE a second), never the 40.
read -r flood seconds < <(handshakes 127.0.0.1 40)
allowed=$("$PY" -c "import math,sys; print($RATE + math.ceil($seconds * $RATE) + 1)")
log "handshakes completed by the reconnecting client: $flood of 40 in $seconds s (allowed: $allowed)"
assert_ge "$flood" "$allowed" "the reconnecting client completes at most its burst and the refill"
assert_ge "$RATE" "$flood" "the reconnecting client completes its burst"
((allowed < 40)) || fail "the flood was too slow to show anything ($seconds s)"
stat_ge 30 encrypted.tls.rate_limited "the refused connections are counted"
# Others are not affected, nor is the same client once its bucket refilled.
assert_eq 192.0.2.1 "$(answer_of "$(_kdig "$TPORT" -b 127.0.0.2 +tls-ca="$CA_FILE" +tls-hostname="$FRONT_NAME" other.zone.example A)")" \
	"another source is answered during the flood"
sleep 1.2
assert_eq 192.0.2.1 "$(answer_of "$(kdig_tls "$TPORT" again.zone.example A)")" \
	"the flooding source is answered again a second later"
stop_pid "$DNSPROXY_PID" dnsproxy
