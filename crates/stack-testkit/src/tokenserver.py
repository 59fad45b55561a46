#!/usr/bin/python3
"""A token server shaped like Docker Hub's: anonymous clients get pull
access, clients with the test credentials get pull and push. Tokens are
RS256 JWTs with an x5c header, as distribution's token auth expects."""
import base64, json, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DIR = sys.argv[1]
PORT = int(sys.argv[2])
KEY = open(f"{DIR}/key.pem", "rb").read()
CERT = x509.load_pem_x509_certificate(open(f"{DIR}/cert.pem", "rb").read())
X5C = [base64.b64encode(CERT.public_bytes(serialization.Encoding.DER)).decode()]
USERS = {"testuser": "testpass"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path != "/token":
            self.send_response(404)
            self.end_headers()
            return
        user = None
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if USERS.get(name) != password:
                self.send_response(401)
                self.end_headers()
                return
            user = name
        access = []
        for scope in query.get("scope", []):
            for one in scope.split(" "):
                if one.count(":") < 2:
                    continue
                kind, name, actions = one.split(":", 2)
                if kind != "repository":
                    continue
                allowed = [a for a in actions.split(",") if a == "pull" or (a == "push" and user)]
                access.append({"type": kind, "name": name, "actions": allowed})
        now = int(time.time())
        claims = {"iss": "test-issuer", "sub": user or "", "aud": query.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        token = jwt.encode(claims, KEY, algorithm="RS256", headers={"x5c": X5C})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("token: " + (fmt % args) + "\n")


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
