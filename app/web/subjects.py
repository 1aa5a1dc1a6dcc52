"""What a task is about: each domain describes its own subjects (documents, assigned work, opinions…)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectInfo:
    title: str
    number: str | None = None
    urgency: str | None = None
    link: str | None = None
    kind_label: str | None = None


# subject_type -> fn(agency_id, ids) -> {id: SubjectInfo}; registered by the pages of each domain.
DESCRIBERS: dict[str, Callable[[int, list[int]], dict[int, SubjectInfo]]] = {}

PROCESS_LABELS = {
    "incoming": "Văn bản đến",
    "outgoing": "Văn bản đi",
    "task_assignment": "Giao việc",
    "opinion_request": "Xin ý kiến",
    "opinion_answer": "Trả lời xin ý kiến",
}


def describe(agency_id: int, pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], SubjectInfo]:
    by_type: dict[str, list[int]] = {}
    for subject_type, subject_id in pairs:
        by_type.setdefault(subject_type, []).append(subject_id)
    # One call per describer, not per type: documents describe incoming and outgoing alike (ids are unique).
    by_fn: dict[Callable[[int, list[int]], dict[int, SubjectInfo]], list[int]] = {}
    for subject_type, ids in by_type.items():
        fn = DESCRIBERS.get(subject_type)
        if fn is not None:
            by_fn.setdefault(fn, []).extend(i for i in ids if i not in by_fn.get(fn, []))
    found_by_fn = {fn: fn(agency_id, ids) for fn, ids in by_fn.items()}
    out: dict[tuple[str, int], SubjectInfo] = {}
    for subject_type, ids in by_type.items():
        fn = DESCRIBERS.get(subject_type)
        found = found_by_fn[fn] if fn else {}
        for i in ids:
            out[(subject_type, i)] = found.get(i) or SubjectInfo(
                title=f"{PROCESS_LABELS.get(subject_type, subject_type)} #{i}")
    return out
