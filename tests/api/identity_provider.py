"""A local OpenID Connect identity provider for the tests: its own keys, a discovery document and a
JWKS endpoint on a free port (a threaded ``http.server``), and tokens signed with its keys.

Keys can be added, published and withdrawn while it runs (a rotation), and it can be stopped (the
provider is down: connections are refused) and started again on the same port.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class IdentityProvider:
    def __init__(self, audience: str = "famassist") -> None:
        self.audience = audience
        self.keys: dict[str, tuple[PrivateKey, str]] = {}  # kid → (private key, algorithm)
        self.published: list[str] = []  # the kids the JWKS endpoint lists
        self.jwks_requests = 0
        self.delay = 0.0  # seconds the JWKS endpoint takes to answer (a slow provider)
        self.discovery_requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- keys ------------------------------------------------------------------------------
    def new_key(self, algorithm: str = "RS256", *, publish: bool = True) -> str:
        kid = f"{algorithm.lower()}-{uuid.uuid4().hex[:8]}"
        key: PrivateKey = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if algorithm == "RS256"
                           else ec.generate_private_key(ec.SECP256R1()))
        with self._lock:
            self.keys[kid] = (key, algorithm)
            if publish:
                self.published.append(kid)
        return kid

    def withdraw(self, kid: str) -> None:
        with self._lock:
            self.published.remove(kid)

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            entries = []
            for kid in self.published:
                key, algorithm = self.keys[kid]
                public = key.public_key()
                jwk = (RSAAlgorithm.to_jwk(public, as_dict=True) if isinstance(public, rsa.RSAPublicKey)
                       else ECAlgorithm.to_jwk(public, as_dict=True))
                entries.append({**jwk, "kid": kid, "use": "sig", "alg": algorithm})
            return {"keys": entries}

    # --- tokens ----------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/realms/famassist"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    def token(self, claims: dict[str, Any], *, kid: str | None = None, issuer: str | None = None,
              audience: str | None = None, expires_in: timedelta = timedelta(minutes=5)) -> str:
        kid = kid or self.published[-1]
        key, algorithm = self.keys[kid]
        now = datetime.now(UTC)
        body = {"iss": issuer or self.issuer, "aud": audience or self.audience, "iat": now,
                "exp": now + expires_in, **claims}
        return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})

    def bearer(self, claims: dict[str, Any], **options: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(claims, **options)}"}

    # --- the HTTP server -------------------------------------------------------------------
    def start(self) -> IdentityProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/realms/famassist/.well-known/openid-configuration":
                    provider.discovery_requests += 1
                    self._json({"issuer": provider.issuer, "jwks_uri": provider.jwks_uri,
                                "id_token_signing_alg_values_supported": ["RS256", "ES256"]})
                elif self.path == "/realms/famassist/protocol/openid-connect/certs":
                    provider.jwks_requests += 1
                    time.sleep(provider.delay)
                    self._json(provider.jwks())
                else:
                    self.send_error(404)

            def _json(self, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The provider goes down: its port refuses connections until :meth:`start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
