# tests/support/dns_wire.py - what the scripted test servers and clients of tests/support/ share:
# DNS-over-TCP framing (RFC 1035 4.2.2: a two-octet length, then the message), reading exactly
# N octets, one TCP and one UDP socket bound to the same address, and the atomic rewrite of a
# JSON stats file that the shell side reads (tests/e2e/lib.sh json_stat). Standard library only;
# the scripts import it from their own folder.
import json
import os
import selectors
import socket
import struct


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


def listen_tcp_udp(sel, host, port):
    """A TCP listener (selector data "accept") and a UDP socket (data "udp") on HOST:PORT, both
    registered with SEL for reading."""
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, port))
    t.listen(16)
    sel.register(t, selectors.EVENT_READ, "accept")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, port))
    sel.register(u, selectors.EVENT_READ, "udp")


def write_json(path, data):
    """Rewrite PATH with DATA through a rename, so a reader never sees half a file; nothing
    without a PATH."""
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, path)
