"""What the seal keyring (seal17) costs on the hot path: ``load_seal_key()`` (every webhook loads it), a seal and a
check, before tree vs after tree side by side in one run.

Run: ``python bench/seal_ring.py --before /path/to/before/tree [--after .] [--n 200000] [--rounds 3]``.

Each tree runs in its own child process (``python -c``, its own ``sys.path[0]``, the same fresh ``FIRESTOP_HOME``
with one generated key file, ``FIRESTOP_SEAL_KEY`` unset: the local file path, which stats the key file per load and,
after, the retired-keys file too); trees alternate round by round and the best round of each is kept (``time.thread_time``
per call, CPU only: a busy shared machine does not count). The after tree is also measured with 3 retired keys
(``seal-key.retired`` written in the same home), where a check of a seal made by the oldest key looks it up by id.
The seal is a ledger entry's (seal18: a history purpose — an "incident" seal by a retired key is refused before its
MAC is computed since RT20-01, which would time the refusal, not the lookup).
Prints ns per call and the after/before ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
from firestop.trust.seal import load_seal_key
n = int(sys.argv[1]); home = sys.argv[2]
key = load_seal_key(home)
oldest = getattr(key, "retired", ())[-1:] or (key,)
sealed = oldest[0].sign("ledger-entry", "inc-1", "0" * 64)
def timed(fn):
    start = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - start) / n * 1e9
print(json.dumps({
    "load": timed(lambda: load_seal_key(home)),
    "sign": timed(lambda: key.sign("ledger-entry", "inc-1", "0" * 64)),
    "check": timed(lambda: key.check("ledger-entry", "inc-1", "0" * 64, sealed)),
}))
"""


def run(tree: Path, home: Path, n: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("FIRESTOP_SEAL_KEY", "FIRESTOP_SEAL_KEY_RETIRED")}
    env["FIRESTOP_HOME"] = str(home)
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(home)], cwd=tree, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain, ringed = Path(tmp) / "plain", Path(tmp) / "ringed"
        for home in (plain, ringed):
            home.mkdir(mode=0o700)
            run(args.after, home, 1)  # generates the key file
        import secrets

        (ringed / "seal-key.retired").write_text("".join(secrets.token_urlsafe(32) + "\n" for _ in range(3)))
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for name, tree, home in (("before", args.before, plain), ("after", args.after, plain),
                                     ("after, 3 retired", args.after, ringed)):
                got = run(tree, home, args.n)
                best[name] = {k: min(v, best.get(name, {}).get(k, v)) for k, v in got.items()}
    print(f"{'ns per call':<18}" + "".join(f"{k:>10}" for k in ("load", "sign", "check")))
    for name, figures in best.items():
        print(f"{name:<18}" + "".join(f"{figures[k]:>10.0f}" for k in ("load", "sign", "check")))
    for name in ("after", "after, 3 retired"):
        print(f"{name + ' / before':<26}" + "".join(f"{best[name][k] / best['before'][k]:>8.2f}x" for k in ("load", "sign", "check")))


if __name__ == "__main__":
    main()
