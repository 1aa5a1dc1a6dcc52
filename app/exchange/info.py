"""Frozen values of the exchange domain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileInput:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FileInfo:
    id: int
    message_id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MessageInfo:
    id: int
    thread_id: int
    author_id: int
    author_name: str
    body: str
    created_at: dt.datetime
    files: tuple[FileInfo, ...] = ()


@dataclass(frozen=True)
class ThreadSummary:
    id: int
    title: str
    subject_type: str | None
    subject_id: int | None
    last_message_at: dt.datetime
    unread: int
    participant_names: tuple[str, ...]


@dataclass(frozen=True)
class ThreadDetail:
    id: int
    agency_id: int
    title: str
    subject_type: str | None
    subject_id: int | None
    created_by_id: int
    participants: tuple[tuple[int, str], ...]
    messages: tuple[MessageInfo, ...]
    first_unread_id: int | None
