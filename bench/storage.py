"""File stores benchmark: upload + download throughput of 1, 10 and 50 MB files through each store vs a plain file
copy of the same bytes in the same run.

    .venv/bin/python bench/storage.py [--database-url postgresql://postgres@127.0.0.1:5432/test] [--rounds 3]

A round of a store is ``put`` (committed, for the database store) then reading the blob back through ``open``
in its chunks; the baseline writes the same bytes to a new file (fsync, as the folder store does) and reads it back.
Every payload is new (content-addressed stores would otherwise only touch what they already have). The database
store runs on a scratch PostgreSQL database created and dropped here; the S3 store against moto's server on
loopback (the only S3-API server available to these machines: a real MinIO or Ceph is faster). Targets (issue
#14): database store ≥ 0.3, S3 store ≥ 0.3 of the plain copy.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.documents.models import Blob, BlobChunk  # noqa: E402
from app.documents.storage import CHUNK, DatabaseStorage, LocalStorage, S3Settings, S3Storage  # noqa: E402
from tests.support.s3 import running_moto  # noqa: E402

SIZES_MB = (1, 10, 50)
TARGETS = {"database": 0.3, "s3": 0.3}


def payloads(size: int, count: int) -> list[bytes]:
    base = os.urandom(size)
    return [secrets.token_bytes(32) + base[32:] for _ in range(count)]


def plain_copy(folder: Path) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        path = folder / secrets.token_hex(8)
        with path.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with path.open("rb") as fh:
            while fh.read(CHUNK):
                pass
        path.unlink()

    return run


def through(store: Any, commit: Callable[[], None]) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        key = store.put(data)
        commit()
        read = sum(len(piece) for piece in store.open(key).chunks())
        assert read == len(data)
        store.delete(key)
        commit()

    return run


def seconds(fn: Callable[[bytes], None], data: bytes) -> float:
    start = time.perf_counter()
    fn(data)
    return time.perf_counter() - start


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"qlvb_bench_storage_{secrets.token_hex(3)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{plain.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as url, \
            running_moto(Path(tmp)) as s3:
        tmp_path = Path(tmp)
        engine = create_engine(url)
        for table in (Blob.__table__, BlobChunk.__table__):
            table.create(engine)
        with engine.begin() as conn:  # as the migration does: chunks stored out of line, not compressed
            conn.execute(text("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL"))
        s3.client().create_bucket(Bucket="qlvb-bench")
        session = Session(engine)
        stores = {
            "local": through(LocalStorage(tmp_path / "files"), lambda: None),
            "database": through(DatabaseStorage(session), session.commit),
            "s3": through(S3Storage.from_settings(S3Settings(
                bucket="qlvb-bench", endpoint=s3.endpoint, region=s3.region, access_key=s3.access_key,
                secret_key=s3.secret_key)), lambda: None),
        }
        baseline = plain_copy(tmp_path)
        (tmp_path / "plain").mkdir()
        print(f"{'size':>6} {'store':>9} {'plain MB/s':>11} {'store MB/s':>11} {'ratio':>6} {'target':>7}")
        failed = []
        for mb in SIZES_MB:
            size = mb * 1024 * 1024
            for name, fn in stores.items():
                data = payloads(size, args.rounds + 1)
                fn(data[0])  # warm-up: connections, first folder, the server's caches
                base_s, store_s = [], []
                for payload in data[1:]:  # interleaved, so that machine noise hits both alike
                    base_s.append(seconds(baseline, payload))
                    store_s.append(seconds(fn, payload))
                plain_rate = mb / statistics.median(base_s)
                store_rate = mb / statistics.median(store_s)
                ratio = store_rate / plain_rate
                target = TARGETS.get(name)
                mark = "" if target is None else (f"≥ {target}" + ("" if ratio >= target else " ✗"))
                if target is not None and ratio < target:
                    failed.append(f"{name} {mb} MB")
                print(f"{mb:>4}MB {name:>9} {plain_rate:>11.0f} {store_rate:>11.0f} {ratio:>6.2f} {mark:>7}",
                      flush=True)
        session.close()
        engine.dispose()
    print("below target: " + ", ".join(failed) if failed else "all stores at or above target")


if __name__ == "__main__":
    main()
