"""``pin-digests``: write the image digests of a build into every kustomize overlay.

    ./pants run src/python/akash_snp/deploy_tools:pin-digests -- --digests dist/images/digests.json

Exit 0 after pinning (the changed files are listed), 2 on unusable input (one line, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from akash_snp.deploy_tools.pin_digests import PinError, normalize_digest, parse_digests, pin_tree

EXIT_USAGE = 2


def _find_kustomize_dir(start: Path) -> Path:
    """``deploy/kustomize`` of the repository holding ``start`` (found by its pants.toml)."""
    for folder in (start, *start.parents):
        if (folder / "pants.toml").is_file():
            return folder / "deploy" / "kustomize"
    raise PinError(f"no pants.toml above {start}: pass --kustomize-dir")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pin-digests",
        description="Set the digest of the named images in every kustomization.yaml under "
        "deploy/kustomize (overlays and components).",
    )
    parser.add_argument(
        "--digests",
        type=Path,
        metavar="FILE",
        help='JSON object: image name -> digest ("sha256:<hex>", or {"digest": ...})',
    )
    parser.add_argument(
        "--digest",
        action="append",
        default=[],
        metavar="NAME=DIGEST",
        help="one image digest (repeatable), e.g. generic-device-plugin=sha256:...",
    )
    parser.add_argument(
        "--kustomize-dir",
        type=Path,
        metavar="DIR",
        help="default: deploy/kustomize of the repository around the working directory",
    )
    return parser


def _collect(args: argparse.Namespace) -> dict[str, str]:
    digests: dict[str, str] = {}
    if args.digests is not None:
        try:
            text = args.digests.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PinError(f"cannot read {args.digests}: {exc}") from exc
        digests.update(parse_digests(text))
    for item in args.digest:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise PinError(f"--digest {item!r}: expected NAME=DIGEST")
        digests[name] = normalize_digest(name, value)
    if not digests:
        raise PinError("nothing to pin: give --digests FILE and/or --digest NAME=DIGEST")
    return digests


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pin-digests`` command."""
    args = _parser().parse_args(argv)
    try:
        digests = _collect(args)
        root = args.kustomize_dir or _find_kustomize_dir(Path.cwd())
        changed = pin_tree(root, digests)
    except PinError as exc:
        print(f"pin-digests: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for name, digest in sorted(digests.items()):
        print(f"{name}@{digest}")
    for path in changed:
        print(f"updated {path}", file=sys.stderr)
    if not changed:
        print("already pinned: no file changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
