"""The ``gemtune-desktop`` executable: opens the window, or runs a subcommand without one.

``gemtune-desktop [PROJECT]`` opens the main window (optionally on a project or dataset);
``check``, ``convert``, ``eval`` and ``sandbox`` run in the terminal and never create a
QApplication; ``--version`` prints the version. Nothing heavy is imported up front
(argparse only when a subcommand or option is given).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gemtune_desktop import APP_NAME, __version__

if TYPE_CHECKING:
    import argparse

SUBCOMMANDS = ("check", "convert", "eval", "sandbox")
CONVERT_FORMATS = ("csv", "tsv", "xlsx", "jsonl", "json", "agent-platform", "openai")


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="gemtune-desktop",
        description=f"{APP_NAME}: tune Gemini models from a spreadsheet of examples. "
                    "With no command, opens the window.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="validate a dataset file or project and print a report")
    check.add_argument("file", help="a .csv/.tsv/.xlsx/.json/.jsonl dataset or a .gemtune project")
    check.add_argument("--target", choices=("gemini-api", "agent-platform"), default="gemini-api",
                       help="which service's limits to check against (default: gemini-api)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of a report")

    convert = sub.add_parser("convert", help="convert a dataset between formats")
    convert.add_argument("input", help="the file to read")
    convert.add_argument("output", help="the file to write")
    convert.add_argument("--to", choices=CONVERT_FORMATS, default=None,
                         help="output format (default: from the output file's extension)")

    add_eval_parser(sub)

    sandbox = sub.add_parser("sandbox", help="run the offline emulator of the Gemini and Agent Platform APIs")
    sandbox.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    sandbox.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default: 127.0.0.1; another address needs --allow-remote)")
    sandbox.add_argument("--allow-remote", action="store_true",
                         help="allow --host to be an address other machines can reach (the Sandbox has no "
                              "real authentication)")
    sandbox.add_argument("--steps-per-second", type=float, default=4.0,
                         help="simulated training pace (default: 4)")
    sandbox.add_argument("--state-dir", default=None,
                         help="folder that keeps simulated jobs between runs (default: the app's data folder)")
    return parser


def add_eval_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser("eval", help="evaluate a model on a project's test split or a dataset file, without a window",
                        description="Send every row to the model and score the answers (exact match, token F1, "
                                    "BLEU, chrF, ROUGE-1/2/L; the judge with --judge). Exit status: 0; 1 when a "
                                    "--min threshold fails; 2 when the input cannot be read or the evaluation "
                                    "cannot run.")
    ev.add_argument("file", metavar="PROJECT_OR_DATASET", help="a .gemtune project or a CSV/TSV/XLSX/JSON/JSONL file")
    ev.add_argument("--model", required=True, help="the model to evaluate, e.g. gemini-3.5-flash or a tuned "
                                                   "model's endpoint")
    ev.add_argument("--split", choices=("train", "validation", "test"), default="test",
                    help="the project's split to evaluate (default: test; a dataset file is read whole)")
    ev.add_argument("--metrics", default=None, help="comma-separated metrics (default: all): exact_match, "
                                                    "token_f1, bleu, chrf, rouge1, rouge2, rougeL")
    ev.add_argument("--judge", metavar="RUBRIC_FILE", default=None,
                    help="a text file with the rubric in plain words; adds the judge's score as `judge`")
    ev.add_argument("--judge-model", default="gemini-3.5-flash", help="the judge model (default: gemini-3.5-flash)")
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    ev.add_argument("--out", metavar="REPORT.csv", default=None, help="also write the rows and scores as CSV")
    ev.add_argument("--min", metavar="METRIC=VALUE", action="append", default=None,
                    help="exit 1 when the summary's METRIC is below VALUE (repeatable)")
    ev.add_argument("--sandbox", action="store_true", help="use the offline Sandbox instead of the app's "
                                                           "active connection")
    ev.add_argument("--concurrency", type=int, default=4, help="requests at a time (default: 4)")


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    wants_cli = any(a in SUBCOMMANDS or a in ("--version", "-h", "--help") for a in args_list[:1]) or \
        "--version" in args_list
    if not wants_cli:
        # Before Qt: missing X11 libraries would make Qt abort with a message naming its plugin only.
        from gemtune_desktop.paths import cache_dir
        from gemtune_desktop.platform_check import check_once, tell_user

        missing = check_once(cache_dir())
        if missing is not None:
            tell_user(missing)
            return 1
        from gemtune_desktop.app import run_gui

        return run_gui(args_list)

    args = build_parser().parse_args(args_list)
    if args.command == "check":
        from gemtune_desktop.commands.check import run_check

        return run_check(args.file, target=args.target, as_json=args.json)
    if args.command == "convert":
        from gemtune_desktop.commands.convert import run_convert

        return run_convert(args.input, args.output, to=args.to)
    if args.command == "eval":
        from gemtune_desktop.commands.eval import options_from_args, run_eval

        return run_eval(lambda: options_from_args(args))
    if args.command == "sandbox":
        from gemtune_desktop.sandbox.cli import run_sandbox

        return run_sandbox(host=args.host, port=args.port, steps_per_second=args.steps_per_second,
                           state_dir=args.state_dir, allow_remote=args.allow_remote)
    build_parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
