"""The S3-API store (``QLVB_STORAGE=s3``): objects ``<QLVB_S3_PREFIX>sha256/ab/abcdef…`` in ``QLVB_S3_BUCKET``.

Any S3-compatible service works (AWS, MinIO, Ceph RGW, a provincial cloud): set ``QLVB_S3_ENDPOINT`` for anything
but AWS (path-style addressing is then used). Keys come from ``QLVB_S3_ACCESS_KEY``/``QLVB_S3_SECRET_KEY`` or, when
those are empty, boto3's usual chain (``AWS_ACCESS_KEY_ID``…, ``~/.aws``, an instance role).

Content already stored is touched by copying the object onto itself (a server-side copy that renews
``LastModified``), which is what the sweep's grace period reads. boto3 is imported here only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.core import clock

from . import CHUNK, BlobMissingError, BlobStream, StorageUnavailableError, digest_of, is_key, key_for, missing, spool

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_TOUCHED = "touched-at"  # object metadata: when the content was last written or reused, on the app's clock
_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint: str | None = None
    prefix: str = ""
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None

    @classmethod
    def from_config(cls, setting: Callable[[str], str | None]) -> S3Settings:
        bucket = setting("QLVB_S3_BUCKET")
        if not bucket:
            raise StorageUnavailableError("QLVB_STORAGE=s3 cần QLVB_S3_BUCKET (tên bucket chứa tệp).")
        prefix = setting("QLVB_S3_PREFIX") or ""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket=bucket, endpoint=setting("QLVB_S3_ENDPOINT"), prefix=prefix,
                   region=setting("QLVB_S3_REGION") or "us-east-1", access_key=setting("QLVB_S3_ACCESS_KEY"),
                   secret_key=setting("QLVB_S3_SECRET_KEY"))


def _client(s: S3Settings) -> Any:
    """One boto3 client per settings and process (clients are thread-safe; creating one costs ~50 ms)."""
    ident = (s.endpoint or "", s.region, s.access_key or "", s.secret_key or "")
    with _clients_lock:
        client = _clients.get(ident)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                            s3={"addressing_style": "path" if s.endpoint else "auto"})
            client = boto3.session.Session().client(
                "s3", endpoint_url=s.endpoint or None, region_name=s.region, aws_access_key_id=s.access_key or None,
                aws_secret_access_key=s.secret_key or None, config=config)
            _clients[ident] = client
    return client


def _touched() -> dict[str, str]:
    return {_TOUCHED: clock.now().isoformat()}


class S3Storage:
    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "", *, endpoint: str | None = None):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint

    @classmethod
    def from_settings(cls, s: S3Settings) -> S3Storage:
        return cls(_client(s), s.bucket, s.prefix, endpoint=s.endpoint)

    def describe(self) -> str:
        return f"S3 {self.endpoint or 'AWS'} bucket {self.bucket}/{self.prefix}"

    def _name(self, key: str) -> str:
        digest_of(key)
        return self.prefix + key

    def _call(self, what: str, key: str | None, fn: Callable[[], Any]) -> Any:
        """Run one S3 call: an absent object is a missing blob, anything else the store being unreachable."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if key is not None and code in _NOT_FOUND:
                raise missing(key, f"in {self.describe()}") from None
            raise self._down(what, f"{code}: {exc}") from exc
        except BotoCoreError as exc:
            raise self._down(what, str(exc)) from exc

    def _down(self, what: str, why: str) -> StorageUnavailableError:
        return StorageUnavailableError("Không truy cập được kho lưu trữ tệp (S3). Thao tác chưa được ghi nhận; "
                                       "vui lòng thử lại sau ít phút.", log=f"S3 {what} on {self.describe()}: {why}")

    def _head(self, key: str) -> dict[str, Any]:
        name = self._name(key)
        return dict(self._call("head", key, lambda: self.client.head_object(Bucket=self.bucket, Key=name)))

    def _touch(self, key: str) -> bool:
        if not self.exists(key):
            return False
        name = self._name(key)
        self._call("touch", key, lambda: self.client.copy_object(
            Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": name},
            MetadataDirective="REPLACE", ContentType="application/octet-stream",
            Metadata=_touched()))
        return True

    def put(self, data: bytes) -> str:
        key = key_for(hashlib.sha256(data).hexdigest())
        if not self._touch(key):
            name = self._name(key)
            self._call("put", None, lambda: self.client.put_object(
                Bucket=self.bucket, Key=name, Body=data, ContentType="application/octet-stream",
                Metadata=_touched()))
        return key

    def put_stream(self, chunks: Iterable[bytes], *, sha256: str | None = None) -> str:
        spooled, digest, _ = spool(chunks, sha256=sha256)
        with spooled:
            key = key_for(digest)
            if not self._touch(key):
                name = self._name(key)
                self._call("upload", None, lambda: self.client.upload_fileobj(
                    spooled, self.bucket, name,
                    ExtraArgs={"ContentType": "application/octet-stream", "Metadata": _touched()}))
        return key

    def get(self, key: str) -> bytes:
        name = self._name(key)
        body = self._call("get", key, lambda: self.client.get_object(Bucket=self.bucket, Key=name))["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def open(self, key: str) -> BlobStream:
        size = int(self._head(key)["ContentLength"])
        name = self._name(key)

        def reader(start: int, stop: int) -> Iterator[bytes]:
            got = self._call("get", key, lambda: self.client.get_object(
                Bucket=self.bucket, Key=name, Range=f"bytes={start}-{stop - 1}"))
            body = got["Body"]
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return BlobStream(key, size, reader)

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except BlobMissingError:
            return False
        return True

    def delete(self, key: str) -> None:
        name = self._name(key)
        self._call("delete", None, lambda: self.client.delete_object(Bucket=self.bucket, Key=name))

    def age_seconds(self, key: str) -> float:
        head = self._head(key)
        stamp = head.get("Metadata", {}).get(_TOUCHED)
        try:
            touched = dt.datetime.fromisoformat(stamp) if stamp else head["LastModified"]
        except ValueError:  # written by hand: the server's time is the best we have
            touched = head["LastModified"]
        return (clock.now() - touched).total_seconds()

    def delete_if_stale(self, key: str, min_age_seconds: float) -> bool:
        if not self.exists(key) or self.age_seconds(key) < min_age_seconds:
            return False
        self.delete(key)
        return True

    def list_keys(self) -> Iterator[str]:
        """Every stored key, in order, page by page (S3 lists in key order)."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("list", None, lambda: iter(paginator.paginate(Bucket=self.bucket,
                                                                         Prefix=self.prefix + "sha256/")))
        while True:
            page = self._call("list", None, lambda: next(pages, None))
            if page is None:
                return
            for obj in page.get("Contents", []):
                key = str(obj["Key"])[len(self.prefix):]
                if is_key(key):
                    yield key
