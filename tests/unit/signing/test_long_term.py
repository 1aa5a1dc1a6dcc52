"""RFC 3161 timestamps, PAdES B-LT/B-LTA and revocation checks against a live test PKI (Certomancer)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from app.signing import (
    LongTermRef,
    Pkcs12SignerRef,
    RevocationPolicy,
    SignerDeviceError,
    SigningError,
    TsaRef,
    sign_pdf,
    verify_pdf,
)
from tests.support.certomancer_pki import LivePki, start_live_pki


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LivePki:
    pki = start_live_pki(tmp_path_factory.mktemp("certomancer"))
    yield pki
    pki.stop()


def _ref(live: LivePki, label: str) -> Pkcs12SignerRef:
    return Pkcs12SignerRef(path=live.p12[label], passphrase=live.passphrase)


def _sign(live, pdf, label="leader", **kwargs) -> bytes:
    return sign_pdf(pdf, _ref(live, label), field_name="ChuKyLanhDao", reason="Phê duyệt", location="Vĩnh Phúc",
                    **kwargs)


def _ades_lta(signed: bytes, root_der: bytes) -> str:
    """pyHanko's own AdES long-term validation, from the file alone (no fetching)."""
    import asyncio
    import io

    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=[x509.Certificate.load(root_der)]),
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures[0]
    report = asyncio.run(ades.ades_lta_validation(embedded, spec))
    return report.ades_subindic.name


def _pdfsig(tmp_path, data: bytes) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=True).stdout


def test_b_lt_embeds_a_timestamp_and_validation_data(live, rendered_document, tmp_path) -> None:
    signed = _sign(live, rendered_document.pdf, timestamper=TsaRef(url=live.tsa_url),
                   long_term=LongTermRef(trust_roots=(live.root_der,)))
    assert b"/DSS" in signed and b"/OCSPs" in signed and b"/CRLs" in signed
    # Offline, from the file alone: the timestamp and the embedded OCSP/CRL answers are enough.
    result = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="embedded"))
    assert result.status == "valid"
    (sig,) = result.signatures
    assert sig.timestamped and sig.long_term and sig.revocation_checked and sig.kind == "signature"
    if shutil.which("pdfsig"):
        out = _pdfsig(tmp_path, signed)
        assert "Signature is Valid." in out and "ETSI.CAdES.detached" in out


def test_b_lta_adds_a_document_timestamp(live, rendered_document, tmp_path) -> None:
    signed = _sign(live, rendered_document.pdf, timestamper=TsaRef(url=live.tsa_url),
                   long_term=LongTermRef(trust_roots=(live.root_der,), archive_timestamp=True))
    result = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="embedded"))
    assert result.status == "valid"
    assert [s.kind for s in result.signatures] == ["signature", "document_timestamp"]
    assert result.signatures[1].signer_name == "Dấu thời gian QLVB thử nghiệm"
    assert _ades_lta(signed, live.root_der) == "OK"
    if shutil.which("pdfsig"):
        out = _pdfsig(tmp_path, signed)
        assert out.count("Signature #") == 2 and "Signature is Valid." in out


def test_online_check_finds_a_revoked_certificate(live, rendered_document) -> None:
    signed = _sign(live, rendered_document.pdf, "revoked")
    assert verify_pdf(signed, [live.root_der]).status == "valid"  # without a check nothing tells
    result = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="online", timeout_seconds=5))
    assert result.status == "revoked"
    assert result.label == "Chứng thư số đã bị thu hồi"
    assert result.signatures[0].revoked and not result.signatures[0].trusted


def test_a_revoked_certificate_cannot_make_a_long_term_signature(live, rendered_document) -> None:
    with pytest.raises(SigningError) as caught:
        _sign(live, rendered_document.pdf, "revoked", timestamper=TsaRef(url=live.tsa_url),
              long_term=LongTermRef(trust_roots=(live.root_der,)))
    assert "không xác thực được" in caught.value.message


def test_without_revocation_data_the_status_is_unchecked(live, rendered_document) -> None:
    signed = _sign(live, rendered_document.pdf)  # B-B: nothing embedded
    result = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="embedded"))
    assert result.status == "unchecked"
    assert result.label == "Chưa kiểm tra được tình trạng thu hồi của chứng thư số"
    online = verify_pdf(signed, [live.root_der], revocation=RevocationPolicy(mode="online", timeout_seconds=5))
    assert online.status == "valid" and online.signatures[0].revocation_checked


def test_unreachable_services(tmp_path_factory, rendered_document) -> None:
    pki = start_live_pki(tmp_path_factory.mktemp("down"))
    signed = _sign(pki, rendered_document.pdf)
    pki.stop()
    result = verify_pdf(signed, [pki.root_der], revocation=RevocationPolicy(mode="online", timeout_seconds=2))
    assert result.status == "unchecked"  # never "valid" when the CA could not be asked
    with pytest.raises(SignerDeviceError) as caught:
        _sign(pki, rendered_document.pdf, timestamper=TsaRef(url=pki.tsa_url, timeout_seconds=2))
    assert caught.value.message == "Không lấy được dấu thời gian từ máy chủ cấp dấu thời gian"
