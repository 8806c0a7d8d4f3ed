"""The `consentlens` command: demo data, import, metrics, transparency reports, erasure and
the audit trail."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from consentlens import service, training
from consentlens.access import Identity
from consentlens.service import USER_ERRORS, Turn
from data.storage.audit import default_actor
from data.storage.engines import ENGINES
from data.storage.locking import DEFAULT_WAIT, WAIT_ENV
from data.storage.schema import TABLES
from data.storage.store import ENV_VAR, resolve_path
from metrics.params import default_min_cell

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 2
# Errors in what was asked (exit status 2), rather than in the store or the machine (1).
REJECTED = (service.SourceError, service.UndoError, service.ParamsError, service.Refused)
DEMO_MEMORY = "1GB"  # DuckDB's share of a demo's memory (the generator's block is the rest)


class UsageError(Exception):
    """Arguments the command cannot act on (exit status 2)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1: {text!r}")
    return value


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    """A rough duration for progress lines: 42 s, 3 min 05 s."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds (0 or more): {text!r}")
    return value


def _turn(args: argparse.Namespace) -> Turn:
    """How a writing command takes its turn: named, waiting as asked, and saying whom it
    waits for."""
    return Turn(
        command=f"consentlens {args.command}" + (f" {args.action}" if "action" in args else ""),
        wait=args.wait,
        on_wait=lambda message: _say(f"consentlens: {message}"),
    )


def _store_path(args: argparse.Namespace) -> Path:
    return resolve_path(args.db)


def _me() -> Identity:
    return service.command_line(default_actor())


def cmd_demo(args: argparse.Namespace) -> int:
    """Write a synthetic dataset into the store, replacing what it held."""
    from data.storage import history

    started = time.perf_counter()

    def done(customers: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        left = elapsed / customers * (total - customers)
        tail = f", about {_duration(left)} left" if customers < total else ""
        _say(f"  {customers:,} of {total:,} customers ({_duration(elapsed)}{tail})")

    # DuckDB keeps what it wrote in memory up to its limit: a demo of millions needs none.
    written = service.demo(
        _me(),
        customers=args.customers,
        seed=args.seed,
        scenario=args.scenario,
        memory_limit=DEMO_MEMORY,
        progress=_say,
        done=done,
        turn=_turn(args),
        db=args.db,
    )
    rows = history.per_table(written)
    print(f"demo store written in {time.perf_counter() - started:.1f} s: {rows}")
    return EXIT_OK


def _print_report(report, mapping_shown: bool) -> None:
    """The validation report: per file what was detected and how it maps, then the counts."""
    for inspection in report.files:
        print(f"{inspection.extract.name}: {inspection.dialect}")
        if inspection.mapping is None:
            continue
        m = inspection.mapping
        print(f"  table {m.table} ({inspection.mapping_source} mapping)")
        if mapping_shown:
            for header, column in m.columns.items():
                print(f"    {header} -> {column}")
            for header, purpose in m.opt_ins.items():
                print(f"    {header} -> consent event for {purpose}")
            for header, column in m.event_columns.items():
                print(f"    {header} -> consent_events.{column}")
    outcome = report.outcome
    print(
        f"rows read {outcome.rows_read:,} = accepted {outcome.accepted:,} "
        f"+ rejected {outcome.rejected:,}"
    )


def _write_problems(path: str, problems) -> None:
    from data.intake.problems import problems_csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(problems_csv(problems))


def cmd_import(args: argparse.Namespace) -> int:
    """Import files in one transaction: canonical files strictly, other extracts mapped."""
    from data.intake.mapping import read_mapping_file
    from data.storage import history

    mapping = None
    if args.mapping:
        try:
            mapping = read_mapping_file(args.mapping)
        except ValueError as error:
            raise UsageError(str(error)) from None
        if args.table and args.table != mapping.table:
            raise UsageError(f"--table {args.table} but the mapping is for {mapping.table}")
    report = service.import_paths(
        _me(),
        args.paths,
        table=args.table,
        mapping=mapping,
        replace=args.replace,
        accept_valid=args.accept_valid,
        dry_run=args.dry_run,
        max_bytes=args.max_size * 1024 * 1024,
        decided_at=args.decided_at,
        progress=lambda message: _say(f"  {message}"),
        turn=_turn(args),
        db=args.db,
    )
    outcome, problems = report.outcome, report.problems
    _print_report(report, mapping_shown=True)
    for note in report.notes:
        _say(note)
    for problem in problems:
        _say(str(problem))
    if args.problems_csv:
        _write_problems(args.problems_csv, problems)
    if args.dry_run:
        refused = bool(outcome.blocked and problems) or bool(problems and not args.accept_valid)
        verdict = "would be refused" if refused else "would go in"
        if outcome.blocked and not problems:
            verdict = f"has nothing to write ({outcome.blocked})"
        print(f"dry run: nothing written; the import {verdict}")
        return EXIT_REJECTED if refused else EXIT_OK
    if not outcome.written:
        if not problems:
            print("nothing to import")
            return EXIT_OK
        _say(f"import refused: {len(problems)} problem(s); the store is unchanged")
        return EXIT_REJECTED
    rows = history.per_table(outcome.rows, "nothing")
    print(f"imported into {_store_path(args)} as import {outcome.import_id}: {rows}")
    if problems:
        _say(f"{outcome.rejected:,} rejected row(s) left out (listed above)")
    return EXIT_OK


def cmd_imports(args: argparse.Namespace) -> int:
    """List recorded imports, or undo the last one."""
    from data.storage import history

    if args.action == "list":
        return _list_imports(args)
    undone = service.undo_last_import(_me(), turn=_turn(args), db=args.db)
    rows = history.per_table(undone.rows)
    restored = " and restored what it replaced" if undone.mode == "replace" else ""
    print(f"undid import {undone.import_id}: removed {rows}{restored}")
    return EXIT_OK


def _list_imports(args: argparse.Namespace) -> int:
    """Print every recorded import, newest first, with its files."""
    from data.storage import history

    for record in service.import_history(_me(), db=args.db, missing_ok=False):
        state = "undone" if record.undone_at else ("undoable" if record.undoable else "kept")
        if record.note and not record.undone_at:
            state += f" ({record.note})"
        rows = history.per_table(record.rows)
        print(
            f"import {record.import_id}  {record.imported_at:%Y-%m-%d %H:%M:%S} UTC  "
            f"{record.actor or '-'}  {record.mode}  {rows}  [{state}]"
        )
        for f in record.files:
            counts = ", ".join(
                f"{key.replace('_', ' ')} {f[key]:,}"
                for key in ("rows_read", "accepted", "rejected")
                if key in f
            )
            print(
                f"  {f['name']}  sha256 {f.get('sha256') or '-'}  "
                f"{f.get('bytes', 0):,} bytes  {counts}"
            )
    return EXIT_OK


def cmd_templates(args: argparse.Namespace) -> int:
    """Write a canonical template and a small sample extract for every table."""
    written = service.write_templates(_me(), args.folder)
    for path in written:
        print(path)
    return EXIT_OK


def cmd_metrics(args: argparse.Namespace) -> int:
    """Print the metrics JSON of the spec, from the store or a Parquet folder."""
    from metrics.params import Filters

    purposes = tuple(args.marketing_purposes.split(",")) if args.marketing_purposes else None
    filters = Filters(
        jurisdictions=tuple(args.jurisdiction or ()),
        countries=tuple(args.country or ()),
        channels=tuple(args.channel or ()),
        segments=tuple(args.segment or ()),
    )
    figures = service.metrics_json(
        _me(),
        db=args.db,
        source=args.source,
        engine=args.engine,
        spark_master=args.spark_master,
        as_of=args.as_of,
        start=args.start,
        end=args.end,
        min_cell=args.min_cell,
        marketing_purposes=purposes,
        filters=filters,
        currency=args.currency,
    )
    print(json.dumps(figures, indent=2))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write the store's canonical tables as Parquet, one file per table."""

    def told(name: str, rows: int) -> None:
        _say(f"consentlens: {name}: {rows:,} row(s)")

    written = service.export_parquet(
        _me(), args.folder, progress=told, turn=_turn(args), db=args.db
    )
    print(f"exported {sum(written.values()):,} row(s) in {len(written)} table(s) to {args.folder}")
    return EXIT_OK


def cmd_facts(args: argparse.Namespace) -> int:
    """Build the fact tables of a Parquet folder, on DuckDB or Spark, into its `_facts/`;
    without a folder, bring the store's facts up to date."""
    from data.storage.engines import FACTS_FOLDER

    if args.folder is None:
        if args.engine != "duckdb":
            raise SystemExit("consentlens facts: a store's facts are built by DuckDB")
        done = service.refresh_facts(_me(), turn=_turn(args), db=args.db)
        print("facts rebuilt: they are of the data as it is" if done else "facts already current")
        return EXIT_OK

    def told(name: str) -> None:
        _say(f"consentlens: building {name}")

    written = service.build_facts(
        _me(), args.folder, engine=args.engine, spark_master=args.spark_master, progress=told
    )
    for name, rows in written.items():
        print(f"  {name:<24} {rows:>12,} row(s)")
    print(f"built {len(written)} fact table(s) on {args.engine} in {args.folder}/{FACTS_FOLDER}")
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase people (right to be forgotten), compact the store and verify."""
    from data.rights.erasure import ErasureError

    try:
        result = service.forget(
            _me(), args.customer_ids, args.request_id, turn=_turn(args), db=args.db
        )
    except ErasureError as error:
        _say(f"consentlens: {error}")
        return EXIT_REJECTED if error.rejected else EXIT_ERROR
    print(f"erased {result.people} person(s)")
    for name, n in result.deleted.items():
        print(f"  {name:<18} {n:>8,} row(s) deleted")
    for name, n in result.anonymised.items():
        print(f"  {name:<18} {n:>8,} row(s) kept for accounting, identifier removed")
    if result.requests_closed:
        print(f"  {result.requests_closed} erasure request(s) marked completed")
    print(
        f"verified: no row left in any table; {result.scanned_values} identifying value(s) "
        f"readable in the store's files before are absent now (compacted "
        f"{result.bytes_before:,} -> {result.bytes_after:,} bytes)"
        + (
            f"; {result.unscannable} value(s) stored compressed or too short to scan for are "
            "covered by the row checks and the rewrite"
            if result.unscannable
            else ""
        )
    )
    if result.exports_rewritten:
        print(f"  {result.exports_rewritten} Parquet export(s) of the store: removed from them too")
    print("the suppression list refuses them on any later import")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Print what the store holds about one person (JSON or self-contained HTML); audited
    as the person page's look-up and download are."""
    me = _me()
    report = service.look_up(me, args.customer_id, db=args.db)
    if not report.found:
        _say("consentlens: the store holds nothing under this identifier (exact match)")
    text = service.export_report(me, report, args.format, db=args.db).decode("utf-8")
    print(text)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    """Verify or list the audit trail."""
    if args.action == "verify":
        verdict = service.verify_audit(_me(), db=args.db)
        if verdict.ok:
            print(f"audit log intact: {verdict.checked} entries, chain and head verified")
            return EXIT_OK
        _say(f"consentlens: audit log altered: {verdict.problem}")
        return EXIT_ERROR
    entries, _ = service.audit_entries(_me(), db=args.db)
    for entry in entries:
        print(json.dumps(entry, sort_keys=True))
    return EXIT_OK


def cmd_training(args: argparse.Namespace) -> int:
    """List the training scenarios, or print one scenario's answer key as JSON."""
    if args.action == "list":
        for name, details in training.scenarios():
            trap = " (a trap)" if details.trap else ""
            print(f"{name}: {details.title}{trap}")
            print(f"  lesson: {details.lesson}")
        return EXIT_OK
    if not args.scenario:
        raise UsageError("training key needs a SCENARIO (see `consentlens training list`)")
    answers = training.key(
        args.scenario,
        args.seed,
        args.customers,
        perturbed=not args.exact,
        real=args.db,
        progress=_say,
    )
    print(json.dumps(answers, indent=2))
    return EXIT_OK


def engine_options(parser: argparse.ArgumentParser, what: str) -> None:
    """--engine and --spark-master, for the commands that read a Parquet folder."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help=f"{what} (default: duckdb; spark needs the spark extra)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="the Spark cluster for --engine spark (default: local[*], or $SPARK_REMOTE)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    db_help = f"store file (default: ${ENV_VAR}, else var/consentlens.duckdb)"
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    # Commands that write wait their turn behind another writer, this long at most.
    writer = argparse.ArgumentParser(add_help=False)
    writer.add_argument(
        "--wait",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another writer to finish "
        f"(default: ${WAIT_ENV}, else {DEFAULT_WAIT:g})",
    )

    parser = argparse.ArgumentParser(
        prog="consentlens",
        description="Privacy-aware marketing analytics over a DuckDB store.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common, writer],
        help="write a synthetic dataset, replacing the store's data",
    )
    demo.add_argument("--customers", type=_positive, default=50_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--scenario", default="baseline")
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser(
        "import",
        parents=[common, writer],
        help="import files: canonical tables, or extracts (CSV/TSV, xlsx, Parquet, JSON Lines)",
    )
    imp.add_argument(
        "paths",
        nargs="+",
        metavar="FILE",
        help="files (named after tables, or any name with --table or a saved mapping), or folders",
    )
    imp.add_argument("--table", choices=list(TABLES), help="the table the files hold")
    imp.add_argument("--mapping", metavar="FILE", help="a column mapping saved as JSON")
    imp.add_argument("--dry-run", action="store_true", help="print the report, write nothing")
    imp.add_argument(
        "--accept-valid",
        action="store_true",
        help="import the valid rows and report the rest (default: any rejected row refuses all)",
    )
    imp.add_argument("--replace", action="store_true", help="empty the store first")
    imp.add_argument(
        "--decided-at",
        type=_date,
        metavar="DATE",
        help="date of the consent decisions of rows that give none (without it such rows "
        "are rejected)",
    )
    imp.add_argument("--problems-csv", metavar="FILE", help="also write the problems as CSV")
    imp.add_argument(
        "--max-size",
        type=_positive,
        default=os.environ.get("CONSENTLENS_MAX_UPLOAD_MB", "200"),
        metavar="MB",
        help="largest file accepted (default: $CONSENTLENS_MAX_UPLOAD_MB, else 200)",
    )
    imp.set_defaults(func=cmd_import)

    his = sub.add_parser(
        "imports", parents=[common, writer], help="list recorded imports or undo the last"
    )
    his.add_argument("action", choices=["list", "undo"])
    his.set_defaults(func=cmd_imports)

    tpl = sub.add_parser(
        "templates", parents=[common], help="write canonical templates and sample extracts"
    )
    tpl.add_argument("folder", help="folder to write into (created if needed)")
    tpl.set_defaults(func=cmd_templates)

    met = sub.add_parser("metrics", parents=[common], help="print the metrics JSON")
    met.add_argument("--as-of", type=_date, help="as-of date D (sets end too)")
    met.add_argument("--start", type=_date, help="first day of the period")
    met.add_argument("--end", type=_date, help="last day of the period (sets D too)")
    met.add_argument(
        "--min-cell",
        type=_positive,
        default=default_min_cell(),
        help="minimum cell size k (default: $CONSENTLENS_MIN_CELL, else 11)",
    )
    met.add_argument("--marketing-purposes", help="comma-separated purposes M")
    met.add_argument(
        "--currency",
        metavar="CODE",
        help="revenue of orders in this currency only (ISO code; default: every order)",
    )
    for flag, what in (
        ("--jurisdiction", "jurisdiction"),
        ("--country", "country code"),
        ("--channel", "acquisition channel"),
        ("--segment", "segment"),
    ):
        met.add_argument(
            flag, action="append", metavar="VALUE", help=f"only customers of this {what} (repeat)"
        )
    met.add_argument(
        "--source",
        metavar="DIR",
        help="a folder of Parquet files, one per table (as `export` writes), instead of the store",
    )
    engine_options(met, "what computes the figures from --source")
    met.set_defaults(func=cmd_metrics)

    fac = sub.add_parser(
        "facts",
        help="build the fact tables of a Parquet folder (into DIR/_facts), or without DIR "
        "bring the store's facts up to date, for fast figures",
        parents=[common, writer],
    )
    fac.add_argument(
        "folder",
        metavar="DIR",
        nargs="?",
        default=None,
        help="a folder of Parquet files, one per table (default: the store)",
    )
    engine_options(fac, "what builds the facts")
    fac.set_defaults(func=cmd_facts)

    exp = sub.add_parser(
        "export",
        parents=[common, writer],
        help="write the canonical tables as Parquet, one file per table",
    )
    exp.add_argument("folder", help="folder to write into (created if needed)")
    exp.set_defaults(func=cmd_export)

    era = sub.add_parser(
        "erase", parents=[common, writer], help="erase people (right to be forgotten)"
    )
    era.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")
    era.add_argument("--request-id", help="the erasure request this answers (marked completed)")
    era.set_defaults(func=cmd_erase)

    rep = sub.add_parser("report", parents=[common], help="what the store holds about a person")
    rep.add_argument("customer_id", metavar="CUSTOMER_ID", help="matched exactly")
    rep.add_argument("--format", choices=["json", "html"], default="json")
    rep.set_defaults(func=cmd_report)

    tra = sub.add_parser(
        "training",
        parents=[common],
        help="training scenarios: list them, or print one's answer key",
    )
    tra.add_argument("action", choices=["list", "key"])
    tra.add_argument("scenario", nargs="?", metavar="SCENARIO")
    tra.add_argument(
        "--seed",
        type=int,
        default=training.DEFAULT_SEED,
        help=f"the training store's seed (default {training.DEFAULT_SEED})",
    )
    tra.add_argument(
        "--customers",
        type=_positive,
        default=None,
        help=f"the training store's size (default: ${training.CUSTOMERS_ENV}, else "
        f"{training.TRAINING_CUSTOMERS:,})",
    )
    tra.add_argument(
        "--exact",
        action="store_true",
        help="answers from exact counts (default: with the noise a viewer sees)",
    )
    tra.set_defaults(func=cmd_training)

    aud = sub.add_parser("audit", parents=[common], help="verify or list the audit trail")
    aud.add_argument("action", choices=["verify", "list"])
    aud.set_defaults(func=cmd_audit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status."""
    args = build_parser().parse_args(argv)
    args.db = getattr(args, "db", None)
    try:
        return int(args.func(args))
    except UsageError as error:
        _say(f"consentlens: {error}")
        return EXIT_REJECTED
    except USER_ERRORS as error:
        for problem in str(error).splitlines():
            _say(f"consentlens: {problem}")
        return EXIT_REJECTED if isinstance(error, REJECTED) else EXIT_ERROR
    except KeyboardInterrupt:
        _say("consentlens: interrupted; nothing was committed")
        return EXIT_ERROR
    except Exception as error:  # noqa: BLE001 - last resort: one line, no values
        if os.environ.get("CONSENTLENS_DEBUG"):
            traceback.print_exc()
        _say(
            f"consentlens: unexpected {type(error).__name__}; "
            "set CONSENTLENS_DEBUG=1 to see the details"
        )
        return EXIT_ERROR
