#!/usr/bin/env python3
"""https_policy.py - an HTTPS server for MTA-STS tests: serves policy
files (RFC 8461 3.3) from per-site directories, and when asked answers
wrongly (status, Content-Type, redirect, oversized, slow, old TLS).

    https_policy.py --site ADDR:PORT:DIR [--site ...] --ready FILE

Every site listens on its own address. Its DIR is read again for every
connection, so a test changes the behaviour between requests by
rewriting files, without a restart:

  DIR/cert.pem, DIR/key.pem  the certificate chain and key to present
  DIR/policy.txt             the body (default)
  DIR/response               optional key=value lines:
      status=200             HTTP status
      content_type=TYPE      Content-Type ("-": none; default
                             "text/plain; charset=utf-8")
      body=FILE              another file of DIR as the body
      size=N                 instead a generated body of exactly N bytes
                             (a valid policy padded with an unknown field)
      chunked=1              Transfer-Encoding: chunked, no Content-Length
      location=URL           a Location header (for 3xx)
      delay=SECS             wait before answering
      tls_max=1.1            highest TLS version offered (1.0 1.1 1.2 1.3)

It appends one line per request to DIR/requests.log, written before the
answer goes out:

    GET /.well-known/mta-sts.txt host=H sni=S tls=TLSv1.3

and TLS handshake failures to DIR/events.log. A request without a body
(anything else) gets 404. --ready FILE is written once every site
listens.
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
HEAD_MAX = 16384
POLICY_PATH = "/.well-known/mta-sts.txt"


def read_conf(d):
    conf = {}
    try:
        with open(os.path.join(d, "response")) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                k, v = line.split("=", 1)
                conf[k.strip()] = v.strip()
    except FileNotFoundError:
        pass
    return conf


def generated_body(n):
    head = (b"version: STSv1\nmode: enforce\nmx: mx.example.test\n"
            b"max_age: 86400\nx: ")
    if n <= len(head) + 1:
        return (b"a" * n)
    return head + b"a" * (n - len(head) - 1) + b"\n"


def log_line(d, name, text):
    with open(os.path.join(d, name), "a") as f:
        f.write(text + "\n")


class Site:
    def __init__(self, addr, port, d):
        self.addr = addr
        self.port = port
        self.dir = d
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr
                                  else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)

    def context(self, conf, sni_box):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tmax = conf.get("tls_max")
        if tmax:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = VERSIONS[tmax]
            if VERSIONS[tmax] < ssl.TLSVersion.TLSv1_2:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(os.path.join(self.dir, "cert.pem"),
                            os.path.join(self.dir, "key.pem"))

        def on_sni(sslobj, name, c):
            sni_box.append(name)
        ctx.sni_callback = on_sni
        return ctx

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,),
                             daemon=True).start()

    def handle(self, raw):
        conf = read_conf(self.dir)
        sni = []
        raw.settimeout(30)
        try:
            ctx = self.context(conf, sni)
            s = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log_line(self.dir, "events.log", "tls-fail %s" % e)
            raw.close()
            return
        try:
            self.request(s, conf, sni)
        except (ssl.SSLError, OSError) as e:
            log_line(self.dir, "events.log", "io-fail %s" % e)
        finally:
            try:
                s.close()
            except OSError:
                pass

    def request(self, s, conf, sni):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return
            data += chunk
            if len(data) > HEAD_MAX:
                return
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        method = parts[0] if parts else ""
        path = parts[1] if len(parts) > 1 else ""
        host = ""
        for h in lines[1:]:
            if ":" in h:
                k, v = h.split(":", 1)
                if k.strip().lower() == "host":
                    host = v.strip()
        log_line(self.dir, "requests.log", "%s %s host=%s sni=%s tls=%s" % (
            method, path, host, sni[0] if sni else "", s.version()))

        delay = float(conf.get("delay", "0"))
        if delay > 0:
            time.sleep(delay)
        status = int(conf.get("status", "200"))
        if method != "GET" or path != POLICY_PATH:
            status = 404
            body = b"not found\n"
        elif "size" in conf:
            body = generated_body(int(conf["size"]))
        else:
            name = conf.get("body", "policy.txt")
            with open(os.path.join(self.dir, name), "rb") as f:
                body = f.read()
        hdr = ["HTTP/1.1 %d X" % status, "Connection: close"]
        ctype = conf.get("content_type", "text/plain; charset=utf-8")
        if ctype != "-":
            hdr.append("Content-Type: " + ctype)
        if "location" in conf:
            hdr.append("Location: " + conf["location"])
        chunked = conf.get("chunked") == "1"
        if chunked:
            hdr.append("Transfer-Encoding: chunked")
        else:
            hdr.append("Content-Length: %d" % len(body))
        s.sendall(("\r\n".join(hdr) + "\r\n\r\n").encode("latin-1"))
        if chunked:
            for i in range(0, len(body), 4096):
                piece = body[i:i + 4096]
                s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        else:
            s.sendall(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", action="append", required=True,
                    help="ADDR:PORT:DIR")
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    sites = []
    for spec in args.site:
        addr, port, d = spec.split(":", 2)
        sites.append(Site(addr, int(port), d))
    for site in sites:
        threading.Thread(target=site.serve, daemon=True).start()
    with open(args.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
