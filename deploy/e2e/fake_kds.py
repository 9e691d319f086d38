"""A fake AMD KDS over real HTTP for the cluster scale test (deploy/e2e/scale.sh): serves the
emulated PKI in --pki-dir (VCEKs, chains, CRLs, like KDS) on 127.0.0.1 inside the kit's network
namespace, where the node agent (hostNetwork) reaches it, and counts the requests.

Built by `./pants package ::` as dist/e2e/fake-kds.pex (a test tool, not shipped in an image):
    dist/e2e/fake-kds.pex --pki-dir DIR --product Milan --url-file F --counts-file C
Writes its URL to --url-file once listening; on SIGTERM writes {path: requests} to --counts-file.
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from akash_snp.emulation.pki import EmulatedAmd
from akash_snp.testing.fake_kds import FakeKds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pki-dir", type=Path, required=True)
    parser.add_argument("--product", default="Milan")
    parser.add_argument("--url-file", type=Path, required=True)
    parser.add_argument("--counts-file", type=Path, required=True)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    pki = EmulatedAmd.load(args.pki_dir, args.product)
    server = FakeKds({pki.product: pki})
    server.start()
    stop = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    args.url_file.write_text(server.url)
    stop.wait()
    server.stop()
    counts = collections.Counter(server.requests)
    args.counts_file.write_text(json.dumps(dict(sorted(counts.items())), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
