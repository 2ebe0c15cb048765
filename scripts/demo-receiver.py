#!/usr/bin/env python3
"""demo-receiver.py - a small receiving SMTP server for `make run`'s demo
domains. It stores every message it receives in MAILDIR as NNNN.eml with
an X-Demo-Received: header saying whether it arrived over TLS (protocol
and cipher) or in plaintext, so a newcomer sees what left the gateway.

usage: demo-receiver.py --listen 127.0.0.1:2526 --maildir DIR
                        [--tls CERT KEY]   (offer STARTTLS)
"""
import argparse
import os
import socketserver
import ssl
import threading

LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    timeout = 120

    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(4096)
        if not line:
            raise EOFError
        return line.rstrip(b"\r\n").decode("latin-1")

    def handle(self):
        srv = self.server
        tls = None
        self.send("220 %s ESMTP demo receiver" % srv.name)
        rcpts, sender = [], None
        while True:
            try:
                line = self.readline()
            except (EOFError, OSError, ssl.SSLError):
                return
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                caps = ["PIPELINING", "8BITMIME", "SIZE 52428800"]
                if srv.ctx is not None and tls is None:
                    caps.append("STARTTLS")
                lines = [srv.name] + caps
                for l in lines[:-1]:
                    self.send("250-" + l)
                self.send("250 " + lines[-1])
            elif line.upper() == "STARTTLS" and srv.ctx is not None and tls is None:
                self.send("220 2.0.0 Ready to start TLS")
                conn = srv.ctx.wrap_socket(self.connection, server_side=True)
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls = "%s %s" % (conn.version(), conn.cipher()[0])
                rcpts, sender = [], None
            elif verb == "MAIL":
                sender, rcpts = line[10:].strip(), []
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpts.append(line[8:].strip())
                self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                self.send("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    body.append(l[1:] if l.startswith(b"..") else l)
                with LOCK:
                    srv.count += 1
                    n = srv.count
                path = os.path.join(srv.maildir, "%04d.eml" % n)
                with open(path, "wb") as f:
                    f.write(("X-Demo-Received: %s; from %s to %s\r\n" % (
                        ("over " + tls) if tls else "in PLAINTEXT",
                        sender, ", ".join(rcpts))).encode())
                    f.writelines(body)
                self.send("250 2.0.0 Ok: stored as %s" % os.path.basename(path))
            elif verb == "RSET":
                sender, rcpts = None, []
                self.send("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                return
            else:
                self.send("502 5.5.1 Command not implemented")


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--name", default="demo-receiver")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    os.makedirs(a.maildir, exist_ok=True)
    srv = Server((host, int(port)), Handler)
    srv.name = a.name
    srv.maildir = a.maildir
    srv.count = len([f for f in os.listdir(a.maildir) if f.endswith(".eml")])
    srv.ctx = None
    if a.tls:
        srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        srv.ctx.load_cert_chain(a.tls[0], a.tls[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
