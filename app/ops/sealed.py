"""A folder sealed with a passphrase: tar, then AES-256-GCM under a key derived by scrypt (for the signing folder
in backups, ``QLVB_BACKUP_KEY``). Opening checks the GCM tag over everything before a single file is written.

Layout: ``MAGIC`` · salt (16) · nonce (12) · ciphertext · tag (16).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.core.errors import RefusedError
from app.documents.storage import read_pieces

MAGIC = b"QLVB-SEALED-1\n"
_SALT, _NONCE, _TAG = 16, 12, 16


class SealedOpenError(RefusedError):
    code = "sealed_open"


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode("utf-8"))


def seal_folder(folder: Path, out: Path, passphrase: str) -> int:
    """Write every regular file under ``folder`` into ``out``, sealed; return how many."""
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    encryptor = Cipher(algorithms.AES(_key(passphrase, salt)), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(MAGIC)
    count = 0
    with tempfile.TemporaryFile() as plain:
        with tarfile.open(fileobj=plain, mode="w") as tar:
            for path in sorted(folder.rglob("*")) if folder.exists() else []:
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
                    count += 1
        plain.seek(0)
        with out.open("wb") as fh:
            fh.write(MAGIC + salt + nonce)
            for piece in read_pieces(plain):
                fh.write(encryptor.update(piece))
            fh.write(encryptor.finalize())
            fh.write(encryptor.tag)
    out.chmod(0o600)
    return count


def open_sealed(sealed: Path, passphrase: str | None) -> IO[bytes]:
    """The tar inside ``sealed``, in a temporary file, once its tag is checked (wrong key or any change: refused)."""
    if not passphrase:
        raise SealedOpenError("Thư mục khóa ký số trong bản sao lưu đã được mã hóa; hãy đặt QLVB_BACKUP_KEY "
                              "(khóa đã dùng khi sao lưu) rồi khôi phục lại.")
    size = sealed.stat().st_size
    with sealed.open("rb") as fh:
        head = fh.read(len(MAGIC) + _SALT + _NONCE)
        if not head.startswith(MAGIC) or size < len(head) + _TAG:
            raise SealedOpenError(f"Tệp {sealed.name} không phải thư mục khóa ký số được mã hóa của QLVB.")
        salt, nonce = head[len(MAGIC):len(MAGIC) + _SALT], head[len(MAGIC) + _SALT:]
        fh.seek(size - _TAG)
        tag = fh.read(_TAG)
        fh.seek(len(head))
        decryptor = Cipher(algorithms.AES(_key(passphrase, salt)), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(MAGIC)
        out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (returned open)
        left = size - len(head) - _TAG
        try:
            while left > 0:
                piece = fh.read(min(left, 1 << 20))
                left -= len(piece)
                out.write(decryptor.update(piece))
            out.write(decryptor.finalize())
        except InvalidTag:
            out.close()
            raise SealedOpenError("Không giải mã được thư mục khóa ký số: sai QLVB_BACKUP_KEY hoặc tệp đã bị sửa "
                                  "đổi; không khôi phục.") from None
    out.seek(0)
    return out


def unpack(tar_file: IO[bytes], folder: Path) -> int:
    """Extract what ``open_sealed`` returned into ``folder`` (plain files only, never outside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=tar_file, mode="r") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(folder, members=members, filter="data")
    for member in members:
        (folder / member.name).chmod(0o600)
    return len(members)
