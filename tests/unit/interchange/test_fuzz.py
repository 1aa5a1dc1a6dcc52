"""Hypothesis: whatever bytes arrive, parsing either succeeds or raises EnvelopeError, never anything else;
and whatever valid values QLVB holds, the package it builds passes the schema and reads back equal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.interchange import (
    AttachmentInfo,
    CodeInfo,
    EnvelopeError,
    EnvelopeInfo,
    OrganInfo,
    PromulgationInfo,
    ResponseForInfo,
    SignerInfo,
    StatusCode,
    StatusInfo,
    build_envelope,
    build_status,
    document_id_for,
    parse_envelope,
    parse_status,
    rejection_status,
    validate,
)

from .samples import full_package, minimal_package, received_status

PACKAGE = build_envelope(full_package())
STATUS = build_status(received_status())
RECEIVER = OrganInfo("000.00.00.G22")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(data: bytes) -> None:
    """The property: a result or the typed error; a refusal always yields a rejection or None, never a crash."""
    try:
        parse_envelope(data)
    except EnvelopeError as error:
        assert error.message.startswith("Gói tin edXML không hợp lệ")
        status = rejection_status(error, data, receiver=RECEIVER, at=dt.datetime(2026, 12, 3, 10, 0))
        if status is not None:
            assert validate(build_status(status)) == "status"


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from([
                b"<", b">", b"&", b"&amp;", b"<!DOCTYPE x>", b"<![CDATA[x]]>", b"<!-- c -->", b"\x00", b"\xc3",
                b"<edXML:To><edXML:OrganId>000.00.00.G22</edXML:OrganId></edXML:To>", b"</edXML:MessageHeader>",
                b"&#0;", b"&#x1F600;", "Đ".encode(), b" xmlns:edXML='urn:x'", b"<?pi x?>",
            ]))
        elif kind == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 400)))
            data[end:end] = data[at:end]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2000))
@example(b"")
@example(b"<")
@example(b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>')
def test_random_bytes_never_crash(data: bytes) -> None:
    parse_or_refuse(data)
    try:
        parse_status(data)
    except EnvelopeError as error:
        assert error.message.startswith("Gói tin edXML không hợp lệ")


@FUZZ
@given(mutated(PACKAGE))
def test_mutated_packages_never_crash(data: bytes) -> None:
    parse_or_refuse(data)


@FUZZ
@given(mutated(STATUS))
def test_mutated_status_messages_never_crash(data: bytes) -> None:
    try:
        parse_status(data)
    except EnvelopeError as error:
        assert error.message.startswith("Gói tin edXML không hợp lệ")


@FUZZ
@given(mutated(PACKAGE))
def test_what_the_parser_accepts_it_can_build_again(data: bytes) -> None:
    try:
        info = parse_envelope(data)
    except EnvelopeError:
        return
    again = build_envelope(info)
    assert validate(again) == "edxml"
    assert parse_envelope(again) == info


# Text as QLVB holds it: NFC Vietnamese, no control characters, no surrounding white space.
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
LETTERS = VIETNAMESE + VIETNAMESE.upper() + string.digits + " ,.;:-()/"
text = st.text(alphabet=LETTERS, min_size=1, max_size=80).map(str.strip).filter(bool)
short = st.text(alphabet=LETTERS, min_size=1, max_size=50).map(str.strip).filter(bool)
organ_id = st.builds(
    "{:03d}.{:02d}.{:02d}.{}{:02d}".format,
    st.integers(0, 999), st.integers(0, 99), st.integers(0, 99), st.sampled_from("GHK"), st.integers(0, 99),
)
days = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
number = st.text(alphabet=string.digits, min_size=1, max_size=6)
notation = st.sampled_from(["QĐ-UBND", "CV-STTTT", "KH-SCT", "TB-VP", "BC-ĐTN", "UBND-VX"])


@st.composite
def packages(draw: st.DrawFn) -> EnvelopeInfo:
    base = minimal_package()
    sender = OrganInfo(draw(organ_id), organ_name=draw(text))
    recipients = draw(st.lists(organ_id, min_size=1, max_size=8, unique=True))
    day, num, note = draw(days), draw(number), draw(notation)
    files = draw(st.lists(st.binary(min_size=1, max_size=300), max_size=3))
    header = dataclasses.replace(
        base.header,
        sender=sender,
        recipients=tuple(OrganInfo(r, organ_name=draw(text)) for r in recipients),
        code=CodeInfo(num, note),
        promulgation=PromulgationInfo(day, draw(text)),
        subject=draw(text),
        signer=SignerInfo(draw(short), draw(text)),
        document_id=document_id_for(sender.organ_id, day, num, note),
        content=draw(st.text(alphabet=LETTERS + "\n", max_size=300).map(str.strip)),
        due_date=draw(st.none() | days),
        to_places=tuple(draw(st.lists(text, max_size=4))),
        response_for=tuple(draw(st.lists(st.builds(
            lambda o, d, n: ResponseForInfo(o, f"{n}/QĐ-UBND", d, document_id_for(o, d, n, "QĐ-UBND")),
            organ_id, days, number), max_size=2))),
    )
    return EnvelopeInfo(
        header=header,
        trace=base.trace,
        attachments=tuple(
            AttachmentInfo(f"f{i}", f"{draw(text)}.pdf".replace("/", "-"), "application/pdf", content)
            for i, content in enumerate(files)
        ),
    )


@settings(max_examples=150, deadline=None)
@given(packages())
def test_any_valid_package_round_trips(info: EnvelopeInfo) -> None:
    data = build_envelope(info)
    assert validate(data) == "edxml"
    assert parse_envelope(data) == info


@settings(max_examples=100, deadline=None)
@given(organ_id, organ_id, days, number, st.sampled_from(list(StatusCode)), text,
       st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 1, 1)).map(lambda m: m.replace(microsecond=0)))
def test_any_valid_status_round_trips(
    sender: str, receiver: str, day: dt.date, num: str, code: StatusCode, description: str, at: dt.datetime
) -> None:
    info = StatusInfo(
        response_for=ResponseForInfo(sender, f"{num}/QĐ-UBND", day, document_id_for(sender, day, num, "QĐ-UBND")),
        sender=OrganInfo(receiver),
        code=code,
        timestamp=at,
        description=description,
    )
    data = build_status(info)
    assert validate(data) == "status"
    assert parse_status(data) == info
