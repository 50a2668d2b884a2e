#!/usr/bin/env python3
# tests/support/plain_sniffer.py - listens on plain TCP and UDP ports and records what arrives,
# to prove that nothing is sent in clear text (SPEC §5, strict profile).
#
#   python3 plain_sniffer.py --host IP --ports P1,P2 --needle LABEL --stats FILE
#
# TCP connections are accepted and read (at most 64 kB, 2 s) and then closed without an
# answer, so a TLS client sees its handshake fail. UDP datagrams are read and dropped.
# FILE (JSON, rewritten on every change): tcp_connections, tcp_bytes, udp_packets,
# udp_bytes, tls_client_hellos (TCP streams starting with a TLS handshake record),
# needle_seen (the needle, case-insensitive, appeared in any received bytes: a DNS query
# for a name with that label was sent in clear text). Prints "listening" when ready.
import argparse
import time

from dns_wire import TcpUdpServer, write_json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--ports", required=True)
    ap.add_argument("--needle", required=True)
    ap.add_argument("--stats", required=True)
    args = ap.parse_args()
    needle = args.needle.lower().encode()
    stats = {"tcp_connections": 0, "tcp_bytes": 0, "udp_packets": 0, "udp_bytes": 0,
             "tls_client_hellos": 0, "needle_seen": False}

    def write():
        write_json(args.stats, stats)

    def seen(data):
        if needle in data.lower():
            stats["needle_seen"] = True

    conns = {}

    def on_accept(c):
        c.setblocking(False)
        stats["tcp_connections"] += 1
        conns[c] = [time.monotonic() + 2.0, b""]
        write()

    def on_datagram(_sock, data, _peer):
        stats["udp_packets"] += 1
        stats["udp_bytes"] += len(data)
        seen(data)
        write()

    def on_data(s, data):
        st = conns[s]
        if data:
            if not st[1] and data[:1] == b"\x16":
                stats["tls_client_hellos"] += 1
            # Long enough to catch a query that follows; short against client timeouts.
            st[0] = min(st[0], time.monotonic() + 0.5)
            st[1] = (st[1] + data)[-65536:]
            stats["tcp_bytes"] += len(data)
            seen(st[1])
        keep = bool(data) and len(st[1]) < 65536
        if not keep:
            del conns[s]
        write()
        return keep

    def on_tick():
        now = time.monotonic()
        for c in [c for c, st in conns.items() if st[0] < now]:
            del conns[c]
            server.close(c)

    server = TcpUdpServer(args.host, [int(p) for p in args.ports.split(",")])
    write()
    server.run(0.2, on_accept, on_datagram, on_data, on_tick)


if __name__ == "__main__":
    main()
