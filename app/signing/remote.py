"""Remote signing through a Cloud Signature Consortium (CSC API v1) service, with pyHanko's CSC client.

The holder's PIN (or OTP) is sent to ``credentials/authorize`` together with the hash about to be
signed, so the activation data it returns is good for that one signature only; the service then
signs the hash (``signatures/signHash``). Nothing of the holder's secret stays here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers.csc_signer import (
    CSCAuthorizationInfo,
    CSCAuthorizationManager,
    CSCCredentialInfo,
    CSCServiceSessionInfo,
    CSCSigner,
    fetch_certs_in_csc_credential,
)

from app.signing.errors import SignerDeviceError, SignerKeyError, SigningError
from app.signing.refs import CscSignerRef

log = logging.getLogger(__name__)

UNREACHABLE = "Không kết nối được dịch vụ ký số từ xa; văn bản chưa được ký, hãy thử lại sau"
REFUSED_PIN = "Dịch vụ ký số từ xa từ chối mã PIN/OTP: mã không đúng hoặc đã bị khóa"


def _session_info(ref: CscSignerRef, credential_id: str) -> CSCServiceSessionInfo:
    return CSCServiceSessionInfo(service_url=ref.service_url.rstrip("/"), credential_id=credential_id,
                                 oauth_token=ref.access_token)


def _unreachable(what: str, exc: BaseException) -> SignerDeviceError:
    return SignerDeviceError(UNREACHABLE, log=f"CSC {what}: {exc!r}")


async def _post(http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, object],
                what: str) -> tuple[int, dict[str, object]]:
    try:
        async with http.post(url, headers=headers, json=body) as response:
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = {}
            return response.status, data if isinstance(data, dict) else {}
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _unreachable(what, exc) from None


async def _first_credential(http: aiohttp.ClientSession, ref: CscSignerRef) -> str:
    url = _session_info(ref, "").endpoint_url("credentials/list")
    status, data = await _post(http, url, _session_info(ref, "").auth_headers,
                               {"userID": ref.user_id} if ref.user_id else {}, "credentials/list")
    ids = data.get("credentialIDs") if status == 200 else None
    if not isinstance(ids, list) or not ids:
        raise SignerKeyError("Dịch vụ ký số từ xa không có chứng thư số nào của người ký",
                             log=f"CSC credentials/list for {ref.user_id!r}: HTTP {status} {data!r}")
    return str(ids[0])


class _HolderAuthorization(CSCAuthorizationManager):
    """Asks ``credentials/authorize`` for activation data bound to the hashes, with the holder's PIN/OTP."""

    def __init__(self, session_info: CSCServiceSessionInfo, credential_info: CSCCredentialInfo, *,
                 http: aiohttp.ClientSession, pin: str | None, otp: str | None):
        super().__init__(session_info, credential_info)
        self._http, self._pin, self._otp = http, pin, otp
        self.failure: Exception | None = None  # why it refused: pyHanko's signer only logs it

    async def authorize_signature(self, hash_b64s: list[str]) -> CSCAuthorizationInfo:
        body = self.format_csc_auth_request(pin=self._pin, otp=self._otp, hash_b64s=hash_b64s,
                                            description="QLVB")
        try:
            status, data = await _post(self._http, self.csc_session_info.endpoint_url("credentials/authorize"),
                                       self.auth_headers, body, "credentials/authorize")
        except SignerDeviceError as exc:
            self.failure = exc
            raise PyhankoSigningError("CSC authorize unreachable") from None
        if status in (400, 401, 403):
            self.failure = SignerKeyError(REFUSED_PIN, log=f"CSC authorize refused: HTTP {status} {data!r}")
            raise PyhankoSigningError("CSC authorize refused")
        if status != 200:
            self.failure = SigningError("Dịch vụ ký số từ xa gặp lỗi; văn bản chưa được ký",
                                        log=f"CSC authorize: HTTP {status} {data!r}")
            raise PyhankoSigningError("CSC authorize failed")
        return self.parse_csc_auth_response(data)


class RemoteSigner(CSCSigner):
    """pyHanko's CSC signer that remembers why the service refused (its own error says only "no results")."""

    auth: _HolderAuthorization

    def failure(self) -> Exception | None:
        return self.auth.failure


@contextlib.asynccontextmanager
async def open_csc_signer(ref: CscSignerRef) -> AsyncIterator[RemoteSigner]:
    if not (ref.pin or ref.otp):
        raise SignerKeyError("Nhập mã PIN (hoặc OTP) của chứng thư số ký từ xa")
    timeout = aiohttp.ClientTimeout(total=ref.timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        credential_id = ref.credential_id or await _first_credential(http, ref)
        info = _session_info(ref, credential_id)
        try:
            credential = await fetch_certs_in_csc_credential(http, info, timeout=ref.timeout_seconds)
        except TimeoutError as exc:
            raise _unreachable("credentials/info", exc) from None
        except PyhankoSigningError as exc:
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientResponseError) and cause.status in (400, 401, 403, 404):
                raise SignerKeyError("Dịch vụ ký số từ xa không nhận chứng thư số đã cấu hình cho người ký",
                                     log=f"CSC credentials/info {credential_id!r}: {cause!r}") from None
            if isinstance(cause, aiohttp.ClientError | TimeoutError) or cause is None:
                raise _unreachable("credentials/info", cause or exc) from None
            raise SigningError("Dịch vụ ký số từ xa trả lời không đúng chuẩn",
                               log=f"CSC credentials/info: {exc!r}") from None
        auth = _HolderAuthorization(info, credential, http=http, pin=ref.pin, otp=ref.otp)
        signer = RemoteSigner(http, auth, sign_timeout=ref.timeout_seconds)
        signer.auth = auth
        yield signer
