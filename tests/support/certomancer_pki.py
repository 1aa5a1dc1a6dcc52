"""A test PKI with live services: Certomancer's Animator (a WSGI app) on a loopback port, in a thread.

root → intermediate → {leader (personal, e-mail in the subject), agency seal, revoked signer};
a TSA under the root; an OCSP responder for the intermediate's certificates; CRLs of both CAs.
Every certificate names its CRL and OCSP addresses on 127.0.0.1, so pyHanko fetches them as it
would from a real Vietnamese CA. ``stop()`` takes the services down (to test an unreachable CA).
"""

from __future__ import annotations

import datetime as dt
import pathlib
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import BaseWSGIServer, make_server

PASSPHRASE = "qlvb-pin-1234"
ARCH = "qlvb"
SIGNERS = ("leader", "agency", "revoked")


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _ku(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _arch_config(now: dt.datetime) -> dict[str, Any]:
    valid = {"valid-from": _iso(now - dt.timedelta(days=30)), "valid-to": _iso(now + dt.timedelta(days=365))}
    signer_exts = [
        _ku("digital_signature", "non_repudiation"),
        {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                           "params": {"crl-repo-names": ["interm"]}}},
        {"id": "authority_information_access", "smart-value": {"schema": "aia-urls", "params": {
            "ocsp-responder-names": ["interm"], "ca-issuer-links": [{"repo": "interm"}]}}},
    ]
    return {
        "keyset": ARCH,
        "entity-defaults": {"country-name": "VN", "organization-name": "UBND tỉnh Vĩnh Phúc"},
        "entities": {
            "root": {"common-name": "CA gốc QLVB thử nghiệm"},
            "interm": {"common-name": "CA QLVB thử nghiệm"},
            "interm-ocsp": {"common-name": "OCSP QLVB thử nghiệm"},
            "tsa": {"common-name": "Dấu thời gian QLVB thử nghiệm"},
            "leader": {"common-name": "Nguyễn Văn An", "email-address": "an.nguyen@example.vn"},
            "agency": {"common-name": "Sở Thử nghiệm"},
            "revoked": {"common-name": "Trần Thị Thu Hồi", "email-address": "thuhoi@example.vn"},
        },
        "certs": {
            "root": {"subject": "root", "issuer": "root", "validity": valid, "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                _ku("digital_signature", "key_cert_sign", "crl_sign")]},
            "interm": {"issuer": "root", "validity": valid, "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True, "path-len-constraint": 0}},
                _ku("digital_signature", "key_cert_sign", "crl_sign"),
                {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                                   "params": {"crl-repo-names": ["root"]}}}]},
            "interm-ocsp": {"issuer": "interm", "validity": valid, "extensions": [
                _ku("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"}]},
            "tsa": {"issuer": "root", "validity": valid, "extensions": [
                _ku("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                {"id": "crl_distribution_points", "smart-value": {"schema": "crl-dist-url",
                                                                   "params": {"crl-repo-names": ["root"]}}}]},
            "leader": {"issuer": "interm", "validity": valid, "extensions": signer_exts},
            "agency": {"issuer": "interm", "validity": valid, "extensions": signer_exts},
            "revoked": {"issuer": "interm", "validity": valid, "extensions": signer_exts, "revocation": {
                "revoked-since": _iso(now - dt.timedelta(days=1)), "reason": "key_compromise"}},
        },
        "services": {
            "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "interm-ocsp",
                                "signing-key": "interm-ocsp"}},
            "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"},
                         "interm": {"for-issuer": "interm", "signing-key": "interm",
                                    "simulated-update-schedule": "P7D"}},
            "cert-repo": {"root": {"for-issuer": "root", "publish-issued-certs": True},
                          "interm": {"for-issuer": "interm", "publish-issued-certs": False}},
            "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
        },
    }


@dataclass
class LivePki:
    """The running services and the files a test needs."""

    url: str
    tsa_url: str
    root_der: bytes
    intermediate_der: bytes
    p12: dict[str, pathlib.Path]  # signer label → PKCS#12 under PASSPHRASE
    keys: dict[str, rsa.RSAPrivateKey]
    certs_der: dict[str, bytes]
    passphrase: str = PASSPHRASE
    _server: BaseWSGIServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def start_live_pki(work: pathlib.Path) -> LivePki:
    """Generate keys, bind a loopback port, build the PKI with that port in its URLs, and serve it."""
    from asn1crypto import x509 as asn1_x509
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, KeyLabel

    key_dir = work / "keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    labels = ("root", "interm", "interm-ocsp", "tsa", *SIGNERS)
    keys = {}
    for label in labels:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys[label] = key
        (key_dir / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    def not_ready(environ: Any, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b""]

    server = make_server("127.0.0.1", 0, not_ready, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    config = {
        "external-url-prefix": url,
        "keysets": {ARCH: {"path-prefix": str(key_dir), "keys": {
            label: {"path": f"{label}.key.pem"} for label in labels}}},
        "pki-architectures": {ARCH: _arch_config(dt.datetime.now(dt.UTC).replace(microsecond=0))},
    }
    arch = CertomancerConfig(config, key_search_dir=str(key_dir)).get_pki_arch(ArchLabel(ARCH))
    server.app = Animator(AnimatorArchStore({ArchLabel(ARCH): arch}), with_web_ui=False)
    thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
    thread.start()

    p12 = {}
    for label in SIGNERS:
        path = work / f"{label}.p12"
        path.write_bytes(arch.package_pkcs12(CertLabel(label), key_label=KeyLabel(label),
                                             certs_to_embed=[CertLabel("interm"), CertLabel("root")],
                                             password=PASSPHRASE.encode()))
        p12[label] = path
    certs: dict[str, asn1_x509.Certificate] = {label: arch.get_cert(CertLabel(label)) for label in labels}
    tsa = arch.service_registry.list_time_stamping_services()[0]
    return LivePki(url=url, tsa_url=tsa.url, root_der=certs["root"].dump(), intermediate_der=certs["interm"].dump(),
                   p12=p12, keys=keys, certs_der={k: v.dump() for k, v in certs.items()},
                   _server=server, _thread=thread)
