#!/usr/bin/env python3
# tests/support/clear_dns_server.py - a plain (clear-text) DNS responder on UDP and TCP, for the
# opportunistic-profile tests (SPEC section 5): it stands for a server that only speaks clear DNS
# on port 53, and records every query it receives, so a test can prove that a clear-text fallback
# happened, or that it did not (downgrade protection).
#
#   python3 clear_dns_server.py --host IP [--port 53] --stats FILE [--answer 192.0.2.53]
#
# Every A query gets the --answer address (TTL 300); other types NOERROR/NODATA. The question
# is echoed byte for byte, ID as received, RD copied, RA set; EDNS records are dropped.
# FILE (JSON, rewritten atomically on every query): udp_queries, tcp_connections, tcp_queries,
# qnames (lower-cased, in arrival order). Prints "listening" when ready. Standard library only.
import argparse
import socket
import struct

from dns_wire import TcpUdpServer, frame, split_frames, write_json


def question_end(msg):
    """Offset just after the first question (name, type, class); None if malformed."""
    off = 12
    while off < len(msg):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0:
            return None
        off += 1 + n
    else:
        return None
    off += 4
    return off if off <= len(msg) else None


def qname(msg):
    labels = []
    off = 12
    while off < len(msg) and msg[off] != 0:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower()


def answer(query, address):
    if len(query) < 12:
        return None
    end = question_end(query)
    if end is None or struct.unpack("!H", query[4:6])[0] != 1:
        return None
    qid, flags = struct.unpack("!HH", query[:4])
    qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
    rflags = 0x8000 | (flags & 0x0100) | 0x0080  # QR, RD copied, RA
    ancount = 1 if qtype == 1 else 0
    out = struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0) + query[12:end]
    if ancount:
        out += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(address)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--answer", default="192.0.2.53")
    args = ap.parse_args()
    stats = {"udp_queries": 0, "tcp_connections": 0, "tcp_queries": 0, "qnames": []}

    buffers = {}

    def write():
        write_json(args.stats, stats)

    def on_accept(c):
        stats["tcp_connections"] += 1
        buffers[c] = b""
        write()

    def on_datagram(s, data, peer):
        stats["udp_queries"] += 1
        stats["qnames"].append(qname(data))
        write()
        reply = answer(data, args.answer)
        if reply:
            s.sendto(reply, peer)

    def on_data(s, data):
        if not data:
            del buffers[s]
            return False
        queries, buffers[s] = split_frames(buffers[s] + data)
        for query in queries:
            stats["tcp_queries"] += 1
            stats["qnames"].append(qname(query))
            write()
            reply = answer(query, args.answer)
            if reply:
                s.setblocking(True)
                s.sendall(frame(reply))
        return True

    server = TcpUdpServer(args.host, [args.port])
    write()
    server.run(1.0, on_accept, on_datagram, on_data)


if __name__ == "__main__":
    main()
