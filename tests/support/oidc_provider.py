"""A real OpenID Connect provider on loopback for tests, built from Authlib's server components.

Discovery document, JWKS (an RSA key made per run), authorization code flow with PKCE (S256 required) and
nonce, ID tokens signed RS256. Who is "signed in at the provider" is set by the test (``provider.sign_in``);
nobody signed in means the provider answers ``access_denied``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


@dataclass
class _Client:
    client_id: str
    client_secret: str
    redirect_prefixes: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri.startswith(p) for p in self.redirect_prefixes)

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post") if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    email: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "0"

    def get_amr(self) -> list[str]:
        return ["pwd"]

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > 300


@dataclass
class _Person:
    email: str
    email_verified: bool = True


class OidcProvider:
    def __init__(self, client_id: str, client_secret: str, redirect_prefixes: tuple[str, ...]):
        self.client = _Client(client_id, client_secret, redirect_prefixes)
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"})
        self.codes: dict[str, _Code] = {}
        self.nonces: set[str] = set()
        self.person: _Person | None = None
        self.issuer = ""
        self.tokens_issued = 0

    def sign_in(self, email: str | None, *, verified: bool = True) -> None:
        self.person = _Person(email, verified) if email else None

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def flask_app(self) -> Flask:
        provider = self
        app = Flask("test_oidc_provider")
        app.config["SECRET_KEY"] = secrets.token_hex(16)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                if data.get("nonce"):
                    provider.nonces.add(data["nonce"])
                provider.codes[code] = _Code(code, request.client.client_id, request.payload.redirect_uri,
                                             request.scope, request.user.email, data.get("nonce"),
                                             data.get("code_challenge"), data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: Any) -> _Code | None:
                item = provider.codes.get(code)
                return item if item and item.client_id == client.client_id and not item.is_expired() else None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> _Person:
                return _Person(authorization_code.email, provider.person.email_verified if provider.person else True)

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, request: Any) -> bool:
                # A nonce is spent once a code was issued for it (the check runs more than once per request).
                return nonce in provider.nonces

            def resolve_client_private_key(self, client: Any) -> Any:
                return provider.key

            def get_client_algorithm(self, client: Any) -> str:
                return "RS256"

            def get_client_claims(self, client: Any) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + 300}

            def get_encode_header(self, client: Any) -> dict[str, Any]:
                return {"alg": "RS256", "kid": provider.key.kid}

            def generate_user_info(self, user: _Person, scope: str) -> UserInfo:
                provider.tokens_issued += 1
                return UserInfo(sub="sub-" + user.email, email=user.email, email_verified=user.email_verified)

        def save_token(token: dict[str, Any], request: Any) -> None:
            pass

        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == self.client.client_id
                                     else None, save_token=save_token)
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return jsonify({
                "issuer": provider.issuer, "authorization_endpoint": provider.issuer + "/authorize",
                "token_endpoint": provider.issuer + "/token", "jwks_uri": provider.issuer + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"]})

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> Any:
            try:
                grant = server.get_consent_grant(end_user=provider.person)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            return server.create_authorization_response(grant=grant, grant_user=provider.person)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        return app


@contextmanager
def running_provider(client_id: str, client_secret: str, redirect_prefixes: tuple[str, ...]) -> Iterator[OidcProvider]:
    provider = OidcProvider(client_id, client_secret, redirect_prefixes)
    server = make_server("127.0.0.1", 0, provider.flask_app(), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
