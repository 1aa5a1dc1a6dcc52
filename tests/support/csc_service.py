"""A loopback remote signing service speaking the Cloud Signature Consortium API v1 (the subset QLVB uses).

``POST /csc/v1/credentials/list`` → the holder's credential ids; ``credentials/info`` → certificate chain and
algorithms; ``credentials/authorize`` with the holder's PIN and the hashes → signature activation data (SAD)
bound to exactly those hashes, for one use; ``signatures/signHash`` with that SAD → raw RSA signatures.
The service checks its bearer token, the PIN, and that the hash count matches what was authorised.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SHA256 = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"


@dataclass
class Credential:
    user_id: str
    pin: str
    key: rsa.RSAPrivateKey
    chain_der: list[bytes]  # the signer's certificate first


@dataclass
class CscService:
    token: str
    credentials: dict[str, Credential]
    signed: int = 0  # hashes signed so far
    refused_pins: int = 0
    _sad: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    url: str = ""
    _server: Any = None
    _thread: threading.Thread | None = None

    # -- HTTP ------------------------------------------------------------------------------
    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/csc/v1/"):
            return _error(404, "invalid_request", "Unknown endpoint")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "invalid_token", "Bad or missing access token")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _error(400, "invalid_request", "Body is not JSON")
        handler = {"credentials/list": self._list, "credentials/info": self._info,
                   "credentials/authorize": self._authorize, "signatures/signHash": self._sign_hash}.get(
            request.path.removeprefix("/csc/v1/"))
        if handler is None:
            return _error(404, "invalid_request", "Unknown endpoint")
        return handler(body)

    def _list(self, body: dict[str, Any]) -> Response:
        user = body.get("userID")
        return _json({"credentialIDs": [cid for cid, c in self.credentials.items() if user in (None, c.user_id)]})

    def _credential(self, body: dict[str, Any]) -> Credential | None:
        return self.credentials.get(str(body.get("credentialID")))

    def _info(self, body: dict[str, Any]) -> Response:
        cred = self._credential(body)
        if cred is None:
            return _error(400, "invalid_request", "Invalid parameter credentialID")
        return _json({
            "key": {"status": "enabled", "algo": [SHA256_WITH_RSA, RSA_ENCRYPTION], "len": cred.key.key_size},
            "cert": {"status": "valid", "certificates": [base64.b64encode(c).decode() for c in cred.chain_der]},
            "authMode": "explicit", "PIN": {"presence": "true", "format": "N"}, "SCAL": "2", "multisign": 1,
        })

    def _authorize(self, body: dict[str, Any]) -> Response:
        cred = self._credential(body)
        if cred is None:
            return _error(400, "invalid_request", "Invalid parameter credentialID")
        if body.get("PIN") != cred.pin:
            self.refused_pins += 1
            return _error(400, "invalid_pin", "The PIN is invalid")
        hashes_b64 = tuple(body.get("hash") or ())
        if not hashes_b64 or int(body.get("numSignatures", 0)) != len(hashes_b64) or len(hashes_b64) > 1:
            return _error(400, "invalid_request", "numSignatures must match the hashes (at most 1)")
        sad = secrets.token_urlsafe(24)
        self._sad[sad] = (str(body["credentialID"]), hashes_b64)
        return _json({"SAD": sad, "expiresIn": 300})

    def _sign_hash(self, body: dict[str, Any]) -> Response:
        cred = self._credential(body)
        bound = self._sad.pop(str(body.get("SAD")), None)  # one use
        if cred is None or bound is None or bound[0] != str(body.get("credentialID")):
            return _error(400, "invalid_request", "Invalid SAD")
        hashes_b64 = tuple(body.get("hash") or ())
        if hashes_b64 != bound[1]:
            return _error(400, "invalid_request", "Hash does not match the authorised one")
        if body.get("hashAlgo") != SHA256 or body.get("signAlgo") not in (SHA256_WITH_RSA, RSA_ENCRYPTION):
            return _error(400, "invalid_request", "Unsupported algorithm")
        signatures = [base64.b64encode(cred.key.sign(base64.b64decode(h), padding.PKCS1v15(),
                                                     utils.Prehashed(hashes.SHA256()))).decode()
                      for h in hashes_b64]
        self.signed += len(signatures)
        return _json({"signatures": signatures})

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> CscService:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="csc", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status)
