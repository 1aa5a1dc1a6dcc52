"""One SoftHSM2 token folder per test process, with every test token initialised up front.

SoftHSM reads ``SOFTHSM2_CONF`` and lists its tokens once, when the module is first initialised in the
process (the PKCS#11 library then stays loaded): a token made later is never seen, while objects imported
later into an existing token are. So the first caller makes the folder and all the tokens tests use."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile

# label → (user PIN, SO PIN)
TOKENS = {"qlvb": ("1234", "5678"), "seal": ("246810", "13579")}
_conf: pathlib.Path | None = None


def softhsm_conf() -> pathlib.Path:
    global _conf
    if _conf is None:
        root = pathlib.Path(tempfile.mkdtemp(prefix="qlvb-softhsm-"))
        (root / "tokens").mkdir()
        conf = root / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
        env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        for label, (pin, so_pin) in TOKENS.items():
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin,
                            "--so-pin", so_pin], check=True, capture_output=True, env=env)
        _conf = conf
    os.environ["SOFTHSM2_CONF"] = str(_conf)
    return _conf
