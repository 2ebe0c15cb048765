#!/usr/bin/env python3
"""https_wkd.py - an HTTPS file server for Web Key Directory tests: serves
files from per-site document roots, and when asked answers wrongly
(status, redirect, oversized, slow).

    https_wkd.py --site ADDR:PORT:DIR [--site ...] --ready FILE

Every site listens on its own address. Its DIR is read again for every
connection, so a test changes the behaviour between requests by
rewriting files, without a restart:

  DIR/cert.pem, DIR/key.pem  the certificate chain and key to present
  DIR/root/                  the document root: GET /a/b?q serves
                             DIR/root/a/b (the query is ignored); a
                             missing file (or any ".." or other method)
                             gets 404
  DIR/response               optional key=value lines, for every request:
      status=N               HTTP status (default 200, or 302 with
                             location)
      location=URL           a Location header
      size=N                 a generated body of N bytes instead (for
                             any path; status 200 by default)
      chunked=1              Transfer-Encoding: chunked, no Content-Length
      delay=SECS             wait before answering

It appends one line per request to DIR/requests.log, written before the
answer goes out:

    GET /.well-known/openpgpkey/hu/X?l=a host=H sni=S tls=TLSv1.3

and TLS handshake failures to DIR/events.log. --ready FILE is written
once every site listens.
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

HEAD_MAX = 16384


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


def log_line(d, name, text):
    with open(os.path.join(d, name), "a") as f:
        f.write(text + "\n")


class Site:
    def __init__(self, addr, port, d):
        self.dir = d
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr
                                  else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)

    def context(self, sni_box):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
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
            s = self.context(sni).wrap_socket(raw, server_side=True)
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

    def file_for(self, target):
        path = target.split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in path.split("/") if p]
        if not path.startswith("/") or any(p in (".", "..") for p in parts):
            return None
        f = os.path.join(self.dir, "root", *parts)
        return f if os.path.isfile(f) else None

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
        target = parts[1] if len(parts) > 1 else ""
        host = ""
        for h in lines[1:]:
            if ":" in h:
                k, v = h.split(":", 1)
                if k.strip().lower() == "host":
                    host = v.strip()
        log_line(self.dir, "requests.log", "%s %s host=%s sni=%s tls=%s" % (
            method, target, host, sni[0] if sni else "", s.version()))

        delay = float(conf.get("delay", "0"))
        if delay > 0:
            time.sleep(delay)
        f = self.file_for(target) if method == "GET" else None
        status = 200 if f or "size" in conf else 404
        if "location" in conf:
            status = 302
        status = int(conf.get("status", status))
        if "size" in conf:
            body = b"k" * int(conf["size"])
        elif f and status == 200:
            with open(f, "rb") as fh:
                body = fh.read()
        else:
            body = b"%d\n" % status
        hdr = ["HTTP/1.1 %d X" % status, "Connection: close",
               "Content-Type: application/octet-stream"]
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
