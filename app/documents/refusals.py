"""Documents the software must not carry (QĐ 52/2014/QĐ-UBND Vĩnh Phúc, Điều 7 khoản 1).

"… trừ các văn bản thuộc loại mật, tối mật, tuyệt mật, đơn tố cáo hoặc các văn bản đặc biệt khác."
They are refused before anything is written: no row, no file, no number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.core.text import fold

from .errors import DocumentRefusedError

RULE = "Điều 7 khoản 1, Quyết định 52/2014/QĐ-UBND"
CONFIDENTIALITY_LABELS = {"thuong": "Thường", "mat": "Mật", "toi_mat": "Tối mật", "tuyet_mat": "Tuyệt mật"}
# Kinds a clerk may pick when a document is not an ordinary administrative one.
DENUNCIATION_KINDS = frozenset({"don_to_cao", "to_cao"})
SPECIAL_KINDS = frozenset({"dac_biet", "van_ban_dac_biet"})

# Matched on folded text. A denunciation letter is "đơn (thư) tố cáo", "thư tố cáo", or a summary that opens
# with "Tố cáo …". Plain "tố cáo" is NOT enough: "Báo cáo công tác giải quyết khiếu nại, tố cáo" and
# "Quyết định giải quyết tố cáo" are ordinary administrative documents. ("báo cáo" folds to "bao cao",
# which the word boundary keeps apart from "to cao".)
_DENUNCIATION = re.compile(r"(?<![a-z])(don thu|don|thu) to cao(?![a-z])|^to cao(?![a-z])")
# Only an explicit classification mark ("Độ mật: Tối mật") counts: words such as "bí mật nhà nước" or
# "quản lý tài liệu mật" appear in ordinary documents about protecting secrets.
_CLASSIFIED_MARK = re.compile(r"(?<![a-z])do mat\s*:?\s*(tuyet mat|toi mat|mat)(?![a-z])")


def _classified(confidentiality: str) -> DocumentRefusedError:
    label = CONFIDENTIALITY_LABELS.get(confidentiality, confidentiality)
    return DocumentRefusedError(
        f"Văn bản mật (độ mật: {label}) không được trao đổi qua phần mềm QLVB ({RULE}). "
        "Văn bản mật phải được vào sổ và quản lý riêng theo quy định bảo vệ bí mật nhà nước.",
        reason="classified",
    )


def _denunciation() -> DocumentRefusedError:
    return DocumentRefusedError(
        f"Đơn tố cáo không được trao đổi qua phần mềm QLVB ({RULE}). "
        "Đơn tố cáo phải được tiếp nhận và xử lý theo quy định của Luật Tố cáo, bảo đảm giữ bí mật người tố cáo.",
        reason="denunciation",
    )


def _special() -> DocumentRefusedError:
    return DocumentRefusedError(
        f"Văn bản đặc biệt không được trao đổi qua phần mềm QLVB ({RULE}). "
        "Hãy tiếp nhận và xử lý văn bản này trên giấy theo chỉ đạo của lãnh đạo cơ quan.",
        reason="special",
    )


def check_admissible(data: Mapping[str, Any]) -> None:
    """Raise DocumentRefusedError if Art 7 excludes the document described by ``data``.

    Looks at ``confidentiality`` (anything but "thuong"), ``kind`` (đơn tố cáo, văn bản đặc biệt), the
    type name, and the summary's words (folded, so "TỐ CÁO", "tố cáo" and "to cao" alike).
    """
    confidentiality = str(data.get("confidentiality") or "thuong").strip()
    if confidentiality not in ("", "thuong"):
        raise _classified(confidentiality)
    kind = str(data.get("kind") or "").strip()
    if kind in DENUNCIATION_KINDS:
        raise _denunciation()
    if kind in SPECIAL_KINDS:
        raise _special()
    for key in ("type_name", "summary"):
        text = fold(str(data.get(key) or ""))
        if _CLASSIFIED_MARK.search(text):
            raise _classified(_mark_level(text))
        if _DENUNCIATION.search(text):
            raise _denunciation()


def _mark_level(text: str) -> str:
    match = _CLASSIFIED_MARK.search(text)
    return match.group(1).replace(" ", "_") if match else "mat"
