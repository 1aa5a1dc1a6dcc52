"""Operations on the file store: which blobs rows name, check them, migrate them to another store, sweep the rest.

Every table with a ``storage_key`` column names a blob: document attachments, files of assigned work, of opinion
requests and of exchange messages. Keys are walked in order a page at a time (per table, on its own index where it
has one), so nothing holds millions of keys in memory or a transaction open across the walk.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby, islice
from typing import Any

from sqlalchemy import select

from app.assignments.models import WorkFile
from app.cases.models import CaseFile
from app.documents.models import Attachment
from app.documents.storage import (
    BlobChecksumError,
    BlobMissingError,
    Storage,
    StorageUnavailableError,
    digest_of,
    hash_stream,
    is_key,
)
from app.exchange.models import ExchangeFile
from app.opinions.models import OpinionFile

log = logging.getLogger("qlvb.storage")

# Every model whose rows name a blob (grep storage_key app/**/models.py). A new one must be added here.
REFERENCING: tuple[Any, ...] = (Attachment, WorkFile, OpinionFile, ExchangeFile, CaseFile)
PAGE = 500


@dataclass(frozen=True)
class BlobRef:
    """One row naming a blob, with what it says the blob is."""

    table: str
    row_id: int
    sha256: str
    size: int

    def __str__(self) -> str:
        return f"{self.table} {self.row_id}"


def _table_keys(session: Any, model: Any) -> Iterator[str]:
    last = ""
    while True:
        page = list(session.scalars(select(model.storage_key).where(model.storage_key > last).distinct()
                                    .order_by(model.storage_key).limit(PAGE)))
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1]


def referenced_keys(session: Any) -> Iterator[str]:
    """Every key some row names, once, in order."""
    merged = heapq.merge(*(_table_keys(session, m) for m in REFERENCING))
    return (key for key, _ in groupby(merged))


def referenced_blobs(session: Any) -> Iterator[tuple[str, list[BlobRef]]]:
    """Every named key with the rows that name it, a page of keys at a time."""
    keys = referenced_keys(session)
    while page := list(islice(keys, PAGE)):
        refs: dict[str, list[BlobRef]] = {k: [] for k in page}
        for model in REFERENCING:
            rows = session.execute(select(model.id, model.storage_key, model.sha256, model.size)
                                   .where(model.storage_key.in_(page)).order_by(model.id))
            for row in rows:
                refs[row.storage_key].append(BlobRef(model.__tablename__, int(row.id), row.sha256, int(row.size)))
        yield from refs.items()


def _named_by(refs: list[BlobRef]) -> str:
    shown = ", ".join(str(r) for r in refs[:3])
    return shown + (f" và {len(refs) - 3} dòng khác" if len(refs) > 3 else "")


@dataclass
class CheckResult:
    blobs: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


def check_blobs(session: Any, store: Storage, *, quick: bool = False,
                progress: Callable[[int], None] | None = None) -> CheckResult:
    """Every named blob is in ``store`` with the right size and (unless ``quick``) the right SHA-256."""
    result = CheckResult()
    for key, refs in referenced_blobs(session):
        result.blobs += 1
        where = f"{key} (dùng bởi {_named_by(refs)})"
        if not is_key(key):
            result.problems.append(f"{where}: khóa lưu trữ không hợp lệ")
            continue
        digest = digest_of(key)
        for ref in refs:
            if ref.sha256 != digest:
                result.problems.append(f"{where}: {ref} ghi SHA-256 {ref.sha256}, khác với khóa")
        try:
            stream = store.open(key)
            size = stream.size
            if not quick:
                actual, size = hash_stream(stream)
                if actual != digest:
                    result.problems.append(f"{where}: sai mã SHA-256 (nội dung đã bị thay đổi hoặc hỏng)")
        except BlobMissingError:
            result.problems.append(f"{where}: thiếu trong kho lưu trữ")
            continue
        result.bytes += size
        wrong = sorted({r.size for r in refs if r.size != size})
        if wrong:
            result.problems.append(f"{where}: dài {size} byte, dòng dữ liệu ghi {', '.join(map(str, wrong))}")
        if progress is not None:
            progress(result.blobs)
    for problem in result.problems:
        log.error("storage check: %s", problem)
    return result


@dataclass
class MigrateResult:
    copied: int = 0
    present: int = 0
    bytes: int = 0
    failed: list[str] = field(default_factory=list)


def migrate_blobs(session: Any, source: Storage, target: Storage,
                  progress: Callable[[MigrateResult], None] | None = None) -> MigrateResult:
    """Copy every named blob from ``source`` to ``target``, each verified by reading it back, each committed on its
    own: run again after an interruption and it goes on where it stopped (blobs present are skipped)."""
    if source.describe() == target.describe():
        raise StorageUnavailableError(f"Kho nguồn và kho đích là một ({source.describe()}); không có gì để chuyển.")
    result = MigrateResult()
    for key, refs in referenced_blobs(session):
        try:
            if target.exists(key):
                result.present += 1
                continue
            stream = source.open(key)
            target.put_stream(stream.chunks(), sha256=digest_of(key))  # refuses bytes that do not hash to the key
            copied, size = hash_stream(target.open(key))
            if copied != digest_of(key) or size != stream.size:
                raise BlobChecksumError("Bản sao trong kho đích không khớp mã SHA-256.",
                                        log=f"read back {copied} ({size} bytes) for {key}")
            session.commit()  # the database store's rows; nothing pending for the others
        except (BlobMissingError, BlobChecksumError) as exc:
            session.rollback()
            result.failed.append(f"{key} (dùng bởi {_named_by(refs)}): {exc.log}")
            log.error("storage migrate: %s: %s", key, exc.log)
            continue
        result.copied += 1
        result.bytes += stream.size
        if progress is not None:
            progress(result)
    return result


@dataclass
class SweepResult:
    scanned: int = 0
    removed: int = 0
    young: int = 0


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def sweep_blobs(session: Any, store: Storage, *, grace_hours: float, dry_run: bool = False) -> SweepResult:
    """Remove blobs no row names and nobody wrote or reused for ``grace_hours`` (a row naming a younger one may be
    in a transaction that has not committed yet)."""
    result = SweepResult()
    for batch in _batched(store.list_keys(), PAGE):
        result.scanned += len(batch)
        named: set[str] = set()
        for model in REFERENCING:
            named.update(session.scalars(select(model.storage_key).where(model.storage_key.in_(batch))))
        for key in batch:
            if key in named:
                continue
            if dry_run:
                stale = store.age_seconds(key) >= grace_hours * 3600
            else:
                stale = store.delete_if_stale(key, grace_hours * 3600)
            if stale:
                result.removed += 1
                log.info("storage sweep: %s %s", "would remove" if dry_run else "removed", key)
            else:
                result.young += 1
        session.commit()
    return result
