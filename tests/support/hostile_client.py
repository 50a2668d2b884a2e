#!/usr/bin/env python3
# tests/support/hostile_client.py - misbehaving DNS clients for the hardening tests (standard library only).
#
#   hostile_client.py garbage --port P [--datagrams 10000] [--frames 1000] [--seed S]
#       random and malformed UDP datagrams, then TCP connections carrying truncated, garbled and
#       zero-length frames; prints JSON {"datagrams", "frames", "udp_replies", "tcp_replies", "probes": {...}}
#       where probes are fixed cases and what came back: short (<12 octets) -> none, answer (QR=1)
#       -> none, bad_question -> FORMERR, opcode_status -> NOTIMP
#   hostile_client.py hold --port P --count N [--trickle-ms T] [--status FILE] [--max-seconds S]
#       opens N TCP connections and keeps them open: the even ones silent, the odd ones sending
#       one octet of a never-ending frame every T ms (slowloris; 0 = all silent). Rewrites FILE
#       with {"opened", "closed", "close_after": [seconds, ...]} and exits when all are closed.
#   hostile_client.py noread --port P [--name big.example] [--queries 6000] [--max-seconds S]
#       one TCP connection with a tiny receive buffer that writes many queries and never reads;
#       prints JSON {"sent", "closed_after"} once the proxy has closed it (or null on deadline).
#   hostile_client.py burst --port P --count N [--timeout S] [--zone Z]
#       N UDP queries for distinct names from one socket, 20 at a time 2 ms apart (--no-pace: all
#       at once, so the kernel drops what the socket queues cannot hold); prints JSON
#       {"sent", "rcodes": {name: n}, "lost", "max_ms", "by_rcode_max_ms": {name: ms}}
#   hostile_client.py keep --port P --count N [--source IP] [--status FILE] [--go FILE] [--name N]
#       opens N TCP connections from IP (127.0.0.1 by default), one after another, and keeps them
#       silent, rewriting FILE with {"opened", "closed_early": [index, ...]} (reset at connect or closed
#       by the proxy while silent); once the file GO exists (at once without --go), sends one A query for NAME (index
#       prepended) on every connection and prints JSON {"opened", "closed_early", "answered",
#       "rcodes": {name: n}}: a connection closed or reset before its answer counts as "closed".
#   hostile_client.py pipeflood --port P --connections N [--name big.example] [--bytes 16384]
#       [--read] [--hold-seconds S] [--status FILE]
#       N TCP connections (4 KiB receive buffers) each write BYTES of pipelined TXT queries for NAME at
#       once. Without --read they never read: they stay open S seconds or until the proxy closes
#       them, FILE is rewritten with {"connections", "queries", "sent"} once everything is sent. With
#       --read each connection reads all its answers (S seconds at most). Prints JSON {"connections",
#       "queries" (per connection), "answers" (all connections), "closed" (by the proxy), "seconds"}.
#   hostile_client.py chain --port P [--source IP] [--count N] [--inflight K] [--tcp M] [--flat]
#           [--chain C] [--records R] [--probe-source IP --probe-name NAME] [--timeout S]
#       the compression-pointer attack (issue 15): a query whose first answer RR holds in its RDATA
#       a chain of C pointers, each to the one before (the first to the question name), followed
#       by R records owned by a pointer to the chain's end, so a reader without a jump limit walks
#       C pointers R times (default 8,000 x 4,000 in 64,048 octets). --flat sends the control:
#       the same size and records, the RDATA zeros and every owner a pointer to the question.
#       N messages over UDP from --source, K at a time (default 1; each batch waits for its
#       answers), then M over one TCP connection from --source. With --probe-name, a second
#       thread asks NAME (type A) from --probe-source every 20 ms while the attack runs. Prints
#       JSON {"udp": {"sent", "rcodes", "max_ms", "median_ms"}, "tcp": {...}, "probe": {...}}.
#   hostile_client.py chain --write FILE [--flat] [--chain C] [--records R]
#       writes one such message to FILE (fuzz corpus, parse benchmark) and exits.
import argparse
import json
import os
import random
import selectors
import socket
import struct
import sys
import threading
import time

from dns_wire import frame, reap_closed, recv_frame, shared_option, split_frames, write_json

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def qname_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def make_query(name, qid, qtype=1, flags=0x0100):
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + qname_wire(name) + struct.pack("!HH", qtype, 1)


def udp_ask(port, payload, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return data
    except socket.timeout:
        return None
    finally:
        s.close()


def rcode_of(reply):
    if reply is None:
        return "none"
    if len(reply) < 12:
        return "short"
    return RCODES.get(reply[3] & 0x0F, str(reply[3] & 0x0F))


def cmd_garbage(a):
    rnd = random.Random(a.seed)
    good = make_query("garbage.zone.example", 0x1234)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    udp_replies = 0
    for i in range(a.datagrams):
        kind = i % 5
        if kind == 0:
            payload = os.urandom(rnd.randint(0, 600))
        elif kind == 1:
            payload = os.urandom(rnd.randint(0, 11))
        elif kind == 2:  # a real query cut anywhere
            payload = good[:rnd.randint(0, len(good) - 1)]
        elif kind == 3:  # a real query with random octets flipped
            b = bytearray(good)
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            payload = bytes(b)
        else:  # a header with random counts and a random tail
            payload = struct.pack("!HHHHHH", rnd.randrange(65536), rnd.randrange(65536), rnd.randrange(4),
                                  rnd.randrange(65536), rnd.randrange(65536), rnd.randrange(65536))
            payload += os.urandom(rnd.randint(0, 64))
        try:
            sock.sendto(payload, ("127.0.0.1", a.port))
        except BlockingIOError:
            time.sleep(0.001)
        if i % 200 == 199:
            # Keep the replies from piling up in our own receive buffer; let the proxy breathe.
            while True:
                try:
                    sock.recvfrom(65535)
                    udp_replies += 1
                except BlockingIOError:
                    break
            time.sleep(0.002)
    sock.close()

    tcp_replies = 0
    for i in range(a.frames):
        kind = i % 5
        if kind == 0:  # prefix promises more than is sent, then close
            data = struct.pack("!H", len(good) + rnd.randint(1, 100)) + good
        elif kind == 1:  # zero-length frame
            data = b"\x00\x00" + struct.pack("!H", len(good)) + good
        elif kind == 2:  # garbled body
            body = os.urandom(rnd.randint(1, 300))
            data = struct.pack("!H", len(body)) + body
        elif kind == 3:  # half a prefix
            data = b"\x01"
        else:  # valid frame then a truncated one
            data = struct.pack("!H", len(good)) + good + struct.pack("!H", 300) + os.urandom(10)
        try:
            c = socket.create_connection(("127.0.0.1", a.port), timeout=2)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            c.settimeout(0.5 if kind in (2, 4) else 0.05)
            try:
                while c.recv(65535):
                    tcp_replies += 1
            except (socket.timeout, ConnectionError):
                pass
            c.close()
        except OSError as e:
            print("tcp frame %d: %s" % (i, e), file=sys.stderr)

    probes = {
        "short": rcode_of(udp_ask(a.port, b"\x12\x34\x01\x00\x00")),
        "answer": rcode_of(udp_ask(a.port, struct.pack("!HHHHHH", 7, 0x8180, 1, 0, 0, 0) + good[12:])),
        "bad_question": rcode_of(udp_ask(a.port, struct.pack("!HHHHHH", 8, 0x0100, 1, 0, 0, 0) + b"\x05ab")),
        "opcode_status": rcode_of(udp_ask(a.port, make_query("zone.example", 9, flags=0x1000))),
    }
    print(json.dumps({"datagrams": a.datagrams, "frames": a.frames, "udp_replies": udp_replies,
                      "tcp_replies": tcp_replies, "probes": probes}))


def cmd_hold(a):
    sel = selectors.DefaultSelector()
    conns = []
    start = time.monotonic()
    for i in range(a.count):
        c = socket.create_connection(("127.0.0.1", a.port), timeout=5)
        c.setblocking(False)
        conns.append({"sock": c, "trickle": a.trickle_ms > 0 and i % 2 == 1, "open": True, "opened": time.monotonic()})
        sel.register(c, selectors.EVENT_READ, i)
    status = {"opened": len(conns), "closed": 0, "close_after": [], "closed_index": []}
    write_json(a.status, status)
    next_trickle = time.monotonic()
    deadline = start + a.max_seconds
    while status["closed"] < len(conns) and time.monotonic() < deadline:
        for i in reap_closed(sel, conns, status, 0.05):
            status["closed_index"].append(i)
            write_json(a.status, status)
        if a.trickle_ms > 0 and time.monotonic() >= next_trickle:
            next_trickle = time.monotonic() + a.trickle_ms / 1000.0
            for conn in conns:
                if conn["open"] and conn["trickle"]:
                    try:
                        # The first octet of the prefix is 0xff: the frame never completes.
                        conn["sock"].send(b"\xff")
                    except OSError:
                        pass
    write_json(a.status, status)
    print(json.dumps(status))


def cmd_noread(a):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(("127.0.0.1", a.port))
    c.setblocking(False)
    start = time.monotonic()
    sent = 0
    closed_after = None
    pending = b""
    deadline = start + a.max_seconds
    while time.monotonic() < deadline:
        if sent < a.queries and not pending:
            q = make_query(a.name, sent & 0xFFFF, qtype=16)
            pending = frame(q)
            sent += 1
        if pending:
            try:
                n = c.send(pending)
                pending = pending[n:]
                continue
            except BlockingIOError:
                pass
            except OSError:
                closed_after = time.monotonic() - start
                break
        # Never read an answer: only look whether the proxy has closed the connection.
        if closed_by_peer(c):
            closed_after = time.monotonic() - start
            break
        time.sleep(0.02)
    print(json.dumps({"sent": sent, "closed_after": None if closed_after is None else round(closed_after, 3)}))


def closed_by_peer(c):
    # The answers sit unread in our receive buffer, so EOF cannot be seen by reading, and the
    # proxy's FIN waits behind the unread answers. The proxy's end of the connection tells:
    # once it has closed, that socket leaves ESTABLISHED (FIN_WAIT1, orphaned) or is gone.
    ours = c.getsockname()[1]
    try:
        theirs = c.getpeername()[1]
    except OSError:  # ENOTCONN: the proxy reset the connection, closed without a doubt
        return True
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            local, remote, state = parts[1], parts[2], parts[3]
            if int(local.split(":")[1], 16) == theirs and int(remote.split(":")[1], 16) == ours:
                return state != "01"
    return True


def cmd_burst(a):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    sent_at = {}
    base = random.randrange(1 << 20)
    for i in range(a.count):
        qid = i & 0xFFFF
        q = make_query("b%d-%d.%s" % (base, i, a.zone), qid)
        while True:
            try:
                sock.sendto(q, ("127.0.0.1", a.port))
                break
            except BlockingIOError:
                time.sleep(0.001)
        sent_at[qid] = time.monotonic()
        if a.pace and i % 20 == 19:
            # A datagram socket's receive queue holds a few hundred small datagrams; unpaced, the
            # kernel would drop the rest of a 1,000-query burst before the proxy sees them.
            time.sleep(0.002)
    rcodes = {}
    by_rcode_max = {}
    max_ms = 0.0
    got = 0
    deadline = time.monotonic() + a.timeout
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    while got < a.count and time.monotonic() < deadline:
        if not sel.select(timeout=0.1):
            continue
        while True:
            try:
                data, _ = sock.recvfrom(65535)
            except BlockingIOError:
                break
            if len(data) < 12:
                continue
            qid = struct.unpack("!H", data[:2])[0]
            t0 = sent_at.pop(qid, None)
            if t0 is None:
                continue
            got += 1
            ms = (time.monotonic() - t0) * 1000
            rc = rcode_of(data)
            rcodes[rc] = rcodes.get(rc, 0) + 1
            by_rcode_max[rc] = round(max(by_rcode_max.get(rc, 0), ms), 1)
            max_ms = max(max_ms, ms)
    print(json.dumps({"sent": a.count, "rcodes": rcodes, "lost": a.count - got, "max_ms": round(max_ms, 1),
                      "by_rcode_max_ms": by_rcode_max}))


def cmd_keep(a):
    conns = []
    status = {"opened": 0, "closed_early": []}
    for i in range(a.count):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((a.source, 0))
        c.settimeout(5)
        try:
            c.connect(("127.0.0.1", a.port))
            c.setblocking(False)
            status["opened"] += 1
        except ConnectionError:  # reset by the proxy before connect() returned
            status["closed_early"].append(i)
        conns.append(c)
    write_json(a.status, status)
    sel = selectors.DefaultSelector()
    for i, c in enumerate(conns):
        if i not in status["closed_early"]:
            sel.register(c, selectors.EVENT_READ, i)
    deadline = time.monotonic() + a.max_seconds
    while a.go and not os.path.exists(a.go) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.05):
            try:
                data = key.fileobj.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                status["closed_early"].append(key.data)
                write_json(a.status, status)
    sel.close()
    rcodes = {}
    answered = 0
    for i, c in enumerate(conns):
        c.setblocking(True)
        c.settimeout(3)
        rc = "closed"
        try:
            q = make_query("k%d.%s" % (i, a.name), i)
            c.sendall(frame(q))
            reply = recv_frame(c)
            if len(reply) >= 12:
                rc = rcode_of(reply)
                answered += 1
        except socket.timeout:
            rc = "none"
        except OSError:
            pass
        rcodes[rc] = rcodes.get(rc, 0) + 1
        c.close()
    status.update({"answered": answered, "rcodes": rcodes})
    print(json.dumps(status))


def cmd_pipeflood(a):
    q = make_query(a.name, 0, qtype=16)
    per = max(1, a.bytes // (len(q) + 2))
    batch = b"".join(frame(struct.pack("!H", i & 0xFFFF) + q[2:]) for i in range(per))
    start = time.monotonic()
    conns = []
    for _ in range(a.connections):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if not a.read:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", a.port))
        c.setblocking(False)
        conns.append({"sock": c, "out": batch, "in": b"", "answers": 0, "open": True})
    deadline = start + a.hold_seconds
    sent_reported = False
    next_check = 0
    while time.monotonic() < deadline:
        busy = False
        # Reading /proc/net/tcp for every connection is not free: twice a second is enough.
        check_closed = not a.read and time.monotonic() >= next_check
        if check_closed:
            next_check = time.monotonic() + 0.5
        for conn in conns:
            if not conn["open"]:
                continue
            c = conn["sock"]
            if conn["out"]:
                busy = True
                try:
                    n = c.send(conn["out"])
                    conn["out"] = conn["out"][n:]
                except BlockingIOError:
                    pass
                except OSError:
                    conn["open"] = False
                    continue
            if a.read:
                try:
                    data = c.recv(65536)
                    if not data:
                        conn["open"] = False
                        continue
                    conn["in"] += data
                except BlockingIOError:
                    pass
                except OSError:
                    conn["open"] = False
                    continue
                answers, conn["in"] = split_frames(conn["in"])
                conn["answers"] += len(answers)
                if conn["answers"] < per:
                    busy = True
            elif check_closed and not conn["out"] and closed_by_peer(c):
                conn["open"] = False
        if not busy and not sent_reported:
            sent_reported = True
            write_json(a.status, {"connections": len(conns), "queries": per, "sent": True})
        if a.read and not busy:
            break
        if not any(conn["open"] for conn in conns):
            break
        time.sleep(0.005 if busy else 0.05)
    for conn in conns:
        conn["sock"].close()
    print(json.dumps({"connections": len(conns), "queries": per, "answers": sum(c["answers"] for c in conns),
                      "closed": sum(1 for c in conns if not c["open"]),
                      "seconds": round(time.monotonic() - start, 3)}))


def chain_message(qid, chain=8000, records=4000, flat=False, name="chain.zone.example"):
    question = qname_wire(name) + struct.pack("!HH", 1, 1)
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 1 + records, 0, 0)
    rdata_at = 12 + len(question) + 2 + 10  # after the first RR's owner pointer and fixed part
    last = rdata_at + 2 * (chain - 1)
    if last >= 0x4000:
        raise ValueError("a chain of %d pointers does not fit the 14-bit pointer range" % chain)
    if flat:
        rdata = bytes(2 * chain)
        owner = 0xC00C
    else:
        # Pointer i points at pointer i-1; pointer 0 at the question name (offset 12).
        rdata = b"".join(struct.pack("!H", 0xC000 | (12 if i == 0 else rdata_at + 2 * (i - 1))) for i in range(chain))
        owner = 0xC000 | last
    first = struct.pack("!HHHIH", 0xC00C, 10, 1, 0, len(rdata)) + rdata  # TYPE NULL: opaque RDATA
    rest = struct.pack("!HHHIH", owner, 1, 1, 0, 0) * records  # A records with empty RDATA
    msg = header + question + first + rest
    if len(msg) > 65535:
        raise ValueError("message of %d octets is too large" % len(msg))
    return msg


def bound_udp(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    return s


def summary(times, rcodes, sent):
    ordered = sorted(times)
    return {"sent": sent, "rcodes": rcodes, "max_ms": round(ordered[-1], 1) if ordered else None,
            "median_ms": round(ordered[len(ordered) // 2], 1) if ordered else None}


def cmd_chain(a):
    if a.write:
        with open(a.write, "wb") as f:
            f.write(chain_message(0x1500, a.chain, a.records, a.flat))
        return
    stop = threading.Event()
    probe = {"times": [], "rcodes": {}, "sent": 0}

    def run_probe():
        s = bound_udp(a.probe_source)
        s.settimeout(2.0)
        qid = 0
        while not stop.is_set():
            qid = (qid + 1) & 0xFFFF
            t0 = time.monotonic()
            s.sendto(make_query(a.probe_name, qid), ("127.0.0.1", a.port))
            probe["sent"] += 1
            rc = "none"
            try:
                while True:
                    data, _ = s.recvfrom(65535)
                    if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                        rc = rcode_of(data)
                        probe["times"].append((time.monotonic() - t0) * 1000)
                        break
            except socket.timeout:
                pass
            probe["rcodes"][rc] = probe["rcodes"].get(rc, 0) + 1
            stop.wait(0.02)
        s.close()

    prober = None
    if a.probe_name:
        prober = threading.Thread(target=run_probe)
        prober.start()
    udp = {"times": [], "rcodes": {}}
    s = bound_udp(a.source)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(a.timeout)
    template = chain_message(0, a.chain, a.records, a.flat)
    for first in range(0, a.count, a.inflight):
        # --inflight messages at a time, then their answers (in any order) before the next ones.
        sent_at = {}
        for i in range(first, min(first + a.inflight, a.count)):
            qid = 0x1600 + i
            s.sendto(struct.pack("!H", qid) + template[2:], ("127.0.0.1", a.port))
            sent_at[qid] = time.monotonic()
        deadline = time.monotonic() + a.timeout
        while sent_at and time.monotonic() < deadline:
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            t0 = sent_at.pop(struct.unpack("!H", data[:2])[0], None) if len(data) >= 12 else None
            if t0 is None:
                continue
            rc = rcode_of(data)
            udp["times"].append((time.monotonic() - t0) * 1000)
            udp["rcodes"][rc] = udp["rcodes"].get(rc, 0) + 1
        if sent_at:
            udp["rcodes"]["none"] = udp["rcodes"].get("none", 0) + len(sent_at)
    s.close()
    tcp = {"times": [], "rcodes": {}}
    if a.tcp:
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((a.source, 0))
        c.settimeout(a.timeout)
        try:
            c.connect(("127.0.0.1", a.port))
            for i in range(a.tcp):
                msg = chain_message(0x1700 + i, a.chain, a.records, a.flat)
                t0 = time.monotonic()
                c.sendall(frame(msg))
                rc = "none"
                try:
                    reply = recv_frame(c)
                    rc = rcode_of(reply)
                    tcp["times"].append((time.monotonic() - t0) * 1000)
                except (socket.timeout, ConnectionError):
                    rc = "none"
                tcp["rcodes"][rc] = tcp["rcodes"].get(rc, 0) + 1
        except OSError as e:
            tcp["rcodes"]["error: %s" % e] = 1
        finally:
            c.close()
    stop.set()
    if prober:
        prober.join()
    out = {"udp": summary(udp["times"], udp["rcodes"], a.count), "tcp": summary(tcp["times"], tcp["rcodes"], a.tcp)}
    if a.probe_name:
        out["probe"] = summary(probe["times"], probe["rcodes"], probe["sent"])
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    # Every command but chain (which may only --write a file) talks to the proxy on --port.
    port = shared_option("--port", type=int, required=True, help="the proxy's port on 127.0.0.1")
    count = shared_option("--count", type=int, required=True, help="connections or queries")
    status = shared_option("--status", help="JSON file rewritten as the attack progresses")
    g = sub.add_parser("garbage", parents=[port])
    g.set_defaults(run=cmd_garbage)
    g.add_argument("--datagrams", type=int, default=10000)
    g.add_argument("--frames", type=int, default=1000)
    g.add_argument("--seed", type=int, default=8)
    h = sub.add_parser("hold", parents=[port, count, status])
    h.set_defaults(run=cmd_hold)
    h.add_argument("--trickle-ms", type=int, default=0)
    h.add_argument("--max-seconds", type=float, default=60)
    n = sub.add_parser("noread", parents=[port])
    n.set_defaults(run=cmd_noread)
    n.add_argument("--name", default="big.example")
    n.add_argument("--queries", type=int, default=6000)
    n.add_argument("--max-seconds", type=float, default=20)
    b = sub.add_parser("burst", parents=[port, count])
    b.set_defaults(run=cmd_burst)
    b.add_argument("--timeout", type=float, default=10)
    b.add_argument("--zone", default="zone.example")
    b.add_argument("--no-pace", dest="pace", action="store_false", help="send without any pause")
    k = sub.add_parser("keep", parents=[port, count, status])
    k.set_defaults(run=cmd_keep)
    k.add_argument("--source", default="127.0.0.1")
    k.add_argument("--go")
    k.add_argument("--name", default="zone.example")
    k.add_argument("--max-seconds", type=float, default=30)
    p = sub.add_parser("pipeflood", parents=[port, status])
    p.set_defaults(run=cmd_pipeflood)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--name", default="big.example")
    p.add_argument("--bytes", type=int, default=16384)
    p.add_argument("--read", action="store_true")
    p.add_argument("--hold-seconds", type=float, default=10)
    c = sub.add_parser("chain")
    c.set_defaults(run=cmd_chain)
    c.add_argument("--port", type=int)
    c.add_argument("--source", default="127.0.0.1")
    c.add_argument("--count", type=int, default=40)
    c.add_argument("--tcp", type=int, default=0)
    c.add_argument("--inflight", type=int, default=1, help="UDP messages sent before waiting for their answers")
    c.add_argument("--flat", action="store_true", help="the control: same size, no pointer chain")
    c.add_argument("--chain", type=int, default=8000)
    c.add_argument("--records", type=int, default=4000)
    c.add_argument("--probe-source", default="127.0.0.1")
    c.add_argument("--probe-name")
    c.add_argument("--timeout", type=float, default=5)
    c.add_argument("--write")
    a = ap.parse_args()
    if a.cmd == "chain" and not a.write and a.port is None:
        ap.error("chain needs --port or --write")
    a.run(a)


if __name__ == "__main__":
    main()
