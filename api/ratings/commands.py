"""`arena export votes`: the open vote data from the store named by ARENA_* settings, without a server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.config import load_settings
from api.identity import load_secret
from api.ratings.export import to_jsonl, to_parquet
from api.ratings.present import cache_for, close_cache, export_rows
from api.store import open_store


def add_commands(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="export open data (votes in FastChat's battle format)")
    e.add_argument("what", choices=["votes"])
    e.add_argument("--robot", default=None, help="only this robot's votes")
    e.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    e.add_argument("-o", "--output", type=Path, help="file to write (default: standard output, jsonl only)")
    e.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = open_store(settings.store)
    try:
        cache = cache_for(store)
        cache.refresh()  # flags and automatic metrics as the server computes them, without its thread
        rows = export_rows(cache, args.robot, load_secret(settings.secret, settings.data_dir))
    finally:
        close_cache(store)
        store.close()
    if args.format == "parquet":
        if args.output is None:
            print("error: --format parquet needs --output", file=sys.stderr)
            return 2
        args.output.write_bytes(to_parquet(rows))
    elif args.output is None:
        sys.stdout.buffer.writelines(to_jsonl(rows))
    else:
        with args.output.open("wb") as f:
            f.writelines(to_jsonl(rows))
    print(f"{len(rows)} votes", file=sys.stderr)
    return 0
