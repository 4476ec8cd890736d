#!/usr/bin/python3
"""Test peer for swift-sidecar's integration tests: a server, a client and a probe.

Standard library only (it runs as other uids under Debian's /usr/bin/python3).

Protocol, one TCP connection, every JSON message on its own line:

    server -> client  {"local": IP, "localPort": N, "peer": IP, "peerPort": N}
                      what the server's accepted socket sees (IPv4-mapped
                      addresses are shown as plain IPv4), so a test can check
                      which address and port the connection really reached
    client -> server  {"send": M}
    client -> server  N opaque bytes, then a half-close (shutdown SHUT_WR)
    server -> client  {"received": N, "sha256": HEX}
    server -> client  M bytes of random.Random(M).randbytes(M), then close

The server speaks first, so a proxy that waits for the client's first bytes
before forwarding would stall here until its detect timeout.

Subcommands:

    serve --port P [--bind ADDR] [--reset]
        Listen on ADDR (default "::", dual-stack), print READY on stdout once
        listening, serve each connection on its own thread, forever. An error
        closes that connection only, with a one-line reason on stderr.
        --reset: send the hello line, then reset the connection (RST).

    call HOST PORT --send N --expect M [--timeout S] [--source-hold] [--eager]
        Run the protocol as the client and print one JSON object:
        {"hello": {...}, "sent": N, "sentSha256": HEX, "server": {...},
         "received": COUNT, "receivedSha256": HEX, "expectedSha256": HEX}
        and exit 0; the test compares the fields. On a socket error print
        {"error": KIND, "detail": TEXT, "elapsed": SECONDS} and exit 3.
        --timeout bounds each socket operation (default 30 s).
        --source-hold: after the hello line, print HOLDING on stderr and send
        nothing until a line or EOF arrives on stdin, so a test can keep a
        connection in flight across an event (drain, reload) and release it.
        --eager: send the request, the payload and the half-close before
        reading the greeting, as a client that speaks first does.

    udp-serve --port P --name NAME [--bind ADDR]
        Answer every UDP datagram with NAME; print READY once bound.

    udp-call HOST PORT [--timeout S]
        Send one datagram; print {"reply": NAME} or {"error": "timeout"}.

    probe HOST PORT [--timeout S]
        Connect and report the first event, {"outcome": O, "elapsed": SECONDS},
        exit 0. O is refused, unreachable, reset, eof, data or timeout.
        Any other socket error is reported as call reports it, exit 3.

    http-serve --port P [--bind ADDR]
        An HTTP/1.1 keep-alive server; print READY once listening. Every
        request gets 200 with a JSON body {"method", "path", "local",
        "localPort", "peerPort", "bodyLength", "bodySha256", "headers"}; a request with
        "Upgrade: echo" gets 101, and CONNECT gets 200, and the connection then
        echoes raw bytes until EOF; CONNECT to a host named refuse.* gets 405
        and the connection stays open. Chunked request bodies are read; paths
        starting with /slow are answered after 3 seconds.

    shop-serve --port P [--bind ADDR]
        An app open to SQL injection: GET /item?id=N answers the item's name
        from SQLite with the id pasted into the query (500 on a SQL error,
        without its text). Each request is printed as {"request": LINE}.

    connect-ports HOST --first P --count N [--timeout S]
        Connect to N ports of HOST from P on, one after another; print
        {"connected": COUNT}.

    http-requests HOST PORT REQUEST... [--timeout S]
        Send each REQUEST ("METHOD PATH" or "METHOD PATH BODYSIZE") in turn
        on one keep-alive connection; print a JSON list of {"status", "body",
        "connection"} and exit 0. On a socket error print the error object
        and exit 3. A REQUEST of PAUSE prints HOLDING on stderr and waits for
        a line or EOF on stdin, with the connection kept open.

    http-raw HOST PORT [--timeout S]
        Send stdin as is, then print everything received until the server
        closes or S seconds pass without data, as {"received": TEXT,
        "closed": BOOL}.

    http-upgrade HOST PORT [--timeout S]
        Ask for "Upgrade: echo", and after the 101 send "ping" raw and read
        it back: print {"status": N, "echo": TEXT}.

    tls-call HOST PORT --server-name NAME [--delay S] [--timeout S]
        Connect, stay silent for S seconds, then start a TLS handshake for
        NAME (certificates are not checked); print {"outcome": "established"}
        or the error object, and exit 0 either way.

    metrics
        Parse Prometheus text on stdin with prometheus_client's parser (Debian's
        python3-prometheus-client) and print {"NAME": [{"labels": {...},
        "value": V}, ...]}, one entry per sample.

Error kinds (call) and outcomes (probe) share one vocabulary: refused
(ECONNREFUSED), unreachable (EHOSTUNREACH, ENETUNREACH), reset (ECONNRESET,
EPIPE), timeout, eof (the peer closed before a line the protocol needs),
other.
"""

import argparse
import base64
import errno
import hashlib
import http.client
import json
import os
import random
import selectors
import socket
import sqlite3
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A multiple of 4 bytes: randbytes draws 32-bit words, so chunks of whole
# words concatenate to exactly the bytes of one randbytes(total) call.
CHUNK = 1 << 20
# A JSON line longer than this is a protocol error, not something to buffer.
MAX_LINE = 64 * 1024


class PeerClosed(Exception):
    """The peer closed the connection before sending a line we needed."""


class LineStream:
    """A socket read as JSON lines followed by raw bytes until EOF."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = b""

    def read_json_line(self, what):
        while b"\n" not in self.pending:
            if len(self.pending) > MAX_LINE:
                raise ValueError(f"{what} line longer than {MAX_LINE} bytes")
            data = self.sock.recv(65536)
            if not data:
                raise PeerClosed(f"peer closed before the {what} line")
            self.pending += data
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def read_to_eof(self):
        """Return (count, sha256 hex) of everything left until EOF."""
        digest = hashlib.sha256(self.pending)
        count = len(self.pending)
        self.pending = b""
        while data := self.sock.recv(CHUNK):
            digest.update(data)
            count += len(data)
        return count, digest.hexdigest()


def send_json_line(sock, obj):
    sock.sendall(json.dumps(obj).encode() + b"\n")


def deterministic_chunks(n):
    """random.Random(n).randbytes(n), in chunks so memory stays bounded."""
    rng = random.Random(n)
    remaining = n
    while remaining > 0:
        size = min(CHUNK, remaining)
        yield rng.randbytes(size)
        remaining -= size


def plain_ip(host):
    """Show an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") as plain IPv4."""
    if host.startswith("::ffff:") and "." in host:
        return host[len("::ffff:"):]
    return host


def family_for(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# --- serve -------------------------------------------------------------------


def handle_connection(conn, reset):
    with conn:
        try:
            local, peer = conn.getsockname(), conn.getpeername()
            send_json_line(conn, {
                "local": plain_ip(local[0]), "localPort": local[1],
                "peer": plain_ip(peer[0]), "peerPort": peer[1],
            })
            if reset:
                # Linger zero: closing sends a RST instead of a FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            stream = LineStream(conn)
            to_send = int(stream.read_json_line("request")["send"])
            received, sha = stream.read_to_eof()
            send_json_line(conn, {"received": received, "sha256": sha})
            for chunk in deterministic_chunks(to_send):
                conn.sendall(chunk)
        except (OSError, ValueError, KeyError, TypeError, PeerClosed) as error:
            reason = f"{type(error).__name__}: {error}"
            print(f"peer serve: connection closed: {reason}", file=sys.stderr, flush=True)


def serve(args):
    family = family_for(args.bind)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        # Off, so that "::" also accepts IPv4 (as ::ffff:a.b.c.d).
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind((args.bind, args.port))
    listener.listen(128)
    print("READY", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle_connection, args=(conn, args.reset), daemon=True).start()


def echo_serve(args):
    """One thread for any number of connections: echoes what it reads; after a line "bye" it closes first."""
    listener = socket.socket(family_for(args.bind), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(4096)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    print("READY", flush=True)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                selector.register(conn, selectors.EVENT_READ)
                continue
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except (BlockingIOError, ConnectionError):
                data = b""
            if data:
                conn.setblocking(True)
                conn.sendall(data)
                conn.setblocking(False)
            if not data or data.endswith(b"bye\n"):
                selector.unregister(conn)
                conn.close()


def blast_serve(args):
    """Sends --bytes zero bytes to each connection as fast as it is taken, then closes."""
    listener = socket.socket(family_for(args.bind), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.bind, args.port))
    listener.listen(16)
    print("READY", flush=True)
    block = bytes(1 << 20)
    while True:
        conn, _ = listener.accept()
        with conn:
            left = args.bytes
            try:
                while left:
                    conn.sendall(block[:min(left, len(block))])
                    left -= min(left, len(block))
            except OSError as error:
                print(f"blast-serve: {error}", file=sys.stderr, flush=True)


def slow_read(args):
    """Reads everything, never faster than --rate MiB/s, through a small receive buffer; prints the count."""
    started = time.monotonic()
    sock = socket.socket(family_for(args.host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(args.timeout)
    sock.connect((args.host, args.port))
    received = 0
    rate = args.rate * (1 << 20)
    while chunk := sock.recv(64 * 1024):
        received += len(chunk)
        ahead = received / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    sock.close()
    print_json({"received": received, "elapsed": round(time.monotonic() - started, 3)})
    return 0


def hold_calls(args):
    """Opens N connections (--batch at a time, all at once by default), has each echo a line, holds them until stdin
    says so, then closes them."""
    started = time.monotonic()
    selector = selectors.DefaultSelector()
    sockets = []
    echoed = failed = 0
    batch = args.batch or args.connections
    for first in range(0, args.connections, batch):
        count = min(batch, args.connections - first)
        done = open_and_echo(args, selector, sockets, count)
        echoed += done[0]
        failed += done[1]
    print_json({"echoed": echoed, "failed": failed, "elapsed": round(time.monotonic() - started, 3)})
    sys.stdin.readline()
    for sock in sockets:
        sock.close()
    return 0


def open_and_echo(args, selector, sockets, count):
    """Opens `count` more connections at once and has each echo a line; returns how many did and how many failed."""
    opened = []
    for _ in range(count):
        sock = socket.socket(family_for(args.host), socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((args.host, args.port))
        selector.register(sock, selectors.EVENT_WRITE)
        opened.append(sock)
    sockets.extend(opened)
    echoed = failed = 0
    pending = len(opened)
    deadline = time.monotonic() + args.timeout
    while pending and time.monotonic() < deadline:
        for key, events in selector.select(timeout=1):
            sock = key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        raise ConnectionError("connect failed")
                    sock.send(b"ping\n")
                except OSError:
                    failed += 1
                    pending -= 1
                    selector.unregister(sock)
                    continue
                selector.modify(sock, selectors.EVENT_READ)
            else:
                try:
                    data = sock.recv(64)
                except ConnectionError:
                    data = b""
                if data == b"ping\n":
                    echoed += 1
                else:
                    failed += 1
                pending -= 1
                selector.unregister(sock)
    for sock in opened:
        if sock.fileno() in selector.get_map():
            selector.unregister(sock)
    return echoed, failed + pending


def hold_open(args):
    """Opens N connections and holds them, sending nothing, until stdin says so; reports how many opened."""
    sockets, opened = [], 0
    for _ in range(args.connections):
        sock = socket.socket(family_for(args.host), socket.SOCK_STREAM)
        sock.settimeout(args.timeout)
        try:
            sock.connect((args.host, args.port))
            opened += 1
        except OSError:
            pass
        sockets.append(sock)
    print_json({"opened": opened})
    sys.stdout.flush()
    print("HOLDING", file=sys.stderr, flush=True)
    sys.stdin.readline()
    for sock in sockets:
        sock.close()
    return 0


def sequential_calls(args):
    """N short connections one after another: a line out, its echo back, the server closes, and so does the client."""
    started = time.monotonic()
    ok = failed = 0
    for _ in range(args.count):
        try:
            with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
                sock.sendall(b"bye\n")
                data = b""
                while chunk := sock.recv(64):
                    data += chunk
                if data == b"bye\n":
                    ok += 1
                else:
                    failed += 1
        except OSError:
            failed += 1
    print_json({"ok": ok, "failed": failed, "elapsed": round(time.monotonic() - started, 3)})
    return 0


# --- call and probe ----------------------------------------------------------


def classify(error):
    """Map a socket failure to the shared error kind / probe outcome."""
    if isinstance(error, PeerClosed):
        return "eof"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    # A connected socket that a reset reached between two calls: shutdown() finds it no longer connected.
    if isinstance(error, OSError) and error.errno == errno.ENOTCONN:
        return "reset"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, OSError) and error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    return "other"


def connect(host, port, timeout):
    sock = socket.socket(family_for(host), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def print_json(obj):
    print(json.dumps(obj), flush=True)


def fail(error, started):
    print_json({"error": classify(error), "detail": str(error), "elapsed": round(time.monotonic() - started, 3)})
    return 3


def call(args):
    started = time.monotonic()
    try:
        with connect(args.host, args.port, args.timeout) as sock:
            stream = LineStream(sock)
            # --eager sends everything before reading the greeting, as clients that speak first do.
            hello = None if args.eager else stream.read_json_line("hello")
            if args.source_hold:
                print("HOLDING", file=sys.stderr, flush=True)
                sys.stdin.readline()
            send_json_line(sock, {"send": args.expect})
            if args.pause:
                time.sleep(args.pause)
            sent_digest = hashlib.sha256()
            remaining = args.send
            while remaining > 0:
                chunk = os.urandom(min(CHUNK, remaining))
                sent_digest.update(chunk)
                sock.sendall(chunk)
                remaining -= len(chunk)
            sock.shutdown(socket.SHUT_WR)  # half-close: the reply still flows back
            if hello is None:
                hello = stream.read_json_line("hello")
            server = stream.read_json_line("result")
            received, received_sha = stream.read_to_eof()
    except (OSError, ValueError, PeerClosed) as error:
        return fail(error, started)

    expected_digest = hashlib.sha256()
    for chunk in deterministic_chunks(args.expect):
        expected_digest.update(chunk)
    print_json({
        "hello": hello,
        "sent": args.send,
        "sentSha256": sent_digest.hexdigest(),
        "server": server,
        "received": received,
        "receivedSha256": received_sha,
        "expectedSha256": expected_digest.hexdigest(),
    })
    return 0


def probe(args):
    started = time.monotonic()
    try:
        with connect(args.host, args.port, args.timeout) as sock:
            if args.half_close:
                # A FIN before anything else, as a client with nothing to say does.
                sock.shutdown(socket.SHUT_WR)
            # What is left of the timeout bounds the wait for the first event.
            sock.settimeout(max(0.001, args.timeout - (time.monotonic() - started)))
            outcome = "data" if sock.recv(1) else "eof"
    except OSError as error:
        outcome = classify(error)
        if outcome == "other":
            return fail(error, started)
    print_json({"outcome": outcome, "elapsed": round(time.monotonic() - started, 3)})
    return 0


# --- UDP ---------------------------------------------------------------------


def udp_serve(args):
    """Answer every datagram with this server's name, so a test can tell which server a query reached."""
    family = family_for(args.bind)
    server = socket.socket(family, socket.SOCK_DGRAM)
    server.bind((args.bind, args.port))
    print("READY", flush=True)
    while True:
        _, sender = server.recvfrom(2048)
        server.sendto(args.name.encode(), sender)


def udp_call(args):
    """Send one datagram and print {"reply": NAME} or {"error": "timeout"}."""
    with socket.socket(family_for(args.host), socket.SOCK_DGRAM) as sock:
        sock.settimeout(args.timeout)
        sock.sendto(b"query", (args.host, args.port))
        try:
            reply, _ = sock.recvfrom(2048)
            print_json({"reply": reply.decode()})
        except socket.timeout:
            print_json({"error": "timeout"})


# --- http --------------------------------------------------------------------


class EchoHTTPHandler(BaseHTTPRequestHandler):
    """Answers every method with what it saw (a chunked body's trailers too); "Upgrade: echo" becomes a raw echo;
    a path under /trailers is answered chunked, with the body's SHA-256 in an X-Served-Checksum trailer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def echo_raw(self):
        """After the head just sent, echo raw bytes until EOF."""
        self.wfile.flush()
        # rfile may already hold bytes the client sent right behind the head.
        while data := self.rfile.read1(65536):
            self.connection.sendall(data)
        self.close_connection = True

    def do_CONNECT(self):
        if self.path.startswith("refuse."):
            # Refused, and the connection kept open: what follows must not reach us unchecked.
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.echo_raw()

    def read_body(self):
        self.trailers = {}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                self.trailers[name.strip().lower()] = value.strip()
            return body
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # With http-serve --status: every request gets that status, and its method and path as the body.
    forced_status = None
    # With http-serve --log: each request's method, path, client address and headers, as a JSON line.
    log_requests = False

    def answer(self):
        if self.log_requests:
            print(json.dumps({"request": f"{self.command} {self.path}", "peer": plain_ip(self.client_address[0]),
                              "headers": {name.lower(): value for name, value in self.headers.items()}}), flush=True)
        if self.forced_status:
            self.read_body()
            text = f"{self.command} {self.path}".encode()
            self.send_response(self.forced_status)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(text)
            return
        if self.headers.get("Upgrade") == "echo":
            self.send_response(101)
            self.send_header("Upgrade", "echo")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.echo_raw()
            return
        body = self.read_body()
        if self.path.startswith("/slow"):
            time.sleep(3)
        local, peer = self.connection.getsockname(), self.connection.getpeername()
        reply = json.dumps({
            "method": self.command, "path": self.path, "local": plain_ip(local[0]), "localPort": local[1],
            "peerPort": peer[1],
            "bodyLength": len(body), "bodySha256": hashlib.sha256(body).hexdigest(),
            "headers": {name.lower(): value for name, value in self.headers.items()}, "trailers": self.trailers,
        }).encode()
        if self.path.startswith("/trailers"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Served-Checksum")
            self.end_headers()
            checksum = hashlib.sha256(reply).hexdigest()
            self.wfile.write(b"%x\r\n%s\r\n0\r\nX-Served-Checksum: %s\r\n\r\n" % (len(reply), reply, checksum.encode()))
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = answer


class DualStackHTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def http_serve(args):
    handler = type("Handler", (EchoHTTPHandler,), {"forced_status": args.status, "log_requests": args.log})
    server = DualStackHTTPServer((args.bind, args.port), handler)
    print("READY", flush=True)
    server.serve_forever()


# --- a vulnerable shop -------------------------------------------------------


class ShopHandler(BaseHTTPRequestHandler):
    """GET /item?id=N answers the item's name from SQLite, with the id pasted into the query: an app that is open
    to SQL injection, for attack tools to find. Each request it is handed is printed as a JSON line."""

    protocol_version = "HTTP/1.1"
    database = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        print(json.dumps({"request": f"GET {self.path}"}), flush=True)
        query = urllib.parse.urlparse(self.path).query
        item = urllib.parse.parse_qs(query).get("id", ["1"])[0]
        try:
            rows = self.database.execute("SELECT name FROM items WHERE id = " + item).fetchall()
            status, text = (200, "".join(f"<li>{row[0]}</li>" for row in rows)) if rows else (404, "no such item")
        except sqlite3.Error:
            status, text = 500, "error"
        body = f"<html><body><ul>{text}</ul></body></html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def shop_serve(args):
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    database.executemany("INSERT INTO items VALUES (?, ?)", [(1, "kettle"), (2, "teapot"), (3, "mug")])
    handler = type("Handler", (ShopHandler,), {"database": database})
    server = DualStackHTTPServer((args.bind, args.port), handler)
    print("READY", flush=True)
    server.serve_forever()


def connect_ports(args):
    """Connects to `count` ports of a host from `first` on, one after another, as a compromised app scanning its
    neighbour would; prints how many were answered by a connection."""
    connected = 0
    for port in range(args.first, args.first + args.count):
        try:
            with socket.create_connection((args.host, port), timeout=args.timeout):
                connected += 1
        except OSError:
            pass
    print_json({"connected": connected})


# --- lenient http ------------------------------------------------------------


def lenient_answer(conn):
    """Reads one request as leniently as RFC 9112 allows (blank lines before it skipped, any whitespace between the
    words of its first line, a version-less HTTP/0.9 GET), and serves it: "served METHOD TARGET". After "Upgrade"
    it answers 101 and echoes whatever follows."""
    data = b""
    while b"\n" not in data.lstrip(b" \t\r\n\x0b\x0c") or not data.strip():
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    data = data.lstrip(b" \t\r\n\x0b\x0c")
    line, _, rest = data.partition(b"\n")
    words = line.split()
    if len(words) < 2:
        return
    method, target = words[0], b" ".join(words[1:-1] if len(words) > 2 else words[1:])
    if len(words) > 2:
        while b"\r\n\r\n" not in b"\r\n" + rest and b"\n\n" not in b"\n" + rest:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
    upgrade = b"\nupgrade:" in b"\n" + rest.lower()
    print(json.dumps({"served": f"{method.decode(errors='replace')} {target.decode(errors='replace')}"}), flush=True)
    if upgrade:
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
        while chunk := conn.recv(65536):
            conn.sendall(chunk)
        return
    body = b"served " + method + b" " + target
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def lenient_serve(args):
    listener = socket.create_server((args.bind, args.port), family=socket.AF_INET6, dualstack_ipv6=True)
    print("READY", flush=True)
    while True:
        conn, _ = listener.accept()

        def run(conn=conn):
            with conn:
                try:
                    lenient_answer(conn)
                except OSError:
                    pass

        threading.Thread(target=run, daemon=True).start()


def paced_send(args):
    """Sends its parts in order: "@SECONDS" pauses, any other part is text with backslash escapes; with --bytewise,
    text goes a byte at a time that many seconds apart. Prints what came back and how the connection ended."""
    with connect(args.host, args.port, args.timeout) as sock:
        ended = "open"
        try:
            for part in args.parts:
                if part.startswith("@"):
                    time.sleep(float(part[1:]))
                    continue
                data = part.encode().decode("unicode_escape").encode("latin-1")
                if args.bytewise:
                    for byte in data:
                        sock.sendall(bytes([byte]))
                        time.sleep(args.bytewise)
                else:
                    sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            ended = "reset"
        received = b""
        if ended == "open":
            try:
                while data := sock.recv(65536):
                    received += data
                ended = "closed"
            except socket.timeout:
                pass
            except ConnectionResetError:
                ended = "reset"
    print_json({"received": received.decode(errors="replace"), "ended": ended})
    return 0


# --- grpc --------------------------------------------------------------------


def grpc_serve(args):
    """A gRPC server (grpcio, HTTP/2 without TLS) with raw-bytes methods under /echo.Echo/: Say and Secret echo the
    request, Slow answers after three seconds, Chat (bidirectional streaming) answers each message as it comes,
    upper-cased."""
    from concurrent import futures

    import grpc

    def echo(request, context):
        return request

    def slow(request, context):
        time.sleep(3)
        return request

    def chat(requests, context):
        for message in requests:
            yield message.upper()

    handlers = {name: grpc.unary_unary_rpc_method_handler(behaviour)
                for name, behaviour in (("Say", echo), ("Secret", echo), ("Slow", slow))}
    handlers["Chat"] = grpc.stream_stream_rpc_method_handler(chat)
    # With --max-age-ms the server sends GOAWAY when a connection is that old, and lets its calls finish.
    options = [("grpc.max_connection_age_ms", args.max_age_ms),
               ("grpc.max_connection_age_grace_ms", 60000)] if args.max_age_ms else []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("echo.Echo", handlers),))
    server.add_insecure_port(f"{args.bind}:{args.port}")
    server.start()
    print("READY", flush=True)
    server.wait_for_termination()


def grpc_health_serve(args):
    """The standard gRPC health service (grpcio-health-checking's HealthServicer), SERVING for the server and for
    each --service; a line on standard input sets them all to that status (SERVING, NOT_SERVING)."""
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    servicer = health.HealthServicer()
    names = [""] + args.service

    def set_all(status):
        for name in names:
            servicer.set(name, status)

    set_all(health_pb2.HealthCheckResponse.SERVING)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"{args.bind}:{args.port}")
    server.start()
    print("READY", flush=True)
    for line in sys.stdin:
        set_all(health_pb2.HealthCheckResponse.ServingStatus.Value(line.strip()))
        print(f"STATUS {line.strip()}", flush=True)
    server.wait_for_termination()


def grpc_call(args):
    """Calls each method in turn on one channel ("@SECONDS" pauses; Chat streams three messages both ways, its reply
    the answers joined by "|"); prints each call's status code, details and reply."""
    import grpc

    results = []
    with grpc.insecure_channel(f"{args.host}:{args.port}") as channel:
        for method in args.methods:
            if method.startswith("@"):
                time.sleep(float(method[1:]))
                continue
            try:
                if method == "Chat":
                    chat = channel.stream_stream("/echo.Echo/Chat")
                    answers = chat(iter([b"one", b"two", b"three"]), timeout=args.timeout)
                    reply = b"|".join(answers)
                else:
                    reply = channel.unary_unary(f"/echo.Echo/{method}")(b"hello", timeout=args.timeout)
                results.append({"code": "OK", "details": "", "reply": reply.decode()})
            except grpc.RpcError as error:
                results.append({"code": error.code().name, "details": error.details() or "", "reply": None})
    print_json(results)
    return 0


# --- dns ---------------------------------------------------------------------


def dns_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".") if label) + b"\0"


def dns_read_question(message):
    """The first question's name, type, and where it ends."""
    labels, offset = [], 12
    while message[offset]:
        length = message[offset]
        labels.append(message[offset + 1:offset + 1 + length].decode(errors="replace"))
        offset += 1 + length
    qtype = struct.unpack("!H", message[offset + 1:offset + 3])[0]
    return ".".join(labels).lower(), qtype, offset + 5


# dns-serve --address NAME=IP: that name's A record instead of 10.1.2.3.
DNS_ADDRESSES = {}


def dns_answer(query):
    """*.test A records are 10.1.2.3 (TTL 60) unless --address says otherwise; other names do not exist (SOA
    minimum 30)."""
    name, qtype, end = dns_read_question(query)
    question = query[12:end]
    flags = 0x8080 | (query[2] & 0x01) << 8
    if name.endswith(".test") and qtype == 1:
        address = socket.inet_aton(DNS_ADDRESSES.get(name, "10.1.2.3"))
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + address
        return query[:2] + struct.pack("!HHHHH", flags, 1, 1, 0, 0) + question + answer
    soa_data = dns_name("ns.test") + dns_name("admin.test") + struct.pack("!IIIII", 1, 60, 60, 60, 30)
    soa = dns_name("test") + struct.pack("!HHIH", 6, 1, 300, len(soa_data)) + soa_data
    rcode = 0 if name.endswith(".test") else 3
    return query[:2] + struct.pack("!HHHHH", flags | rcode, 1, 0, 1, 0) + question + soa


def dns_serve(args):
    DNS_ADDRESSES.update(entry.split("=", 1) for entry in args.address)
    udp = socket.socket(family_for(args.bind), socket.SOCK_DGRAM)
    udp.bind((args.bind, args.port))
    tcp = socket.socket(family_for(args.bind), socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.bind, args.port))
    tcp.listen(16)

    def serve_tcp():
        while True:
            conn, _ = tcp.accept()
            with conn:
                reader = conn.makefile("rb")
                while header := reader.read(2):
                    query = reader.read(struct.unpack("!H", header)[0])
                    name, qtype, _ = dns_read_question(query)
                    print_json({"name": name, "type": qtype, "transport": "tcp"})
                    answer = dns_answer(query)
                    conn.sendall(struct.pack("!H", len(answer)) + answer)

    threading.Thread(target=serve_tcp, daemon=True).start()
    print("READY", flush=True)
    while True:
        query, peer = udp.recvfrom(4096)
        name, qtype, _ = dns_read_question(query)
        print_json({"name": name, "type": qtype, "transport": "udp"})
        answer = dns_answer(query)
        if name.startswith("big."):
            # Too big for UDP: the question alone, truncated, and the client asks again over TCP.
            end = dns_read_question(query)[2]
            answer = query[:2] + struct.pack("!HHHHH", 0x8280 | (query[2] & 0x01) << 8, 1, 0, 0, 0) + query[12:end]
        udp.sendto(answer, peer)


def dns_query(args):
    """Asks one question as a stub resolver would; prints the id check, rcode, TC flag, A addresses and TTLs."""
    query_id = random.randrange(65536)
    questions = [args.name] + ([args.second_question] if args.second_question else [])
    query = struct.pack("!HHHHHH", query_id, 0x0100, len(questions), 0, 0, 0) + b"".join(
        dns_name(name) + struct.pack("!HH", 1, 1) for name in questions)
    if args.tcp:
        with socket.create_connection((args.server, 53), timeout=args.timeout) as sock:
            sock.sendall(struct.pack("!H", len(query)) + query)
            reader = sock.makefile("rb")
            answer = reader.read(struct.unpack("!H", reader.read(2))[0])
    else:
        sock = socket.socket(family_for(args.server), socket.SOCK_DGRAM)
        sock.settimeout(args.timeout)
        sock.sendto(query, (args.server, 53))
        answer, _ = sock.recvfrom(65535)
    _, _, offset = dns_read_question(answer)
    addresses, ttls = [], []
    for _ in range(struct.unpack("!H", answer[6:8])[0]):
        while answer[offset] and answer[offset] & 0xC0 != 0xC0:
            offset += 1 + answer[offset]
        offset += 2 if answer[offset] & 0xC0 == 0xC0 else 1
        rtype, _, ttl, length = struct.unpack("!HHIH", answer[offset:offset + 10])
        if rtype == 1:
            addresses.append(".".join(str(b) for b in answer[offset + 10:offset + 14]))
            ttls.append(ttl)
        offset += 10 + length
    print_json({"idMatches": struct.unpack("!H", answer[:2])[0] == query_id, "rcode": answer[3] & 0x0F,
                "truncated": bool(answer[2] & 0x02), "addresses": addresses, "ttls": ttls})
    return 0


class OTLPCollectorHandler(BaseHTTPRequestHandler):
    """Prints each export it receives as a JSON line: path, content type, and the body (base64)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type", "")
        print_json({"path": self.path, "contentType": content_type, "body": base64.b64encode(body).decode()})
        # An empty ExportTraceServiceResponse, in the encoding of the request.
        reply = b"{}" if content_type == "application/json" else b""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def otlp_collect(args):
    server = DualStackHTTPServer((args.bind, args.port), OTLPCollectorHandler)
    print("READY", flush=True)
    server.serve_forever()


def http_requests(args):
    started = time.monotonic()
    results = []
    try:
        connection = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
        # Opening it again would hide a connection the proxy closed: fail instead.
        connection.auto_open = 0
        connection.connect()
        for request in args.requests:
            if request == "PAUSE":
                print("HOLDING", file=sys.stderr, flush=True)
                sys.stdin.readline()
                continue
            method, path, *size = request.split()
            body = bytes(int(size[0])) if size else None
            connection.request(method, path, body=body)
            response = connection.getresponse()
            data = response.read().decode(errors="replace")
            try:
                data = json.loads(data)
            except ValueError:
                pass
            results.append({"status": response.status, "body": data,
                            "connection": response.getheader("Connection"),
                            "retryAfter": response.getheader("Retry-After")})
    except (OSError, http.client.HTTPException) as error:
        return fail(error, started)
    print_json(results)
    return 0


def http_raw(args):
    with connect(args.host, args.port, args.timeout) as sock:
        sock.sendall(sys.stdin.buffer.read())
        received, closed = b"", False
        try:
            while data := sock.recv(65536):
                received += data
            closed = True
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
    print_json({"received": received.decode(errors="replace"), "closed": closed})
    return 0


def http_upgrade(args):
    with connect(args.host, args.port, args.timeout) as sock:
        sock.sendall(f"GET /ws HTTP/1.1\r\nHost: {args.host}\r\nUpgrade: echo\r\n"
                     "Connection: Upgrade\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(1)
            if not data:
                break
            head += data
        status = int(head.split(b" ", 2)[1]) if head else 0
        echo = b""
        if status == 101:
            sock.sendall(b"ping")
            while len(echo) < 4 and (data := sock.recv(64)):
                echo += data
        report = {"status": status, "echo": echo.decode(errors="replace")}
        if args.hold:
            # Silent from here on: how long until the tunnel is closed, or null when it is still open at the timeout.
            held = time.monotonic()
            try:
                while sock.recv(64):
                    pass
                report["closedAfter"] = round(time.monotonic() - held, 3)
            except ConnectionResetError:
                report["closedAfter"] = round(time.monotonic() - held, 3)
            except socket.timeout:
                report["closedAfter"] = None
    print_json(report)
    return 0


# --- metrics -----------------------------------------------------------------


def metrics(args):
    from prometheus_client.parser import text_string_to_metric_families

    samples = {}
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append({"labels": sample.labels, "value": sample.value})
    print_json(samples)
    return 0


# --- tls ---------------------------------------------------------------------


def tls_call(args):
    import ssl

    started = time.monotonic()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    try:
        with connect(args.host, args.port, args.timeout) as sock:
            time.sleep(args.delay)
            with tls.wrap_socket(sock, server_hostname=args.server_name):
                print_json({"outcome": "established"})
    except (OSError, ssl.SSLError) as error:
        print_json({"outcome": classify(error), "detail": str(error), "elapsed": round(time.monotonic() - started, 3)})
    return 0


def main():
    parser = argparse.ArgumentParser(description="Test peer for swift-sidecar integration tests.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the test server")
    serve_parser.add_argument("--port", type=int, required=True)
    serve_parser.add_argument("--bind", default="::")
    serve_parser.add_argument("--reset", action="store_true", help="reset each connection after the hello line")
    serve_parser.set_defaults(run=serve)

    call_parser = commands.add_parser("call", help="run one exchange as the client")
    call_parser.add_argument("host")
    call_parser.add_argument("port", type=int)
    call_parser.add_argument("--send", type=int, required=True, help="bytes to upload")
    call_parser.add_argument("--expect", type=int, required=True, help="bytes to ask the server for")
    call_parser.add_argument("--timeout", type=float, default=30.0, help="seconds per socket operation")
    call_parser.add_argument("--source-hold", action="store_true", help="wait for stdin before sending")
    call_parser.add_argument("--eager", action="store_true", help="send before reading the server's greeting")
    call_parser.add_argument("--pause", type=float, default=0.0, help="seconds between the request line and the rest")
    call_parser.set_defaults(run=call)

    probe_parser = commands.add_parser("probe", help="report the first event on a new connection")
    probe_parser.add_argument("host")
    probe_parser.add_argument("port", type=int)
    probe_parser.add_argument("--timeout", type=float, default=5.0)
    probe_parser.add_argument("--half-close", action="store_true", help="send a FIN first, then wait")
    probe_parser.set_defaults(run=probe)

    udp_serve_parser = commands.add_parser("udp-serve", help="answer UDP datagrams with a name")
    udp_serve_parser.add_argument("--port", type=int, required=True)
    udp_serve_parser.add_argument("--bind", default="::")
    udp_serve_parser.add_argument("--name", required=True)
    udp_serve_parser.set_defaults(run=udp_serve)

    udp_call_parser = commands.add_parser("udp-call", help="send one UDP datagram, print the reply")
    udp_call_parser.add_argument("host")
    udp_call_parser.add_argument("port", type=int)
    udp_call_parser.add_argument("--timeout", type=float, default=2.0)
    udp_call_parser.set_defaults(run=udp_call)

    http_serve_parser = commands.add_parser("http-serve", help="run the HTTP/1.1 echo server")
    http_serve_parser.add_argument("--port", type=int, required=True)
    http_serve_parser.add_argument("--bind", default="::")
    http_serve_parser.add_argument("--status", type=int, help="answer every request with this status")
    http_serve_parser.add_argument("--log", action="store_true", help="print each request as a JSON line")
    http_serve_parser.set_defaults(run=http_serve)

    shop_parser = commands.add_parser("shop-serve", help="serve an app open to SQL injection")
    shop_parser.add_argument("--port", type=int, required=True)
    shop_parser.add_argument("--bind", default="::")
    shop_parser.set_defaults(run=shop_serve)

    connect_ports_parser = commands.add_parser("connect-ports", help="connect to a run of ports of one host")
    connect_ports_parser.add_argument("host")
    connect_ports_parser.add_argument("--first", type=int, required=True)
    connect_ports_parser.add_argument("--count", type=int, required=True)
    connect_ports_parser.add_argument("--timeout", type=float, default=2.0)
    connect_ports_parser.set_defaults(run=connect_ports)

    lenient_parser = commands.add_parser("lenient-serve", help="serve requests read as leniently as RFC 9112 allows")
    lenient_parser.add_argument("--port", type=int, required=True)
    lenient_parser.add_argument("--bind", default="::")
    lenient_parser.set_defaults(run=lenient_serve)

    paced_parser = commands.add_parser("paced-send", help="send parts with pauses, print what comes back")
    paced_parser.add_argument("host")
    paced_parser.add_argument("port", type=int)
    paced_parser.add_argument("parts", nargs="+")
    paced_parser.add_argument("--bytewise", type=float, default=0.0, help="seconds between bytes")
    paced_parser.add_argument("--timeout", type=float, default=3.0)
    paced_parser.set_defaults(run=paced_send)

    grpc_serve_parser = commands.add_parser("grpc-serve", help="run a gRPC server with raw echo methods")
    grpc_serve_parser.add_argument("--port", type=int, required=True)
    grpc_serve_parser.add_argument("--bind", default="0.0.0.0")
    grpc_serve_parser.add_argument("--max-age-ms", type=int, default=0, help="GOAWAY connections this old")
    grpc_serve_parser.set_defaults(run=grpc_serve)

    grpc_health_parser = commands.add_parser("grpc-health-serve", help="run the standard gRPC health service")
    grpc_health_parser.add_argument("--port", type=int, required=True)
    grpc_health_parser.add_argument("--bind", default="0.0.0.0")
    grpc_health_parser.add_argument("--service", action="append", default=[], help="a service it reports on too")
    grpc_health_parser.set_defaults(run=grpc_health_serve)

    grpc_call_parser = commands.add_parser("grpc-call", help="call /echo.Echo/ methods, print each status")
    grpc_call_parser.add_argument("host")
    grpc_call_parser.add_argument("port", type=int)
    grpc_call_parser.add_argument("methods", nargs="+")
    grpc_call_parser.add_argument("--timeout", type=float, default=10.0)
    grpc_call_parser.set_defaults(run=grpc_call)

    dns_serve_parser = commands.add_parser("dns-serve", help="answer DNS over UDP and TCP")
    dns_serve_parser.add_argument("--port", type=int, default=53)
    dns_serve_parser.add_argument("--bind", default="0.0.0.0")
    dns_serve_parser.add_argument("--address", action="append", default=[], help="NAME=IP: that name's A record")
    dns_serve_parser.set_defaults(run=dns_serve)

    dns_query_parser = commands.add_parser("dns-query", help="ask one A question")
    dns_query_parser.add_argument("name")
    dns_query_parser.add_argument("--server", required=True)
    dns_query_parser.add_argument("--tcp", action="store_true")
    dns_query_parser.add_argument("--second-question", help="ask this name too, in the same query")
    dns_query_parser.add_argument("--timeout", type=float, default=5.0)
    dns_query_parser.set_defaults(run=dns_query)

    echo_parser = commands.add_parser("echo-serve", help="echo on any number of connections, one thread")
    echo_parser.add_argument("--port", type=int, required=True)
    echo_parser.add_argument("--bind", default="0.0.0.0")
    echo_parser.set_defaults(run=echo_serve)

    blast_parser = commands.add_parser("blast-serve", help="send N bytes to each connection, fast")
    blast_parser.add_argument("--port", type=int, required=True)
    blast_parser.add_argument("--bind", default="0.0.0.0")
    blast_parser.add_argument("--bytes", type=int, required=True)
    blast_parser.set_defaults(run=blast_serve)

    slow_parser = commands.add_parser("slow-read", help="read a connection to its end, slowly")
    slow_parser.add_argument("host")
    slow_parser.add_argument("port", type=int)
    slow_parser.add_argument("--rate", type=float, required=True, help="MiB/s at most")
    slow_parser.add_argument("--timeout", type=float, default=30.0)
    slow_parser.set_defaults(run=slow_read)

    hold_parser = commands.add_parser("hold-calls", help="hold N echoing connections until stdin says so")
    hold_parser.add_argument("host")
    hold_parser.add_argument("port", type=int)
    hold_parser.add_argument("--connections", type=int, required=True)
    hold_parser.add_argument("--timeout", type=float, default=60.0)
    hold_parser.add_argument("--batch", type=int, default=0, help="open this many at a time")
    hold_parser.set_defaults(run=hold_calls)

    hold_open_parser = commands.add_parser("hold-open", help="hold N silent connections until stdin says so")
    hold_open_parser.add_argument("host")
    hold_open_parser.add_argument("port", type=int)
    hold_open_parser.add_argument("--connections", type=int, required=True)
    hold_open_parser.add_argument("--timeout", type=float, default=2.0)
    hold_open_parser.set_defaults(run=hold_open)

    sequential_parser = commands.add_parser("sequential-calls", help="N short connections in a row")
    sequential_parser.add_argument("host")
    sequential_parser.add_argument("port", type=int)
    sequential_parser.add_argument("--count", type=int, required=True)
    sequential_parser.add_argument("--timeout", type=float, default=5.0)
    sequential_parser.set_defaults(run=sequential_calls)

    otlp_parser = commands.add_parser("otlp-collect", help="receive OTLP/HTTP exports, print each")
    otlp_parser.add_argument("--port", type=int, required=True)
    otlp_parser.add_argument("--bind", default="::")
    otlp_parser.set_defaults(run=otlp_collect)

    http_requests_parser = commands.add_parser("http-requests", help="send requests on one keep-alive connection")
    http_requests_parser.add_argument("host")
    http_requests_parser.add_argument("port", type=int)
    http_requests_parser.add_argument("requests", nargs="+")
    http_requests_parser.add_argument("--timeout", type=float, default=10.0)
    http_requests_parser.set_defaults(run=http_requests)

    http_raw_parser = commands.add_parser("http-raw", help="send stdin, print what comes back")
    http_raw_parser.add_argument("host")
    http_raw_parser.add_argument("port", type=int)
    http_raw_parser.add_argument("--timeout", type=float, default=2.0)
    http_raw_parser.set_defaults(run=http_raw)

    http_upgrade_parser = commands.add_parser("http-upgrade", help="upgrade to a raw echo and use it")
    http_upgrade_parser.add_argument("host")
    http_upgrade_parser.add_argument("port", type=int)
    http_upgrade_parser.add_argument("--timeout", type=float, default=5.0)
    http_upgrade_parser.add_argument("--hold", action="store_true", help="then stay silent until the tunnel closes")
    http_upgrade_parser.set_defaults(run=http_upgrade)

    tls_parser = commands.add_parser("tls-call", help="a TLS handshake after a silence")
    tls_parser.add_argument("host")
    tls_parser.add_argument("port", type=int)
    tls_parser.add_argument("--server-name", required=True)
    tls_parser.add_argument("--delay", type=float, default=0.0)
    tls_parser.add_argument("--timeout", type=float, default=5.0)
    tls_parser.set_defaults(run=tls_call)

    metrics_parser = commands.add_parser("metrics", help="parse Prometheus text on stdin")
    metrics_parser.set_defaults(run=metrics)

    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
