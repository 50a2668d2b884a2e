#!/usr/bin/env python3
# scripts/lib/reserve.py - reserves a free port, or a free loopback address, machine-wide for
# one end-to-end test, so tests running at the same time (ctest -j) never get the same one.
#
#   python3 reserve.py port [--ip IP] --dir DIR --used FILE         prints PORT
#   python3 reserve.py loopback-ip [--port PORT] --dir DIR --used FILE   prints IP
#
# port: a random port in 20000 .. (start of the kernel's ephemeral range, at most 32768) - 1,
# so outgoing connections cannot take it, free for both TCP and UDP on IP (127.0.0.1).
# loopback-ip: a random address 127.[20-250].[1-250].[2-250] (never 127.0.0.x) whose PORT
# (53 by default) is free for TCP and UDP, so a test can own that port there.
#
# A reservation is the directory DIR/<port> or DIR/ip-<address> (mkdir is atomic); its name is
# appended to FILE, and scripts/lib/harness.sh's EXIT trap removes every name listed there. A
# reservation older than 15 minutes is stale (its test died without cleaning up) and is taken
# over. Exits non-zero after 1000 candidates without success.
import argparse
import os
import random
import socket
import sys
import time

STALE_SECONDS = 900
ATTEMPTS = 1000


def take_mark(mark):
    """Create the reservation directory; True when it is now ours."""
    try:
        os.mkdir(mark)
        return True
    except FileExistsError:
        try:
            if time.time() - os.stat(mark).st_mtime < STALE_SECONDS:
                return False
            os.utime(mark)
            return True
        except OSError:
            return False


def bindable(ip, port):
    """True when IP:port can be bound for both TCP and UDP right now."""
    socks = []
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind((ip, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def reserve(resv, used_file, candidates):
    """Reserve the first free candidate (name, ip, port, result); print result. Exits."""
    os.makedirs(resv, exist_ok=True)
    for name, ip, port, result in candidates:
        mark = os.path.join(resv, name)
        if not take_mark(mark):
            continue
        if not bindable(ip, port):
            os.rmdir(mark)
            continue
        with open(used_file, "a") as f:
            f.write(name + "\n")
        print(result)
        return True
    return False


def port_candidates(ip):
    lo, _ = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    lo = min(lo, 32768)
    for _ in range(ATTEMPTS):
        port = random.randint(20000, lo - 1)
        yield str(port), ip, port, port


def loopback_candidates(port):
    for _ in range(ATTEMPTS):
        ip = "127.%d.%d.%d" % (random.randint(20, 250), random.randint(1, 250), random.randint(2, 250))
        yield "ip-" + ip, ip, port, ip


def main():
    ap = argparse.ArgumentParser(description="reserve a port or a loopback address for one e2e test")
    ap.add_argument("what", choices=("port", "loopback-ip"))
    ap.add_argument("--ip", default="127.0.0.1", help="port: the address the port must be free on")
    ap.add_argument("--port", type=int, default=53, help="loopback-ip: the port that must be free there")
    ap.add_argument("--dir", required=True, help="machine-wide reservation directory")
    ap.add_argument("--used", required=True, help="this test's list of reservations to release")
    args = ap.parse_args()
    if args.what == "port":
        if not reserve(args.dir, args.used, port_candidates(args.ip)):
            sys.exit("no free port found")
    elif not reserve(args.dir, args.used, loopback_candidates(args.port)):
        sys.exit("no free loopback address found")


if __name__ == "__main__":
    main()
