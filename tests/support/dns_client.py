#!/usr/bin/env python3
# tests/support/dns_client.py - scripted DNS clients for end-to-end tests (dnspython, stdlib threads).
#
#   dns_client.py pipeline --port P --count N [--first NAME] [--zone Z]
#       N queries written back to back on ONE TCP connection, then every answer read; prints JSON
#       {"answered": n, "order": [index of each answer in arrival order], "ids_ok": bool, "seconds": [per answer]}
#   dns_client.py load --port P --clients C --queries N [--tcp-share 0.5] [--zone Z] [--unique]
#       C concurrent clients send N queries in total (UDP and TCP mixed); prints JSON
#       {"sent": N, "answered": n, "wrong": n, "lost": n, "seconds": s, "qps": q}
#   dns_client.py same --port P --count N --name NAME
#       N concurrent UDP clients ask the same question at once; prints JSON {"answered": n}
#   dns_client.py trickle --port P --count N --min-gap-ms A --max-gap-ms B [--zone Z] [--budget-ms T]
#       N queries spaced A..B ms apart (seeded); prints JSON {"answered": n, "late": n, "max_ms": m}
#   dns_client.py hold --port P --name NAME --until FILE [--timeout S]
#       opens ONE TCP connection, asks NAME, prints "first RCODE" and waits (up to --timeout) until
#       FILE exists, then asks "again.NAME" on the same connection; prints JSON
#       {"first": rcode, "second": rcode or "none", "error": text when the connection failed}
#   dns_client.py one --port P --name NAME [--tcp] [--timeout S] [--edns] [--subnet A/N] [--nord] [--raw]
#       one query; prints JSON {"rcode": "NOERROR", "ms": elapsed, "answer": [...], "options": [codes in the answer's OPT],
#       "has_opt": bool, "tc": bool, "qr": bool, "rd": bool, "opcode": "QUERY", "id_ok": bool,
#       "question": "name as it came back, letter case kept" ("" without a question)}
#       --subnet adds an EDNS Client Subnet option, --nord clears RD; --raw (UDP) takes whatever
#       datagram comes back, without dnspython's check that it answers the query.
import argparse
import json
import os
import random
import socket
import sys
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype

from dns_wire import frame, recv_frame, shared_option


def make_query(name, rdtype="A", edns=False):
    q = dns.message.make_query(name, rdtype, use_edns=0 if edns else False)
    return q


def cmd_one(a):
    q = make_query(a.name, a.type, a.edns)
    if a.subnet:
        address, _, length = a.subnet.partition("/")
        q.use_edns(0, options=[dns.edns.ECSOption(address, int(length))])
    if a.nord:
        q.flags &= ~dns.flags.RD
    t0 = time.monotonic()
    try:
        if a.raw:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(a.timeout)
            s.sendto(q.to_wire(), ("127.0.0.1", a.port))
            wire, _ = s.recvfrom(65535)
            s.close()
            r = dns.message.from_wire(wire, ignore_trailing=True)
        elif a.tcp:
            r = dns.query.tcp(q, "127.0.0.1", port=a.port, timeout=a.timeout)
        else:
            r = dns.query.udp(q, "127.0.0.1", port=a.port, timeout=a.timeout)
    except Exception as e:  # noqa: BLE001 - reported as data
        print(json.dumps({"rcode": "none", "error": str(e), "ms": (time.monotonic() - t0) * 1000}))
        return
    ms = (time.monotonic() - t0) * 1000
    answers = [str(rd) for rrset in r.answer for rd in rrset]
    print(json.dumps({"rcode": dns.rcode.to_text(r.rcode()), "ms": ms, "answer": answers,
                      "has_opt": r.edns >= 0, "options": [int(o.otype) for o in r.options],
                      "tc": bool(r.flags & dns.flags.TC), "qr": bool(r.flags & dns.flags.QR),
                      "rd": bool(r.flags & dns.flags.RD), "opcode": dns.opcode.to_text(r.opcode()),
                      "id_ok": r.id == q.id,
                      "question": r.question[0].name.to_text() if r.question else ""}))


def cmd_pipeline(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    ids = {}
    names = []
    payload = b""
    for i in range(a.count):
        name = a.first if (i == 0 and a.first) else "p%d-%d.%s" % (i, random.randrange(1 << 30), a.zone)
        q = make_query(name)
        ids[q.id] = i
        names.append(name)
        payload += frame(q.to_wire())
    t0 = time.monotonic()
    s.sendall(payload)
    order = []
    seconds = []
    ok = True
    for _ in range(a.count):
        r = dns.message.from_wire(recv_frame(s))
        if r.id not in ids:
            ok = False
            continue
        order.append(ids[r.id])
        seconds.append(time.monotonic() - t0)
    s.close()
    print(json.dumps({"answered": len(order), "order": order, "ids_ok": ok, "seconds": seconds}))


def cmd_hold(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    result = {"first": "none", "second": "none"}

    def ask(name):
        s.sendall(frame(make_query(name).to_wire()))
        return dns.rcode.to_text(dns.message.from_wire(recv_frame(s)).rcode())

    try:
        result["first"] = ask(a.name)
        print("first " + result["first"], flush=True)
        deadline = time.monotonic() + a.timeout
        while not os.path.exists(a.until) and time.monotonic() < deadline:
            time.sleep(0.05)
        result["second"] = ask("again." + a.name)
    except Exception as e:  # noqa: BLE001 - reported as data
        result["error"] = str(e)
    s.close()
    print(json.dumps(result), flush=True)


def cmd_load(a):
    lock = threading.Lock()
    totals = {"answered": 0, "wrong": 0, "lost": 0}
    per_client = a.queries // a.clients
    rng = random.Random(7)

    def worker(idx):
        tcp = idx < int(a.clients * a.tcp_share)
        answered = wrong = lost = 0
        sock = None
        for i in range(per_client):
            name = ("u%d-%d.%s" % (idx, i, a.zone)) if a.unique else ("c%d.%s" % (i % 50, a.zone))
            q = make_query(name)
            try:
                if tcp:
                    if sock is None:
                        sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
                    r = dns.query.tcp(q, "127.0.0.1", port=a.port, timeout=a.timeout, sock=sock)
                else:
                    r = dns.query.udp(q, "127.0.0.1", port=a.port, timeout=a.timeout)
                if r.id == q.id and r.rcode() == 0 and r.answer:
                    answered += 1
                else:
                    wrong += 1
            except Exception:  # noqa: BLE001 - a lost query is what we count
                lost += 1
                if sock is not None:
                    sock.close()
                    sock = None
        if sock is not None:
            sock.close()
        with lock:
            totals["answered"] += answered
            totals["wrong"] += wrong
            totals["lost"] += lost

    _ = rng
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    sent = per_client * a.clients
    print(json.dumps({"sent": sent, **totals, "seconds": secs, "qps": sent / secs if secs else 0}))


def cmd_same(a):
    barrier = threading.Barrier(a.count)
    lock = threading.Lock()
    res = {"answered": 0}

    def worker():
        q = make_query(a.name)
        barrier.wait()
        try:
            r = dns.query.udp(q, "127.0.0.1", port=a.port, timeout=5)
            if r.id == q.id and r.answer:
                with lock:
                    res["answered"] += 1
        except Exception:  # noqa: BLE001
            pass

    threads = [threading.Thread(target=worker) for _ in range(a.count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(res))


def cmd_trickle(a):
    rng = random.Random(11)
    answered = late = 0
    worst = 0.0
    for i in range(a.count):
        if i:
            time.sleep(rng.uniform(a.min_gap_ms, a.max_gap_ms) / 1000.0)
        q = make_query("t%d-%d.%s" % (i, rng.randrange(1 << 30), a.zone))
        t0 = time.monotonic()
        try:
            r = dns.query.udp(q, "127.0.0.1", port=a.port, timeout=5)
            ms = (time.monotonic() - t0) * 1000
            worst = max(worst, ms)
            if r.answer:
                answered += 1
            if ms > a.budget_ms:
                late += 1
        except Exception:  # noqa: BLE001
            late += 1
    print(json.dumps({"answered": answered, "late": late, "max_ms": worst}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    port = shared_option("--port", type=int, required=True, help="the proxy's port on 127.0.0.1")
    zone = shared_option("--zone", default="zone.example", help="the zone the query names are made in")
    p = sub.add_parser("one", parents=[port])
    p.set_defaults(run=cmd_one)
    p.add_argument("--name", required=True)
    p.add_argument("--type", default="A")
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--edns", action="store_true")
    p.add_argument("--subnet", metavar="ADDRESS/LENGTH")
    p.add_argument("--nord", action="store_true")
    p.add_argument("--raw", action="store_true")
    p.add_argument("--timeout", type=float, default=6)
    p = sub.add_parser("pipeline", parents=[port, zone])
    p.set_defaults(run=cmd_pipeline)
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--first")
    p = sub.add_parser("load", parents=[port, zone])
    p.set_defaults(run=cmd_load)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--queries", type=int, default=10000)
    p.add_argument("--tcp-share", type=float, default=0.5)
    p.add_argument("--unique", action="store_true")
    p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("same", parents=[port])
    p.set_defaults(run=cmd_same)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--name", required=True)
    p = sub.add_parser("trickle", parents=[port, zone])
    p.set_defaults(run=cmd_trickle)
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--min-gap-ms", type=float, default=1500)
    p.add_argument("--max-gap-ms", type=float, default=2500)
    p.add_argument("--budget-ms", type=float, default=500)
    p = sub.add_parser("hold", parents=[port])
    p.set_defaults(run=cmd_hold)
    p.add_argument("--name", required=True)
    p.add_argument("--until", required=True)
    p.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    a.run(a)


if __name__ == "__main__":
    sys.exit(main())
