"""A throw-away PKI for tests and benchmarks, made with ``cryptography``.

root → intermediate → {personal signer, agency signer, expired signer}; an unrelated "other" root
with its own signer. Every signer is written as a PKCS#12 file holding its key, its certificate and
the intermediate, as Vietnamese CAs issue them on USB tokens and in .p12 exports.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSPHRASE = "qlvb-test"


@dataclass(frozen=True)
class Identity:
    name: str
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    p12_path: pathlib.Path | None = None

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_der(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # not a pytest class

    root: Identity
    intermediate: Identity
    leader: Identity  # personal certificate of the signing leader
    agency: Identity  # the agency's (organisation) certificate, held by the clerk
    expired: Identity
    other_root: Identity
    stranger: Identity  # signer under other_root
    passphrase: str = PASSPHRASE


def _name(common_name: str, org: str = "UBND tỉnh Vĩnh Phúc", email: str | None = None) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            *([x509.NameAttribute(NameOID.EMAIL_ADDRESS, email)] if email else []),
        ]
    )


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _issue(
    common_name: str,
    issuer: Identity | None,
    *,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    email: str | None = None,
) -> Identity:
    key = _key()
    subject = _name(common_name, email=email)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    signing_key = issuer.key if issuer else key
    cert = builder.sign(signing_key, hashes.SHA256())
    return Identity(name=common_name, key=key, cert=cert)


def _with_p12(identity: Identity, chain: list[Identity], directory: pathlib.Path, stem: str) -> Identity:
    path = directory / f"{stem}.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name=stem.encode(),
            key=identity.key,
            cert=identity.cert,
            cas=[c.cert for c in chain],
            encryption_algorithm=serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    return Identity(name=identity.name, key=identity.key, cert=identity.cert, p12_path=path)


def make_pki(directory: pathlib.Path) -> TestPki:
    """Create the whole PKI and write the signers' PKCS#12 files into ``directory``."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    long_ago, far = now - dt.timedelta(days=3650), now + dt.timedelta(days=3650)
    root = _issue("QLVB Test Root CA", None, ca=True, not_before=long_ago, not_after=far)
    inter = _issue("QLVB Test Issuing CA", root, ca=True, not_before=long_ago, not_after=far)
    leader = _issue("Nguyễn Văn An", inter, ca=False, not_before=now - dt.timedelta(days=30), not_after=far)
    agency = _issue(
        "Sở Thông tin và Truyền thông tỉnh Vĩnh Phúc",
        inter,
        ca=False,
        not_before=now - dt.timedelta(days=30),
        not_after=far,
    )
    expired = _issue(
        "Trần Thị Hết Hạn",
        inter,
        ca=False,
        not_before=now - dt.timedelta(days=800),
        not_after=now - dt.timedelta(days=400),
    )
    other_root = _issue("Other Root CA", None, ca=True, not_before=long_ago, not_after=far)
    stranger = _issue("Người Lạ", other_root, ca=False, not_before=now - dt.timedelta(days=30), not_after=far)
    return TestPki(
        root=root,
        intermediate=inter,
        leader=_with_p12(leader, [inter], directory, "leader"),
        agency=_with_p12(agency, [inter], directory, "agency"),
        expired=_with_p12(expired, [inter], directory, "expired"),
        other_root=other_root,
        stranger=_with_p12(stranger, [], directory, "stranger"),
    )


def issue_personal(pki: TestPki, common_name: str, email: str, directory: pathlib.Path, stem: str) -> Identity:
    """A personal certificate for ``common_name`` (e-mail in the subject) under the test issuing CA, as .p12."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    person = _issue(common_name, pki.intermediate, ca=False, not_before=now - dt.timedelta(days=1),
                    not_after=now + dt.timedelta(days=3650), email=email)
    return _with_p12(person, [pki.intermediate], directory, stem)
