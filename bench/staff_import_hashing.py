"""Bulk import: what hashing N generated passwords costs with the light parameters vs the default argon2 ones.

    .venv/bin/python bench/staff_import_hashing.py [--n N]

Prints both times and the ratio (default / light): the import of N rows spends about the light time on hashing.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.accounts.hashing import hash_generated_password, hash_password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="how many generated passwords to hash")
    n = parser.parse_args().n
    secrets_ = [secrets.token_urlsafe(12) for _ in range(n)]
    t0 = time.perf_counter()
    for s in secrets_:
        hash_password(s)
    default = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in secrets_:
        hash_generated_password(s)
    light = time.perf_counter() - t0
    print(f"{n} passwords: default argon2 {default:.2f}s, light {light:.2f}s, ratio {default / light:.1f}x")


if __name__ == "__main__":
    main()
