#!/usr/bin/env python3
# tests/support/doh_h2_client.py - one HTTP/2 request to a DoH server (python3-h2 over the standard
# library's ssl, ALPN h2, verified against --ca and --hostname), for the status codes of rejected
# requests. A server may answer before it has read the whole body and then reset the stream with
# NO_ERROR (RFC 9113 8.1); this client reads that answer, where curl 7.88 fails with exit 92.
#
#   doh_h2_client.py --port P --ca CA --hostname H --method M --path PATH [--content-type T]
#       [--body-file F]
#   prints JSON {"status": int or null, "reset": RST_STREAM error code or null, "ended": bool}
import argparse
import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--hostname", required=True)
    ap.add_argument("--method", default="POST")
    ap.add_argument("--path", required=True)
    ap.add_argument("--content-type")
    ap.add_argument("--body-file")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    body = open(a.body_file, "rb").read() if a.body_file else b""

    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout),
                           server_hostname=a.hostname)
    if sock.selected_alpn_protocol() != "h2":
        print(json.dumps({"status": None, "reset": None, "ended": False, "error": "no h2"}))
        return 1
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    headers = [(":method", a.method), (":path", a.path), (":scheme", "https"), (":authority", a.hostname)]
    if a.content_type:
        headers.append(("content-type", a.content_type))
    if body:
        headers.append(("content-length", str(len(body))))
    conn.send_headers(1, headers, end_stream=not body)
    sent = 0
    result = {"status": None, "reset": None, "ended": False}

    def send_body():
        nonlocal sent
        while sent < len(body) and result["status"] is None:
            try:
                window = min(conn.local_flow_control_window(1), conn.max_outbound_frame_size)
            except Exception:  # the stream is closed: the server answered early
                return
            if window <= 0:
                return
            chunk = body[sent:sent + window]
            sent += len(chunk)
            conn.send_data(1, chunk, end_stream=sent == len(body))

    send_body()
    sock.sendall(conn.data_to_send())
    try:
        while not result["ended"] and result["reset"] is None:
            data = sock.recv(65535)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    result["status"] = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.StreamEnded):
                    result["ended"] = True
                elif isinstance(event, h2.events.StreamReset):
                    result["reset"] = int(event.error_code)
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            send_body()
            sock.sendall(conn.data_to_send())
        # An early answer may be followed by RST_STREAM: read it when it is already on its way.
        if result["ended"] and result["reset"] is None:
            sock.settimeout(0.3)
            try:
                for event in conn.receive_data(sock.recv(65535)):
                    if isinstance(event, h2.events.StreamReset):
                        result["reset"] = int(event.error_code)
            except (socket.timeout, ssl.SSLError, OSError, h2.exceptions.ProtocolError):
                pass
    except (socket.timeout, OSError) as e:
        result["error"] = repr(e)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
