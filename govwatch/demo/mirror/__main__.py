"""Serve a mirror by hand: `python -m govwatch.demo.mirror [--bench] [--seeds-out DIR]`.

Prints one line per site (name, flow, listing URL) and serves until interrupted or
until --seconds have passed; with --seeds-out, writes the sites' seed files there so
`govwatch crawl` can be pointed at them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from govwatch.demo.mirror.build import Mirror, bench_mirror, demo_mirror
from govwatch.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govwatch.demo.mirror", description=__doc__)
    ap.add_argument("--bench", action="store_true", help="the benchmark fleet, not the demo")
    ap.add_argument("--hosts", type=int, default=20, help="benchmark sites (default 20)")
    ap.add_argument("--notices", type=int, default=2000, help="benchmark notices in all")
    ap.add_argument(
        "--seed-texts",
        type=Path,
        help="a directory of seed notices (*.txt) for the bodies (default: GOVWATCH_SEED_TEXTS, "
        "else generated text)",
    )
    ap.add_argument("--seeds-out", type=Path, help="write one seed TOML per site here")
    ap.add_argument("--seconds", type=float, help="stop after this long (default: never)")
    args = ap.parse_args(argv)
    try:
        mirror: Mirror = (
            bench_mirror(args.hosts, args.notices, args.seed_texts)
            if args.bench
            else demo_mirror(args.seed_texts)
        )
    except ConfigError as exc:
        ap.error(str(exc))
    with mirror:
        for site in mirror.sites:
            print(f"{site.name}\t{site.flow.name}\t{len(site.notices)}\t{site.entry_url}")
        if args.seeds_out:
            for path in mirror.seed_files(args.seeds_out):
                print(f"seed\t{path}")
        deadline = time.monotonic() + args.seconds if args.seconds is not None else None
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        stats = mirror.stats()
        print(f"served {stats.requests} requests, {stats.bytes_sent} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
