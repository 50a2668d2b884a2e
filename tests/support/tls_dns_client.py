#!/usr/bin/env python3
# tests/support/tls_dns_client.py - scripted DNS-over-TLS clients (RFC 7858) for the end-to-end
# tests of the proxy's encrypted listeners (dnspython + the standard library's ssl). Every
# connection verifies the server against --ca and --hostname and offers ALPN "dot".
#
#   tls_dns_client.py one --port P --ca CA --hostname H --name NAME [--type A] [--pad N] [--keepalive]
#       one query on a new connection; --pad N pads the query to N-octet blocks (RFC 7830/8467),
#       --keepalive sends an empty edns-tcp-keepalive option (RFC 7828). Prints JSON
#       {"rcode", "answer": [...], "length": octets of the answer message (without the two-octet
#       length prefix), "padding": octets of the answer's padding option or null, "keepalive":
#       the answer's keepalive timeout in units of 100 ms, "none" (option without a value) or null,
#       "options": [option codes in the answer's OPT], "id_ok", "alpn", "tls"}
#   tls_dns_client.py pipeline --port P --ca CA --hostname H --count N [--zone Z] [--pad N]
#       N queries for distinct names written at once on ONE connection, then every answer read
#       and matched by message ID; prints JSON {"sent", "answered", "ids_ok", "questions_ok",
#       "rcodes": {rcode: n}, "lengths": [answer lengths], "out_of_order": bool, "seconds"}
#   tls_dns_client.py hold --port P --ca CA --hostname H --name NAME --until FILE [--timeout S]
#       opens ONE connection, asks NAME, prints "first RCODE" and waits (up to --timeout) until FILE
#       exists, then asks "again.NAME" on the same connection; prints JSON
#       {"first", "second" (rcode or "none"), "error": text when the connection failed}
#   tls_dns_client.py idle --port P --ca CA --hostname H --count N --status FILE [--max-seconds S]
#       N connections opened one after another, each completing its handshake and one query, then
#       kept silent; rewrites FILE with {"opened", "closed", "closed_index": [...], "close_after":
#       [seconds from the connection's answer to its close by the server, ...]} and exits when all
#       are closed or after S seconds.
#   tls_dns_client.py slowhello --port P --count N [--trickle-ms T] [--max-seconds S]
#       N connections that each send a real ClientHello one octet every T ms (slowloris on the
#       handshake: at 200 ms an octet it would take over a minute); prints JSON {"opened",
#       "closed", "close_after": [seconds from connect to the server's close, ...], "hello_octets",
#       "max_sent": octets of its ClientHello the longest-lived connection had sent} when all are
#       closed by the server or after S seconds.
import argparse
import json
import os
import random
import selectors
import socket
import ssl
import struct
import sys
import time

import dns.edns
import dns.message
import dns.rcode

from dns_wire import frame, reap_closed, recv_frame

PADDING = 12
KEEPALIVE = 11


def connect(a, timeout=5.0):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(["dot"])
    raw = socket.create_connection(("127.0.0.1", a.port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=a.hostname)


def make_query(name, rdtype="A", pad=0, keepalive=False):
    options = [dns.edns.GenericOption(KEEPALIVE, b"")] if keepalive else []
    if pad or options:
        return dns.message.make_query(name, rdtype, use_edns=0, options=options, pad=pad)
    return dns.message.make_query(name, rdtype, use_edns=False)


def option_fields(reply):
    codes = [o.otype for o in reply.options]
    padding = keepalive = None
    for o in reply.options:
        data = o.to_wire() if hasattr(o, "to_wire") else b""
        if o.otype == PADDING:
            padding = len(data or b"")
        elif o.otype == KEEPALIVE:
            keepalive = struct.unpack("!H", data)[0] if data and len(data) == 2 else "none"
    return codes, padding, keepalive


def rdata_texts(reply):
    return [rd.to_text() for rrset in reply.answer for rd in rrset]


def cmd_one(a):
    s = connect(a)
    q = make_query(a.name, a.type, a.pad, a.keepalive)
    s.sendall(frame(q.to_wire()))
    wire = recv_frame(s)
    reply = dns.message.from_wire(wire)
    codes, padding, keepalive = option_fields(reply)
    print(json.dumps({"rcode": dns.rcode.to_text(reply.rcode()), "answer": rdata_texts(reply),
                      "length": len(wire), "padding": padding, "keepalive": keepalive,
                      "options": [int(c) for c in codes], "id_ok": reply.id == q.id,
                      "alpn": s.selected_alpn_protocol(), "tls": s.version()}))
    s.close()


def cmd_pipeline(a):
    s = connect(a, timeout=10.0)
    queries = {}
    ids = random.sample(range(1, 65536), a.count)
    out = b""
    for i, qid in enumerate(ids):
        q = make_query("p%d-%d.%s" % (i, os.getpid(), a.zone), "A", a.pad)
        q.id = qid
        queries[qid] = (i, q)
        out += frame(q.to_wire())
    t0 = time.monotonic()
    s.sendall(out)
    seen, order, lengths, rcodes = set(), [], [], {}
    questions_ok = True
    try:
        while len(seen) < a.count:
            wire = recv_frame(s)
            reply = dns.message.from_wire(wire)
            lengths.append(len(wire))
            rc = dns.rcode.to_text(reply.rcode())
            rcodes[rc] = rcodes.get(rc, 0) + 1
            if reply.id not in queries or reply.id in seen:
                questions_ok = False
                continue
            seen.add(reply.id)
            i, q = queries[reply.id]
            order.append(i)
            questions_ok = questions_ok and reply.question == q.question
    except (OSError, ConnectionError):
        pass
    print(json.dumps({"sent": a.count, "answered": len(seen), "ids_ok": seen == set(queries),
                      "questions_ok": questions_ok, "rcodes": rcodes, "lengths": lengths,
                      "out_of_order": order != sorted(order),
                      "seconds": round(time.monotonic() - t0, 3)}))


def ask(s, name):
    q = make_query(name)
    s.sendall(frame(q.to_wire()))
    reply = dns.message.from_wire(recv_frame(s))
    return dns.rcode.to_text(reply.rcode()) if reply.id == q.id else "wrong-id"


def cmd_hold(a):
    result = {"first": "none", "second": "none"}
    try:
        s = connect(a, timeout=a.timeout)
        result["first"] = ask(s, a.name)
        print("first %s" % result["first"], flush=True)
        deadline = time.monotonic() + a.timeout
        while not os.path.exists(a.until) and time.monotonic() < deadline:
            time.sleep(0.05)
        result["second"] = ask(s, "again." + a.name)
    except (OSError, ConnectionError, ssl.SSLError) as e:
        result["error"] = repr(e)
        print("first %s" % result["first"], flush=True)
    print(json.dumps(result), flush=True)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def cmd_idle(a):
    sel = selectors.DefaultSelector()
    conns = []
    status = {"opened": 0, "closed": 0, "closed_index": [], "close_after": []}
    answered = []
    for i in range(a.count):
        s = connect(a)
        ask(s, "idle%d.%s" % (i, a.zone))
        answered.append(time.monotonic())
        s.setblocking(False)
        conns.append(s)
        sel.register(s, selectors.EVENT_READ, i)
        status["opened"] += 1
    write_json(a.status, status)
    deadline = time.monotonic() + a.max_seconds
    while status["closed"] < len(conns) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.05):
            try:
                data = key.fileobj.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                status["closed"] += 1
                status["closed_index"].append(key.data)
                status["close_after"].append(round(time.monotonic() - answered[key.data], 3))
                write_json(a.status, status)
    write_json(a.status, status)
    print(json.dumps(status))


def client_hello():
    """The first flight of a TLS client (its ClientHello record), made with memory BIOs."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["dot"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="front.example")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def cmd_slowhello(a):
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(a.count):
        c = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        c.setblocking(False)
        conns.append({"sock": c, "hello": client_hello(), "sent": 0, "open": True, "opened": time.monotonic()})
        sel.register(c, selectors.EVENT_READ, i)
    status = {"opened": len(conns), "closed": 0, "close_after": [], "hello_octets": len(conns[0]["hello"]),
              "max_sent": 0}
    deadline = time.monotonic() + a.max_seconds
    next_octet = time.monotonic()
    while status["closed"] < len(conns) and time.monotonic() < deadline:
        for i in reap_closed(sel, conns, status, 0.02):
            status["max_sent"] = max(status["max_sent"], conns[i]["sent"])
        if time.monotonic() >= next_octet:
            next_octet = time.monotonic() + a.trickle_ms / 1000.0
            for conn in conns:
                if conn["open"] and conn["sent"] < len(conn["hello"]) - 1:
                    try:
                        conn["sent"] += conn["sock"].send(conn["hello"][conn["sent"]:conn["sent"] + 1])
                    except OSError:
                        pass
    status["max_sent"] = max([status["max_sent"]] + [c["sent"] for c in conns if c["open"]])
    print(json.dumps(status))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, required=True)
    common.add_argument("--ca", required=True)
    common.add_argument("--hostname", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("one", parents=[common])
    o.add_argument("--name", required=True)
    o.add_argument("--type", default="A")
    o.add_argument("--pad", type=int, default=0)
    o.add_argument("--keepalive", action="store_true")
    p = sub.add_parser("pipeline", parents=[common])
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--zone", default="zone.example")
    p.add_argument("--pad", type=int, default=0)
    h = sub.add_parser("hold", parents=[common])
    h.add_argument("--name", required=True)
    h.add_argument("--until", required=True)
    h.add_argument("--timeout", type=float, default=30)
    i = sub.add_parser("idle", parents=[common])
    i.add_argument("--count", type=int, required=True)
    i.add_argument("--status", required=True)
    i.add_argument("--zone", default="zone.example")
    i.add_argument("--max-seconds", type=float, default=30)
    w = sub.add_parser("slowhello")
    w.add_argument("--port", type=int, required=True)
    w.add_argument("--count", type=int, default=10)
    w.add_argument("--trickle-ms", type=int, default=200)
    w.add_argument("--max-seconds", type=float, default=30)
    a = ap.parse_args()
    {"one": cmd_one, "pipeline": cmd_pipeline, "hold": cmd_hold, "idle": cmd_idle,
     "slowhello": cmd_slowhello}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
