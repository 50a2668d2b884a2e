#!/usr/bin/env python3
# tests/support/dot_server.py - a small scriptable DNS-over-TLS server (RFC 7858) for fault tests.
#
# unbound cannot close after N queries, go silent, delay one name or count resumed
# handshakes; this can. Standard library only (asyncio + ssl).
#
#   python3 dot_server.py --port P --cert C --key K [--host 127.0.0.1] [--tls-version 1.2|1.3]
#       [--close-after N] [--idle-close-ms T] [--silent-after N] [--delay NAME=MS ...]
#       [--keepalive-ms T] [--fault KIND [--fault-after N] [--fault-every M]] [--stats FILE]
#
# Answers: every A query gets 192.0.2.1 TTL 300; names under nx.example. get NXDOMAIN; other
# types NOERROR/NODATA. The question is echoed byte for byte, ID as received, RD copied, RA
# set, an EDNS OPT record in the query is echoed back (its options too, unless --keepalive-ms
# is given, then the server's own edns-tcp-keepalive option replaces them). Each query is
# answered by its own task, so --delay makes answers go out of order on one connection.
#
# --close-after N: close a connection after answering N queries on it.
# --idle-close-ms T: close a connection that sent no query for T ms.
# --silent-after N: answer only the first N queries (all connections together), then read
#   and count but never answer.
# --silent-conn-after N: on each connection answer only its first N queries, then stay silent
#   without closing (a half-open connection); a new connection is answered again.
# --delay-all MS: answer every query after MS milliseconds (a slow server).
# --fault KIND: after the first --fault-after N queries (all connections together, default 0),
#   every answer is faulty (counted in "faults"):
#     garbage            a 7-octet frame of random bytes (shorter than a DNS header)
#     wrong-id           the right answer under another message ID
#     mismatch-question  an answer with the query's ID but another question (qtype changed)
#     reset-mid-answer   half of the answer frame, then a TCP reset (SO_LINGER 0)
#     cut-record         a TLS application-data record header and part of its body written
#                        around TLS on the raw socket, then the connection closed
#     qr0                the answer (A 198.51.100.66) with QR=0
#     opcode             the answer (A 198.51.100.66) with opcode STATUS (2) instead of the query's
#     noquestion-records QDCOUNT=0, NOERROR, an A record 198.51.100.66 for the query's name
#     noquestion-refused QDCOUNT=0, REFUSED, no records (a legitimate error answer: a control)
#   --fault-every M makes only every M-th query after N faulty (default 1: all of them).
# --answer-ecs: every answer to a query with EDNS carries an ECS option (198.51.100.0/24, scope
#   24) although no query asked for one (an upstream that leaks or invents client subnets).
# --stats FILE: JSON rewritten (atomically) on every change: handshakes, resumed (handshakes
#   with ssl_object.session_reused), tls_versions, connections (now), connections_total,
#   queries, answered, edns_queries, edns_option_codes (sorted, distinct), edns_option_counts,
#   query_lengths (wire length -> count, for padding checks), closed_by_server, ecs_queries
#   (queries with an EDNS Client Subnet option), cookie_queries (with a cookie option),
#   rd0_queries (queries with RD=0).
# Prints "listening on PORT" when ready (the real port when --port 0).

import argparse
import asyncio
import os
import signal
import socket
import ssl
import struct
import sys

from dns_wire import frame, write_json

OPT = 41
ECS = 8
COOKIE = 10
KEEPALIVE = 11
# A record data of every faulty answer: a client that sees it got what the proxy should have refused.
FAULT_ADDRESS = bytes([198, 51, 100, 66])


class Stats:
    def __init__(self, path):
        self.path = path
        self.data = {
            "handshakes": 0,
            "resumed": 0,
            "tls_versions": {},
            "connections": 0,
            "connections_total": 0,
            "closed_by_server": 0,
            "queries": 0,
            "answered": 0,
            "edns_queries": 0,
            "edns_option_codes": [],
            "edns_option_counts": {},
            "query_lengths": {},
            "qnames": [],
            "faults": 0,
            "ecs_queries": 0,
            "cookie_queries": 0,
            "rd0_queries": 0,
        }
        self.write()

    def bump(self, key, by=1):
        self.data[key] += by
        self.write()

    def write(self):
        write_json(self.path, self.data)


def parse_name(msg, off):
    """Returns (name in presentation form, lower-cased, without the root dot; offset after it)."""
    labels = []
    jumped = False
    end = None
    for _ in range(128):
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated pointer")
            if not jumped:
                end = off + 2
            jumped = True
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    else:
        raise ValueError("name too long")
    return ".".join(labels).lower(), (end if jumped else off)


def parse_query(msg):
    """Returns dict with id, flags, qname, qtype, question bytes, opt (raw RR or None), options."""
    if len(msg) < 12:
        raise ValueError("short header")
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if qd != 1:
        raise ValueError("qdcount %d" % qd)
    qname, off = parse_name(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    off += 4
    opt = None
    options = []
    for _ in range(an + ns + ar):
        start = off
        _, off = parse_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        rdata = msg[off + 10:off + 10 + rdlen]
        off += 10 + rdlen
        if rtype == OPT:
            opt = (msg[start:off], rclass, ttl, rdata)
            p = 0
            while p + 4 <= len(rdata):
                code, olen = struct.unpack("!HH", rdata[p:p + 4])
                options.append(code)
                p += 4 + olen
    return {"id": qid, "flags": flags, "qname": qname, "qtype": qtype, "qclass": qclass,
            "question": question, "opt": opt, "options": options}


def build_answer(q, keepalive_ms, address=bytes([192, 0, 2, 1]), answer_ecs=False):
    flags = 0x8000 | (q["flags"] & 0x7900) | 0x0080  # QR, opcode+RD copied, RA
    answers = b""
    rcode = 0
    if q["qname"] == "nx.example" or q["qname"].endswith(".nx.example"):
        rcode = 3
    elif q["qtype"] == 1 and q["qclass"] == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + address
    additional = b""
    if q["opt"] is not None:
        raw, rclass, ttl, rdata = q["opt"]
        if keepalive_ms is not None or answer_ecs:
            if keepalive_ms is not None:
                rdata = struct.pack("!HHH", KEEPALIVE, 2, keepalive_ms // 100)
            if answer_ecs:  # family 1, source /24, scope /24, 198.51.100
                rdata += struct.pack("!HHHBB", ECS, 7, 1, 24, 24) + bytes([198, 51, 100])
            additional = b"\x00" + struct.pack("!HHIH", OPT, rclass, ttl & 0xFFFF8000, len(rdata)) + rdata
        else:
            additional = raw
    header = struct.pack("!HHHHHH", q["id"], flags | rcode, 1, 1 if answers else 0, 0,
                         1 if additional else 0)
    return header + q["question"] + answers + additional


class Server:
    def __init__(self, args):
        self.args = args
        self.stats = Stats(args.stats)
        self.delays = {}
        for d in args.delay:
            name, _, ms = d.partition("=")
            self.delays[name.lower().rstrip(".")] = int(ms)
        self.global_queries = 0

    async def handle(self, reader, writer):
        sslobj = writer.get_extra_info("ssl_object")
        st = self.stats
        st.data["handshakes"] += 1
        if sslobj is not None and sslobj.session_reused:
            st.data["resumed"] += 1
        if sslobj is not None:
            v = sslobj.version()
            st.data["tls_versions"][v] = st.data["tls_versions"].get(v, 0) + 1
        st.data["connections"] += 1
        st.data["connections_total"] += 1
        st.write()
        lock = asyncio.Lock()
        answered = 0
        conn_queries = 0
        closing = False
        tasks = set()

        async def answer(q, delay_ms, fault=None):
            nonlocal answered, closing
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000.0)
            if closing:
                return
            if fault is not None:
                async with lock:
                    if not closing:
                        st.bump("faults")
                        closing = await self.send_fault(fault, q, writer)
                return
            resp = build_answer(q, self.args.keepalive_ms, answer_ecs=self.args.answer_ecs)
            async with lock:
                if closing:
                    return
                writer.write(frame(resp))
                try:
                    await writer.drain()
                except (ConnectionError, OSError):
                    return
                answered += 1
                st.bump("answered")
                if self.args.close_after and answered >= self.args.close_after:
                    closing = True
                    st.bump("closed_by_server")
                    writer.close()

        try:
            while not closing:
                try:
                    if self.args.idle_close_ms:
                        hdr = await asyncio.wait_for(reader.readexactly(2), self.args.idle_close_ms / 1000.0)
                    else:
                        hdr = await reader.readexactly(2)
                except asyncio.TimeoutError:
                    if not closing:
                        closing = True
                        st.bump("closed_by_server")
                        writer.close()
                    break
                (length,) = struct.unpack("!H", hdr)
                msg = await reader.readexactly(length)
                self.global_queries += 1
                d = st.data
                d["queries"] += 1
                lk = str(length)
                d["query_lengths"][lk] = d["query_lengths"].get(lk, 0) + 1
                try:
                    q = parse_query(msg)
                except (ValueError, struct.error) as e:
                    print("unparsable query: %s" % e, flush=True)
                    st.write()
                    continue
                if len(d["qnames"]) < 200:
                    d["qnames"].append(q["qname"])
                if not q["flags"] & 0x0100:
                    d["rd0_queries"] += 1
                if ECS in q["options"]:
                    d["ecs_queries"] += 1
                if COOKIE in q["options"]:
                    d["cookie_queries"] += 1
                if q["opt"] is not None:
                    d["edns_queries"] += 1
                    for code in q["options"]:
                        d["edns_option_counts"][str(code)] = d["edns_option_counts"].get(str(code), 0) + 1
                    d["edns_option_codes"] = sorted({int(c) for c in d["edns_option_counts"]})
                st.write()
                conn_queries += 1
                if self.args.silent_after is not None and self.global_queries > self.args.silent_after:
                    continue
                if self.args.silent_conn_after is not None and conn_queries > self.args.silent_conn_after:
                    continue
                fault = None
                if self.args.fault and self.global_queries > self.args.fault_after and \
                        (self.global_queries - self.args.fault_after - 1) % self.args.fault_every == 0:
                    fault = self.args.fault
                t = asyncio.ensure_future(answer(q, self.delays.get(q["qname"], self.args.delay_all), fault))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            if tasks and not closing:
                await asyncio.gather(*tasks, return_exceptions=True)
            for t in tasks:
                t.cancel()
            st.data["connections"] -= 1
            st.write()
            try:
                writer.close()
            except Exception as e:  # noqa: BLE001 - closing a dead transport
                print("close: %s" % e, flush=True)


async def _send_fault(self, kind, q, writer):
    """Writes one faulty answer; True when the connection is gone afterwards."""
    if kind == "garbage":
        writer.write(struct.pack("!H", 7) + os.urandom(7))
    elif kind == "wrong-id":
        bad = dict(q, id=q["id"] ^ 0x5A5A)
        resp = build_answer(bad, self.args.keepalive_ms)
        writer.write(frame(resp))
    elif kind == "mismatch-question":
        question = bytearray(q["question"])
        question[-4:-2] = struct.pack("!H", 28 if q["qtype"] != 28 else 1)
        resp = build_answer(dict(q, question=bytes(question)), self.args.keepalive_ms)
        writer.write(frame(resp))
    elif kind in ("qr0", "opcode"):
        resp = bytearray(build_answer(q, self.args.keepalive_ms, FAULT_ADDRESS))
        if kind == "qr0":
            resp[2] &= 0x7F
        else:
            resp[2] = (resp[2] & 0x87) | (2 << 3)
        writer.write(frame(bytes(resp)))
    elif kind in ("noquestion-records", "noquestion-refused"):
        flags = 0x8000 | (q["flags"] & 0x7900) | 0x0080
        if kind == "noquestion-records":
            # The owner is the query's name written out (no question to point at).
            owner = b"".join(bytes([len(l)]) + l.encode() for l in q["qname"].split(".") if l) + b"\x00"
            resp = struct.pack("!HHHHHH", q["id"], flags, 0, 1, 0, 0) + owner + \
                struct.pack("!HHIH", 1, 1, 300, 4) + FAULT_ADDRESS
        else:
            resp = struct.pack("!HHHHHH", q["id"], flags | 5, 0, 0, 0, 0)
        writer.write(frame(resp))
    elif kind == "reset-mid-answer":
        resp = build_answer(q, self.args.keepalive_ms)
        framed = frame(resp)
        writer.write(framed[:len(framed) // 2])
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            return True
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return True
    elif kind == "cut-record":
        # Around TLS: a record header promising 256 octets, 20 of them, then FIN.
        fd = writer.get_extra_info("socket").fileno()
        try:
            os.write(fd, b"\x17\x03\x03\x01\x00" + os.urandom(20))
        except OSError:
            pass
        writer.transport.abort()
        return True
    try:
        await writer.drain()
    except (ConnectionError, OSError):
        return True
    return False


Server.send_fault = _send_fault


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.tls_version == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif args.tls_version == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # Session tickets are on by default (no OP_NO_TICKET); keep them, and the server-side
    # session cache for TLS 1.2 session IDs, so both versions can resume.
    ctx.options &= ~ssl.OP_NO_TICKET
    ctx.num_tickets = 2
    return ctx


async def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--tls-version", choices=["1.2", "1.3"])
    ap.add_argument("--close-after", type=int, default=0)
    ap.add_argument("--idle-close-ms", type=int, default=0)
    ap.add_argument("--silent-after", type=int)
    ap.add_argument("--silent-conn-after", type=int)
    ap.add_argument("--delay-all", type=int, default=0, metavar="MS")
    ap.add_argument("--delay", action="append", default=[], metavar="NAME=MS")
    ap.add_argument("--keepalive-ms", type=int)
    ap.add_argument("--fault", choices=["garbage", "wrong-id", "mismatch-question", "reset-mid-answer",
                                        "cut-record", "qr0", "opcode", "noquestion-records",
                                        "noquestion-refused"])
    ap.add_argument("--answer-ecs", action="store_true")
    ap.add_argument("--fault-after", type=int, default=0)
    ap.add_argument("--fault-every", type=int, default=1)
    ap.add_argument("--stats")
    args = ap.parse_args()

    server = Server(args)
    srv = await asyncio.start_server(server.handle, args.host, args.port, ssl=make_context(args),
                                     family=socket.AF_INET, reuse_address=True)
    port = srv.sockets[0].getsockname()[1]
    print("listening on %d" % port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with srv:
        await stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
