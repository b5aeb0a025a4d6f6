"""Command line: appraise one lot folder, a batch of lot folders, or serve the HTTP API."""

import argparse
import json
import logging
import sys
from pathlib import Path

from .config import settings
from .errors import ValuerError
from .logs import configure_logging

log = logging.getLogger(__name__)

EXIT_REJECTED = 2


def _appraise_folder(folder: Path, include_personal: bool, store: bool):
    # Imported here so `--help` and `serve` start without loading the models.
    from .lot_folder import read_lot_folder  # noqa: PLC0415
    from .pipeline import get_appraiser  # noqa: PLC0415
    from .store import AppraisalStore  # noqa: PLC0415

    upload = read_lot_folder(folder, include_personal=include_personal)
    result = get_appraiser().appraise(upload)
    if store:
        AppraisalStore(settings.data_dir).save(result, upload)
    return result.appraisal


def _print_error(error: ValuerError) -> None:
    print(f"error [{error.code}]: {error.message}", file=sys.stderr)
    print(f"错误 [{error.code}]：{error.message_zh}", file=sys.stderr)
    for item in getattr(error, "errors", [])[1:]:
        print(f"  also [{item.code}]: {item.message}", file=sys.stderr)


def command_appraise(args: argparse.Namespace) -> int:
    from .summary import format_summary  # noqa: PLC0415

    try:
        appraisal = _appraise_folder(args.lot_dir, args.include_personal, not args.no_store)
    except ValuerError as error:
        if args.json:
            print(json.dumps({"error": error.to_dict()}, ensure_ascii=False, indent=2))
        _print_error(error)
        return EXIT_REJECTED

    if args.json:
        print(appraisal.model_dump_json(indent=2))
    else:
        print(format_summary(appraisal))
    return 0


def command_batch(args: argparse.Namespace) -> int:
    folders = sorted(path for path in args.root.iterdir() if path.is_dir() and not path.name.startswith("."))
    failures = 0
    # Lines are appended and flushed one by one, so an interrupted batch keeps every finished lot.
    with open(args.out, "a", encoding="utf-8") as out:
        for folder in folders:
            try:
                appraisal = _appraise_folder(folder, args.include_personal, not args.no_store)
                line = {"lot": folder.name, "ok": True, "appraisal": json.loads(appraisal.model_dump_json())}
            except ValuerError as error:
                failures += 1
                log.warning("lot rejected", extra={"lot": folder.name, "code": error.code})
                line = {"lot": folder.name, "ok": False, "error": error.to_dict()}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            out.flush()
            print(f"{folder.name}: {'ok' if line['ok'] else 'rejected [' + line['error']['code'] + ']'}")
    print(f"{len(folders) - failures} appraised, {failures} rejected; results appended to {args.out}")
    return 0


def command_serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    uvicorn.run("api.app:app", host=args.host, port=args.port, log_config=None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vision-valuer", description="Appraise repossessed cars from photos and documents.")
    commands = parser.add_subparsers(dest="command", required=True)

    appraise = commands.add_parser("appraise", help="appraise one lot folder and print the appraisal")
    appraise.add_argument("lot_dir", type=Path, help="folder with photos/, documents/ and an optional lot.json")
    appraise.add_argument("--json", action="store_true", help="print the appraisal as JSON")
    appraise.set_defaults(handler=command_appraise)

    batch = commands.add_parser("batch", help="appraise every lot folder under ROOT, one JSON line each")
    batch.add_argument("root", type=Path, help="folder whose sub-folders are lot folders")
    batch.add_argument("--out", type=Path, required=True, help="JSON Lines file to append results to")
    batch.set_defaults(handler=command_batch)

    for sub in (appraise, batch):
        sub.add_argument(
            "--include-personal",
            action="store_true",
            help="return the owner name and address read from documents (never logged)",
        )
        sub.add_argument("--no-store", action="store_true", help="do not store the appraisal in the data directory")

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.set_defaults(handler=command_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The terminal commands print their own results, so only warnings and errors are logged there.
    configure_logging("INFO" if args.command == "serve" else "WARNING")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
