"""What Phụ lục I of Decree 30/2020 says about the parts of an outgoing document that depend on who signs
and on the type: the authority line (TM., KT., Q., TL., TUQ.), "Kính gửi" of a công văn, and full names.

Pure functions of plain values, so they are tested without a database and reused by every template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.text import nfc

AUTHORITY_PREFIXES = ("TM.", "KT.", "TL.", "TUQ.", "Q.")
# Abbreviations that the header spells out (Phụ lục I, ô 2: the name is written in full).
_SPELLED_OUT = (
    (r"\bUBND\b", "Ủy ban nhân dân"),
    (r"\bHĐND\b", "Hội đồng nhân dân"),
    (r"\bĐBQH\b", "đại biểu Quốc hội"),
    (r"\bTP\.?(?=\s)", "thành phố"),
    (r"\bTX\.?(?=\s)", "thị xã"),
)
# Agencies run by a collective (Điều 13.1.a): the People's Committees. Others are run by their head.
COLLEGIAL_KINDS = {"district": "ỦY BAN NHÂN DÂN"}
# Recipients who are sent a copy "for information" stay in "Nơi nhận" and are not addressed.
_NOT_ADDRESSED = re.compile(r"\((?:để\s*)?(?:b/c|báo cáo|biết|t/h|thực hiện|p/h|phối hợp)\)|^Lưu\b|^Như trên",
                            re.IGNORECASE)


def full_name(name: str | None) -> str:
    """"UBND TỈNH VĨNH PHÚC" -> "Ủy ban nhân dân TỈNH VĨNH PHÚC" (the header upper-cases it)."""
    text = nfc(name or "").strip()
    for pattern, spelled in _SPELLED_OUT:
        text = re.sub(pattern, spelled, text)
    return text


@dataclass(frozen=True)
class SignerLines:
    authority: tuple[str, ...]  # "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH": zero, one or two lines
    position: str  # "PHÓ CHỦ TỊCH"


def _upper(text: str) -> str:
    return nfc(text).strip().upper()


def signer_lines(*, position: str | None, head_title: str | None, agency_kind: str | None) -> SignerLines:
    """The lines above the signature for ``position`` signing in an agency headed by ``head_title``.

    - the head signs: (TM. <collective>) <HEAD>; acting head: "Q. <HEAD>";
    - a deputy ("Phó …") signs for the head: (TM. <collective>) KT. <HEAD> / PHÓ <HEAD>;
    - anyone else signs by order of the head: TL. <HEAD> / <POSITION> (never "TM.");
    - a position typed with its own prefix ("TUQ. GIÁM ĐỐC / CHÁNH VĂN PHÒNG") is kept as written.
    """
    text = _upper(position or "")
    head = _upper(head_title or "")
    collective = COLLEGIAL_KINDS.get(agency_kind or "")
    above: list[str] = [f"TM. {collective}"] if collective else []
    if "/" in text or text.startswith(AUTHORITY_PREFIXES):
        parts = [p.strip() for p in re.split(r"\s*/\s*|\n", text) if p.strip()]
        if len(parts) == 1 and parts[0].startswith("Q."):
            return SignerLines(tuple(above), parts[0])
        return SignerLines(tuple([*above, *parts[:-1]]), parts[-1] if parts else "")
    if not text or not head:
        return SignerLines(tuple(above), text)
    if text == head:
        return SignerLines(tuple(above), text)
    if text.startswith("QUYỀN "):
        return SignerLines(tuple(above), f"Q. {head}")
    if text.startswith("PHÓ ") and text[4:] == head:
        return SignerLines((*above, f"KT. {head}"), text)
    return SignerLines((f"TL. {head}",), text)  # by order of the head: no collective line


def split_recipients(lines: list[str], *, is_cong_van: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(addressees for "Kính gửi", recipients for "Nơi nhận") of a công văn; other types address nobody."""
    if not is_cong_van:
        return (), tuple(lines)
    addressed = [line.rstrip(";,. ") for line in lines if not _NOT_ADDRESSED.search(line)]
    if not addressed:
        return (), tuple(lines)
    rest = [line for line in lines if _NOT_ADDRESSED.search(line)]
    if not any(line.startswith("Như trên") for line in rest):
        rest.insert(0, "Như trên;")
    return tuple(addressed), tuple(rest)
