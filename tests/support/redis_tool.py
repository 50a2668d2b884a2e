#!/usr/bin/env python3
# tests/support/redis_tool.py - what someone with access to the fleet's Redis can do to it, for the
# fleet trust tests (SPEC 4b, issue 18): a binary-safe RESP client over TCP or TLS that redis-cli
# is not (redis-cli cannot write a value with arbitrary bytes back under its old expiry).
#
#   python3 redis_tool.py --port P [--tls CA] [--password PW] tamper KEY OLD_HEX NEW_HEX
#       GET KEY and PTTL KEY, replace the bytes OLD_HEX by NEW_HEX in the value, SET it back with
#       the same expiry (PX). Prints "tampered pttl=N"; exits 1 if OLD_HEX is not in the value.
#   python3 redis_tool.py --port P [...] subscribe CHANNEL
#       SUBSCRIBE and print every message on CHANNEL, one per line, flushed; "subscribed" first.
#   python3 redis_tool.py --port P [...] publish CHANNEL MESSAGE
#       PUBLISH; prints the number of receivers.
# Standard library only; talks to 127.0.0.1 only.
import argparse
import socket
import ssl
import sys


class Resp:
    def __init__(self, port, ca=None, password=None):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if ca:
            context = ssl.create_default_context(cafile=ca)
            context.check_hostname = False
            sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
        self.sock = sock
        self.buffer = b""
        if password:
            self.call(b"AUTH", password.encode())

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg if isinstance(arg, bytes) else str(arg).encode()
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        self.sock.sendall(out)

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, n):
        while len(self.buffer) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exactly(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.reply()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls")
    parser.add_argument("--password")
    parser.add_argument("command")
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    redis = Resp(options.port, options.tls, options.password)
    if options.command == "tamper":
        key, old, new = options.args[0], bytes.fromhex(options.args[1]), bytes.fromhex(options.args[2])
        value, pttl = redis.call(b"GET", key), redis.call(b"PTTL", key)
        if value is None or old not in value or pttl <= 0:
            print("nothing to tamper with: value %r pttl %r" % (value, pttl))
            return 1
        redis.call(b"SET", key, value.replace(old, new), b"PX", pttl)
        print("tampered pttl=%d" % pttl)
    elif options.command == "subscribe":
        redis.call(b"SUBSCRIBE", options.args[0])
        redis.sock.settimeout(None)
        print("subscribed", flush=True)
        while True:
            message = redis.reply()
            if isinstance(message, list) and message[0] == b"message":
                print(message[2].decode(), flush=True)
    elif options.command == "publish":
        print(redis.call(b"PUBLISH", options.args[0], options.args[1].encode()))
    else:
        parser.error("unknown command " + options.command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
