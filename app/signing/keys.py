"""Loading signing keys. PKCS#12 decryption (PBKDF2) costs tens of ms, so loaded signers are cached."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import pathlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from app.signing.errors import SignerDeviceError, SignerKeyError
from app.signing.refs import CscSignerRef, Pkcs11SignerRef, Pkcs12SignerRef, SignerRef

_CACHE_SIZE = 64
_cache: OrderedDict[tuple[object, ...], Signer] = OrderedDict()
_lock = threading.Lock()


class _LoadedKeySigner(SimpleSigner):
    """SimpleSigner that keeps the parsed private key.

    pyHanko's SimpleSigner.sign_raw re-parses the DER key for every signature, and cryptography
    then re-checks the RSA key: about 36 ms of every ~97 ms signature on this machine (cProfile:
    ``keys.load_der_private_key``), paid twice because the size estimate signs a dummy too.
    """

    def __init__(self, pyca_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, **kwargs: object):
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._pyca_key = pyca_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algorithm = mechanism.signature_algo
        key = self._pyca_key
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if algorithm == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            padding, hash_algo = process_pss_params(mechanism["parameters"])
            return key.sign(data, padding, hash_algo)
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)


def _load_pkcs12(data: bytes, passphrase: bytes | None) -> Signer:
    key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
    if key is None or cert is None:
        raise ValueError("PKCS#12 without key or certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported key type {type(key).__name__}")
    registry = SimpleCertificateStore()
    registry.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in chain])
    return _LoadedKeySigner(
        key,
        signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(key),
        cert_registry=registry,
    )


def reserved_signature_bytes(signer: Signer) -> int | None:
    """Room for the CMS blob, so pyHanko need not sign a dummy first to measure it.

    Kept tight on purpose: the reserved space is written as a hex string that every verifier
    tokenises character by character (pyHanko: ~2.5 µs a character), so pyHanko's default 50 %
    margin made verification ~2× slower. The blob is the certificates, the signature value, the
    issuer name twice (signer id, signing-certificate-v2) and ~500 bytes of other structure.
    """
    if not isinstance(signer, _LoadedKeySigner):
        return None  # token signers load their certificates lazily; pyHanko's dry run is cheap there
    certs = [signer.signing_cert, *signer.cert_registry]
    cert_bytes = sum(len(c.dump()) for c in certs if c is not None)
    signing_cert = signer.signing_cert
    if signing_cert is None:
        return 2 * (cert_bytes + 8192)
    key_bytes = (signing_cert.public_key.bit_size + 7) // 8
    issuer_bytes = len(signing_cert.issuer.dump())
    return 2 * (cert_bytes + key_bytes + 2 * issuer_bytes + 1024)


def _pkcs12_signer(ref: Pkcs12SignerRef) -> Signer:
    path = pathlib.Path(ref.path)
    try:
        stat = path.stat()
    except OSError:
        raise SignerKeyError("Không tìm thấy tệp khóa ký số", log=f"PKCS#12 not found: {path}") from None
    passphrase = ref.passphrase.encode() if ref.passphrase is not None else None
    # The passphrase is part of the key: a cached signer must never excuse a wrong one.
    cache_key = (
        str(path.resolve()),
        stat.st_mtime_ns,
        stat.st_size,
        hashlib.sha256(passphrase or b"").hexdigest(),
    )
    with _lock:
        signer = _cache.get(cache_key)
        if signer is not None:
            _cache.move_to_end(cache_key)
            return signer
    try:
        signer = _load_pkcs12(path.read_bytes(), passphrase)
    except (ValueError, TypeError, OSError):
        raise SignerKeyError(
            "Không mở được tệp khóa ký số: sai mật khẩu hoặc tệp bị hỏng", log=f"PKCS#12 load failed: {path}"
        ) from None
    with _lock:
        _cache[cache_key] = signer
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return signer


@contextlib.contextmanager
def _pkcs11_signer(ref: Pkcs11SignerRef) -> Iterator[Signer]:
    from pkcs11.exceptions import PinIncorrect, PinLenRange, PKCS11Error
    from pyhanko.config.pkcs11 import TokenCriteria

    try:
        session = open_pkcs11_session(
            ref.module_path, token_criteria=TokenCriteria(label=ref.token_label), user_pin=ref.pin
        )
    except (PinIncorrect, PinLenRange):
        raise SignerKeyError("Mã PIN của thiết bị ký số không đúng") from None
    except (PKCS11Error, PyhankoSigningError, OSError, RuntimeError) as exc:
        raise SignerDeviceError(
            "Không kết nối được thiết bị ký số (token)", log=f"PKCS#11 {ref.module_path}: {exc!r}"
        ) from None
    try:
        # other_certs_to_pull=None: embed every certificate on the token, i.e. the issuing chain
        # that Vietnamese CA tokens carry, so verifiers can build the path.
        yield PKCS11Signer(
            session,
            key_label=ref.key_label,
            cert_label=ref.cert_label or ref.key_label,
            other_certs_to_pull=None,
        )
    finally:
        session.close()


@contextlib.contextmanager
def open_signer(ref: SignerRef) -> Iterator[Signer]:
    """A pyHanko signer for ``ref``; PKCS#11 sessions are closed on exit, PKCS#12 ones stay cached."""
    if isinstance(ref, Pkcs12SignerRef):
        yield _pkcs12_signer(ref)
    elif isinstance(ref, Pkcs11SignerRef):
        with _pkcs11_signer(ref) as signer:
            yield signer
    elif isinstance(ref, CscSignerRef):
        raise TypeError("a remote signer is opened inside an event loop: use open_signer_async")
    else:
        raise TypeError(f"unknown signer reference {type(ref).__name__}")


@contextlib.asynccontextmanager
async def open_signer_async(ref: SignerRef) -> AsyncIterator[Signer]:
    """Any signer, remote ones included (their HTTP session lives in the running event loop)."""
    if isinstance(ref, CscSignerRef):
        from app.signing.remote import open_csc_signer

        async with open_csc_signer(ref) as remote:
            yield remote
    else:
        with open_signer(ref) as signer:
            yield signer


def clear_signer_cache() -> None:
    with _lock:
        _cache.clear()


@dataclass(frozen=True)
class HolderInfo:
    """Who a certificate was issued to, as its subject names them."""

    common_name: str
    email: str | None
    organisation: str | None


def signer_holder(ref: SignerRef) -> HolderInfo:
    """The holder of the key ``ref`` opens (the same unlock as signing: a wrong PIN fails here)."""
    async def certificate() -> Any:
        async with open_signer_async(ref) as signer:
            return signer.signing_cert

    cert = asyncio.run(certificate())
    if cert is None:
        raise SignerKeyError("Thiết bị ký số không có chứng thư số", log="signer without certificate")
    subject = cert.subject.native
    return HolderInfo(common_name=str(subject.get("common_name") or ""),
                      email=str(subject["email_address"]) if subject.get("email_address") else None,
                      organisation=str(subject["organization_name"]) if subject.get("organization_name") else None)
