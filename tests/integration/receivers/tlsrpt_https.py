#!/usr/bin/env python3
"""tlsrpt_https.py - an HTTPS receiver of TLS-RPT reports (RFC 8460 5.2)
for the integration tests. Every POST is checked: Content-Type
application/tlsrpt+gzip, a gzip body holding JSON with the RFC 8460 4.3
members. A good report is saved as --out/NNN.json and answered 201; a bad
one is answered 400 with the reason, and logged. One line per request
goes to --log:

    POST /path ct=application/tlsrpt+gzip status=201 report-id=...
    POST /path ... status=400 error=...
"""
import argparse
import gzip
import http.server
import json
import os
import ssl
import sys
import threading


def check(j):
    for k in ("organization-name", "contact-info", "report-id"):
        if not isinstance(j.get(k), str) or not j[k]:
            return "missing %s" % k
    dr = j.get("date-range") or {}
    for k in ("start-datetime", "end-datetime"):
        if not isinstance(dr.get(k), str):
            return "missing date-range %s" % k
    if not isinstance(j.get("policies"), list) or not j["policies"]:
        return "no policies"
    for p in j["policies"]:
        pol = p.get("policy") or {}
        if pol.get("policy-type") not in ("sts", "tlsa", "no-policy-found"):
            return "bad policy-type"
        if not isinstance(pol.get("policy-domain"), str):
            return "no policy-domain"
        s = p.get("summary") or {}
        for k in ("total-successful-session-count",
                  "total-failure-session-count"):
            if not isinstance(s.get(k), int):
                return "summary %s" % k
        tot = 0
        for f in p.get("failure-details", []):
            if not isinstance(f.get("result-type"), str):
                return "failure without result-type"
            if not isinstance(f.get("failed-session-count"), int):
                return "failure without count"
            tot += f["failed-session-count"]
        if tot != s["total-failure-session-count"]:
            return "failure counts do not add up"
    return None


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, code, text, extra):
        srv = self.server
        with srv.lock:
            srv.logf.write("POST %s ct=%s status=%d %s\n" % (
                self.path, self.headers.get("Content-Type"), code, extra))
            srv.logf.flush()
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        if self.headers.get("Content-Type") != "application/tlsrpt+gzip":
            return self.answer(400, "bad content type", "error=ct")
        try:
            j = json.loads(gzip.decompress(data))
        except Exception as e:  # noqa: BLE001 - any failure is the answer
            return self.answer(400, "not gzip JSON", "error=%s" % e)
        err = check(j)
        if err:
            return self.answer(400, err, "error=%s" % err)
        srv = self.server
        with srv.lock:
            srv.n += 1
            path = os.path.join(srv.out, "%03d.json" % srv.n)
        with open(path, "w") as f:
            json.dump(j, f)
        self.answer(srv.status, "thanks", "report-id=%s" % j["report-id"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--status", type=int, default=201)
    p.add_argument("--ready")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    srv = http.server.ThreadingHTTPServer((a.addr, a.port), H)
    srv.lock = threading.Lock()
    srv.logf = open(a.log, "a")
    srv.out = a.out
    srv.n = 0
    srv.status = a.status
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.ready:
        open(a.ready, "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
