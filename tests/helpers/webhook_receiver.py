#!/usr/bin/env python3
"""A webhook receiver for the alert tests: a real HTTP/1.1 server on loopback that logs every
request it gets and answers as the test asks.

usage: webhook_receiver.py --port P --log FILE [--mode-file FILE] [--bind 127.0.0.1]

The answer to a request comes from the mode file when it exists (its first line), else from
the path:
  /ok, anything else      200
  /status/N               status N
  /flaky/K                500 to the first K attempts of each idempotency key, then 200
  /slow/S                 waits S seconds, then 200
  /never                  reads the request and never answers (until the receiver stops)
  /reset                  closes the connection with a TCP reset
  /reset-then-ok/K        resets the first K attempts of each key, then 200
Modes in the mode file: "200", "500", "slow:S", "never", "reset".

Each request is one JSON line in the log, written and flushed when the answer is decided:
  {"t": unix_s, "path": ..., "key": Idempotency-Key, "alert": X-Halog-Alert,
   "answer": "200" | "500" | "never" | "reset" ..., "json_ok": bool, "body": parsed JSON or null}
A key counts as delivered when one of its lines has answer "200" (or 2xx). The receiver keeps
no other state than the attempts per key, so a test can restart it.
"""
import argparse
import http.server
import json
import socket
import socketserver
import struct
import sys
import threading
import time

attempts = {}
lock = threading.Lock()
stopping = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def _log(self, answer, body):
        try:
            parsed = json.loads(body.decode("utf-8"))
            ok = True
        except Exception:
            parsed, ok = None, False
        rec = {
            "t": round(time.time(), 3),
            "path": self.path,
            "key": self.headers.get("Idempotency-Key"),
            "alert": self.headers.get("X-Halog-Alert"),
            "content_type": self.headers.get("Content-Type"),
            "answer": answer,
            "json_ok": ok,
            "body": parsed,
        }
        with lock:
            with open(self.server.logfile, "a") as f:
                f.write(json.dumps(rec) + "\n")
                f.flush()

    def _mode(self, key):
        mf = self.server.modefile
        if mf:
            try:
                with open(mf) as f:
                    m = f.readline().strip()
                if m:
                    return m
            except OSError:
                pass
        p = self.path.split("?")[0].strip("/").split("/")
        with lock:
            n = attempts.get(key, 0) + 1
            attempts[key] = n
        if p[0] == "status" and len(p) > 1:
            return p[1]
        if p[0] == "flaky" and len(p) > 1:
            return "500" if n <= int(p[1]) else "200"
        if p[0] == "slow" and len(p) > 1:
            return "slow:" + p[1]
        if p[0] == "never":
            return "never"
        if p[0] == "reset":
            return "reset"
        if p[0] == "reset-then-ok" and len(p) > 1:
            return "reset" if n <= int(p[1]) else "200"
        return "200"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        key = self.headers.get("Idempotency-Key") or ""
        mode = self._mode(key)
        if mode.startswith("slow:"):
            time.sleep(float(mode[5:]))
            mode = "200"
        self._log(mode, body)
        if mode == "never":
            # hold the connection open, answering nothing, until the receiver stops
            while not stopping.wait(0.2):
                pass
            self.close_connection = True
            return
        if mode == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        code = int(mode)
        out = b'{"ok":true}' if 200 <= code < 300 else b'{"error":"test"}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode-file")
    a = ap.parse_args()
    srv = Server((a.bind, a.port), Handler)
    srv.logfile = a.log
    srv.modefile = a.mode_file
    import signal

    def stop(*_):
        stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening on %s:%d" % (a.bind, a.port), flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
