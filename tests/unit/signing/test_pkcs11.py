"""Signing with a key on a real PKCS#11 token: Debian's SoftHSM2, initialised in a temp directory."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from app.signing import Pkcs11SignerRef, SignerKeyError, sign_pdf, verify_pdf
from tests.support.softhsm import softhsm_conf

MODULE_CANDIDATES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
MODULE = next((m for m in MODULE_CANDIDATES if pathlib.Path(m).exists()), None)

pytestmark = pytest.mark.skipif(
    MODULE is None or shutil.which("softhsm2-util") is None or shutil.which("pkcs11-tool") is None,
    reason="SoftHSM2 / OpenSC not installed",
)


def _run(*args: str, env: dict[str, str]) -> None:
    subprocess.run(args, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def token(pki, tmp_path_factory):
    """A token "qlvb" holding the leader's key, certificate and the issuing CA certificate."""
    from cryptography.hazmat.primitives import serialization

    root = tmp_path_factory.mktemp("softhsm")
    softhsm_conf()  # SoftHSM reads it when the module is initialised, which happens in this process too
    env = {**os.environ}
    key_pem = root / "leader.key.pem"
    key_pem.write_bytes(
        pki.leader.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (root / "leader.der").write_bytes(pki.leader.cert_der)
    (root / "issuer.der").write_bytes(pki.intermediate.cert_der)
    _run(
        "softhsm2-util", "--import", str(key_pem), "--token", "qlvb", "--label", "leader", "--id", "01",
        "--pin", "1234", env=env,
    )  # fmt: skip
    for label, obj_id, path in (("leader", "01", "leader.der"), ("issuer", "02", "issuer.der")):
        _run(
            "pkcs11-tool", "--module", MODULE, "--token-label", "qlvb", "--login", "--pin", "1234",
            "--write-object", str(root / path), "--type", "cert", "--label", label, "--id", obj_id, env=env,
        )  # fmt: skip
    key_pem.unlink()
    return "qlvb"


def test_sign_with_softhsm_token_and_verify(token, rendered_document, trust_roots):
    ref = Pkcs11SignerRef(module_path=MODULE, token_label=token, key_label="leader", pin="1234")
    assert "1234" not in repr(ref)
    signed = sign_pdf(
        rendered_document.pdf,
        ref,
        field_name="ChuKyLanhDao",
        page=rendered_document.signature_box.page,
        box=rendered_document.signature_box.box,
        reason="Phê duyệt",
        location="Vĩnh Phúc",
    )
    result = verify_pdf(signed, trust_roots)
    assert result.status == "valid"
    assert result.signatures[0].signer_name == "Nguyễn Văn An"
    assert result.signatures[0].trusted  # the issuing CA came from the token


def test_wrong_pin_is_a_domain_error(token, rendered_document):
    ref = Pkcs11SignerRef(module_path=MODULE, token_label=token, key_label="leader", pin="9999")
    with pytest.raises(SignerKeyError) as caught:
        sign_pdf(rendered_document.pdf, ref, field_name="X", reason="r", location="l")
    assert caught.value.message == "Mã PIN của thiết bị ký số không đúng"
