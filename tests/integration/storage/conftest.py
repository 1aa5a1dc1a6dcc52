"""Fixtures for the file stores: each store kind, real (a folder, the session's database, moto's S3 server)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.s3 import S3Server, running_moto

KINDS = ("local", "database", "s3")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with running_moto(tmp_path_factory.mktemp("moto")) as server:
        server.client().create_bucket(Bucket="qlvb-test")
        yield server


@pytest.fixture
def make_store(app: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``make_store(kind)``: a fresh store of that kind (own folder, own S3 prefix; the database is shared)."""
    from app.documents.storage import DatabaseStorage, LocalStorage, S3Settings, S3Storage
    from app.extensions import db

    def factory(kind: str) -> Any:
        if kind == "local":
            return LocalStorage(tmp_path / f"files-{secrets.token_hex(3)}")
        if kind == "database":
            return DatabaseStorage(db.session)
        server: S3Server = request.getfixturevalue("s3_server")
        return S3Storage.from_settings(S3Settings(
            bucket="qlvb-test", endpoint=server.endpoint, prefix=f"t{secrets.token_hex(4)}/", region=server.region,
            access_key=server.access_key, secret_key=server.secret_key))

    return factory


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Any]) -> Any:
    return make_store(request.param)


@pytest.fixture
def use_storage(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                request: pytest.FixtureRequest) -> Iterator[Callable[[str], dict[str, str]]]:
    """Point the app at a store kind (``QLVB_STORAGE`` and its settings) for one test; returns the settings.

    Afterwards the files the test's rows name are copied into the session's own folder store, so the session's
    database stays whole for the tests that back it up or check it."""
    from app.documents.storage import LocalStorage, build_storage
    from app.extensions import db
    from app.ops.storage import migrate_blobs

    home = LocalStorage(app.config["QLVB_UPLOAD_DIR"])
    switched: list[str] = []

    def switch(kind: str) -> dict[str, str]:
        values = {"QLVB_STORAGE": kind, "QLVB_UPLOAD_DIR": str(tmp_path / f"uploads-{secrets.token_hex(3)}")}
        if kind == "s3":
            server: S3Server = request.getfixturevalue("s3_server")
            values.update(QLVB_S3_BUCKET="qlvb-test", QLVB_S3_ENDPOINT=server.endpoint,
                          QLVB_S3_PREFIX=f"app{secrets.token_hex(4)}/", QLVB_S3_REGION=server.region,
                          QLVB_S3_ACCESS_KEY=server.access_key, QLVB_S3_SECRET_KEY=server.secret_key)
        for name, value in values.items():
            monkeypatch.setitem(app.config, name, value)
        switched.append(kind)
        return values

    yield switch
    if switched:  # best effort: a file missing here was lost by another test, which the backup tests will name
        db.session.rollback()
        migrate_blobs(db.session, build_storage(), home)
        db.session.commit()
