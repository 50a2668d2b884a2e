# tests/support/dns_wire.py - what the scripted test servers and clients of tests/support/ share:
# DNS-over-TCP framing (RFC 1035 4.2.2: a two-octet length, then the message), reading exactly
# N octets, the selector loop of a server on TCP and UDP at one address, the atomic rewrite of a
# JSON stats file that the shell side reads (tests/e2e/lib.sh json_stat), and command-line options
# that several subcommands share. Standard library only; the scripts import it from their folder.
import argparse
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time


def frame(msg):
    """MSG with its two-octet length in front, as sent over TCP."""
    return struct.pack("!H", len(msg)) + msg


def recv_exact(sock, n):
    """Exactly N octets from a blocking SOCK; ConnectionError when the peer closes first."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def recv_frame(sock):
    """One whole framed message from a blocking SOCK (the message, without its length)."""
    (n,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, n)


def split_frames(buf):
    """(the complete messages at the start of BUF, the octets after them)."""
    messages = []
    while len(buf) >= 2:
        (n,) = struct.unpack("!H", buf[:2])
        if len(buf) < 2 + n:
            break
        messages.append(buf[2:2 + n])
        buf = buf[2 + n:]
    return messages, buf


class TcpUdpServer:
    """A TCP listener and a UDP socket on HOST:PORT for every PORT, served by one selector loop
    on the calling thread. run() prints "listening", exits 0 on SIGTERM and calls the handlers:
    on_accept(conn) for a new TCP connection, on_datagram(sock, data, peer) for a UDP datagram,
    on_data(conn, data) for what a connection sent (b"" once it is closed or failed; a false
    return closes it), and on_tick() after every wait of at most TICK seconds."""

    def __init__(self, host, ports):
        self.sel = selectors.DefaultSelector()
        for port in ports:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((host, port))
            t.listen(16)
            self.sel.register(t, selectors.EVENT_READ, "accept")
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((host, port))
            self.sel.register(u, selectors.EVENT_READ, "udp")

    def close(self, conn):
        self.sel.unregister(conn)
        conn.close()

    def run(self, tick, on_accept, on_datagram, on_data, on_tick=lambda: None):
        print("listening", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            for key, _ in self.sel.select(timeout=tick):
                s = key.fileobj
                if key.data == "accept":
                    c, _ = s.accept()
                    self.sel.register(c, selectors.EVENT_READ, "tcp")
                    on_accept(c)
                elif key.data == "udp":
                    data, peer = s.recvfrom(65535)
                    on_datagram(s, data, peer)
                else:
                    try:
                        data = s.recv(65535)
                    except OSError:
                        data = b""
                    if not on_data(s, data):
                        self.close(s)
            on_tick()


def shared_option(*names, **kwargs):
    """A parent parser (argparse parents=[...]) holding one option, declared once for all the
    subcommands that take it."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(*names, **kwargs)
    return p


def reap_closed(sel, conns, status, timeout):
    """One select() round over held connections (registered with data = their key in conns): each
    one the server closed is unregistered, closed, marked not "open" and counted in status
    ("closed", and "close_after": seconds since conn["opened"]). Returns the keys closed."""
    closed = []
    for key, _ in sel.select(timeout=timeout):
        conn = conns[key.data]
        try:
            data = conn["sock"].recv(4096)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            data = b""
        if not data:
            sel.unregister(conn["sock"])
            conn["sock"].close()
            conn["open"] = False
            status["closed"] += 1
            status["close_after"].append(round(time.monotonic() - conn["opened"], 3))
            closed.append(key.data)
    return closed


def write_json(path, data):
    """Rewrite PATH with DATA through a rename, so a reader never sees half a file; nothing
    without a PATH."""
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, path)
