#!/usr/bin/env bash
# tests/e2e/test_case_and_pipelining.sh - with dnspython (kdig lower-cases names): the
# answer to MiXeD.ZoNe.ExAmPlE carries the client's ID and the question's name bytes exactly
# as sent (0x20, SPEC §4), over UDP and TCP; 100 queries pipelined on ONE TCP connection
# (all written, then all read) are all answered with matching IDs and questions.
source "$(dirname "$0")/lib.sh"
require_tool unbound unbound-control openssl ss
require_binary
"$PY" -c 'import dns.message' 2>/dev/null || skip "python3-dnspython is not installed for $PY (scripts/test installs it)"

start_test_unbound
start_proxy "$UPSTREAM"

cat >"$TEST_TMP/client.py" <<'PY'
import socket, struct, sys, time
import dns.flags, dns.message, dns.rcode, dns.rdatatype

port, mode = int(sys.argv[1]), sys.argv[2]
ADDR = ("127.0.0.1", port)

def question_bytes(wire):
    off = 12
    while wire[off] != 0:
        off += 1 + wire[off]
    return wire[12:off + 5]

def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(b), n))
        b += chunk
    return b

def check_case(transport, qname, qid):
    q = dns.message.make_query(qname, "A")
    q.id = qid
    wire = q.to_wire()
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(6)
        s.sendto(wire, ADDR)
        resp, _ = s.recvfrom(65535)
    else:
        s = socket.create_connection(ADDR, timeout=6)
        s.sendall(struct.pack("!H", len(wire)) + wire)
        (n,) = struct.unpack("!H", read_exact(s, 2))
        resp = read_exact(s, n)
    s.close()
    rid = struct.unpack("!H", resp[:2])[0]
    if rid != qid:
        sys.exit("%s: response ID %d, query ID %d" % (transport, rid, qid))
    if question_bytes(resp) != question_bytes(wire):
        sys.exit("%s: question bytes differ: sent %r, got %r" % (transport, question_bytes(wire), question_bytes(resp)))
    r = dns.message.from_wire(resp)
    addrs = [rd.address for rr in r.answer for rd in rr if rr.rdtype == dns.rdatatype.A]
    if r.rcode() != dns.rcode.NOERROR or addrs != ["192.0.2.1"]:
        sys.exit("%s: unexpected answer %s %s" % (transport, dns.rcode.to_text(r.rcode()), addrs))
    print("%s: ID %d and question %r came back as sent" % (transport, qid, qname))

def pipeline(count):
    s = socket.create_connection(ADDR, timeout=10)
    sent = {}
    out = b""
    for i in range(count):
        qname = "Pipe%d.ZoNe.example" % i
        q = dns.message.make_query(qname, "A")
        q.id = 1000 + 7 * i
        w = q.to_wire()
        sent[q.id] = question_bytes(w)
        out += struct.pack("!H", len(w)) + w
    s.sendall(out)
    got = {}
    deadline = time.monotonic() + 15
    while len(got) < count:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        (n,) = struct.unpack("!H", read_exact(s, 2))
        resp = read_exact(s, n)
        rid = struct.unpack("!H", resp[:2])[0]
        if rid not in sent:
            sys.exit("pipeline: answer with unknown ID %d" % rid)
        if rid in got:
            sys.exit("pipeline: two answers for ID %d" % rid)
        if question_bytes(resp) != sent[rid]:
            sys.exit("pipeline: ID %d answered for another question: %r" % (rid, question_bytes(resp)))
        r = dns.message.from_wire(resp)
        addrs = [rd.address for rr in r.answer for rd in rr if rr.rdtype == dns.rdatatype.A]
        if addrs != ["192.0.2.1"]:
            sys.exit("pipeline: ID %d got %s %s" % (rid, dns.rcode.to_text(r.rcode()), addrs))
        got[rid] = True
    s.close()
    print("pipeline: %d queries on one TCP connection, %d answers with matching IDs" % (count, len(got)))

if mode == "case":
    check_case("udp", "MiXeD.ZoNe.ExAmPlE", 0x1234)
    check_case("tcp", "mIxEd2.zOnE.eXaMpLe", 0xBEEF)
    # Same name in other spellings: a cache hit must still echo each client's own case.
    check_case("udp", "MIXED.zone.EXAMPLE", 0x0101)
    check_case("tcp", "mixed.ZONE.example", 0xFFFE)
else:
    pipeline(int(sys.argv[3]))
PY

out=$("$PY" "$TEST_TMP/client.py" "$PROXY_PORT" case 2>&1) || fail "0x20 case / ID check failed: $out"
pass "ID and name case preserved over UDP and TCP, also on cache hits"
log "$out"
out=$("$PY" "$TEST_TMP/client.py" "$PROXY_PORT" pipeline 100 2>&1) || fail "pipelining check failed: $out"
pass "100 queries pipelined on one TCP connection all answered with matching IDs"
log "$out"

stop_pid "$DNSPROXY_PID" dnsproxy
