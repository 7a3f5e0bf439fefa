"""The ``campaign`` command (README, "The CLI").

Exit status: 0 success, 1 validation errors or a failed operation, 2 bad
usage (argparse). Errors go to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from campaign_tools.stages import (
    DEFAULT_CAMPAIGNS,
    LOCAL_DYNAMODB_PORT,
    STAGES,
    CliError,
    endpoint_answer,
    endpoint_settings,
    publisher_name,
    shell_settings,
    source_commit,
    use_dummy_credentials_for,
)
from chalicelib.clock import parse_instant, system_clock
from chalicelib.errors import PlatformError, StoreUnavailable
from chalicelib.settings import SettingsError
from chalicelib.store.table import RequestRefused

if TYPE_CHECKING:
    from chalicelib.releases.publishing import Publisher
    from chalicelib.settings import Settings
    from chalicelib.wiring import Services


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535; argparse refuses anything else with exit status 2."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0 (any free one) to 65535")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


MAX_FOLD_SHARDS = 1024  # fold-counters --from: four times the largest count ever deployed (256)


def _old_shard_count(text: str) -> int:
    """``fold-counters --from``: a whole number from 1 to :data:`MAX_FOLD_SHARDS`."""
    value = _positive(text)
    if value > MAX_FOLD_SHARDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_FOLD_SHARDS}: the counts deployed so far are 256 and 98")
    return value


def _services(args: argparse.Namespace) -> Services:
    """The stage's services, built by the same composition root as the Lambda's, at the stage's clock.

    On ``local`` that clock is the running ``campaign serve``'s (which may have been
    started ``--at`` another instant, and recorded how far it runs ahead); elsewhere
    the real one.
    """
    from campaign_tools.local_clock import get_local_clock_offset_s
    from chalicelib.wiring import build

    svc = build(_stage_settings(args))
    if args.stage == "local":  # the offset is read through the stage's own table
        offset = timedelta(seconds=get_local_clock_offset_s(svc.table))
        svc.clock = lambda: system_clock() + offset
    return svc


def _stage_settings(args: argparse.Namespace) -> Settings:
    """The stage's settings with the DynamoDB endpoint the options, the shell or a running
    ``campaign serve`` name (:func:`campaign_tools.stages.dynamodb_endpoint`); kept on ``args``
    for the error message."""
    settings = endpoint_settings(args.stage, args.endpoint_url, args.dynamodb_port)
    use_dummy_credentials_for(settings)
    args.settings = settings
    return settings


def _validated(args: argparse.Namespace, paths: Sequence[str] | None = None, *, only: str | None = None):
    """The validated campaigns, every diagnostic printed; ``CliError`` when any file has an error.

    ``only``: a campaign id that is all the command needs (``campaign preview ID``): errors in
    other files are then reported and left out, as long as that campaign's own file is valid.
    """
    from campaign_tools.authoring.campaign_yaml import validate_paths

    slots = getattr(args, "slots", None) or shell_settings().homepage_slots
    result = validate_paths(list(paths or [args.campaigns]), slots=slots)
    strict = getattr(args, "strict", False)
    for diagnostic in result.diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    if only is not None and only in result.sources and not result.ok:
        own = result.sources[only]
        if not any(d.path == own for d in result.errors):
            others = sorted({d.path for d in result.errors})
            print(f"warning: {len(result.errors)} error(s) in {', '.join(others)}; previewing {only} alone", file=sys.stderr)
            return result
    if not result.ok or (strict and result.warnings):
        raise CliError(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s); nothing was done")
    return result


# ------------------------------------------------------------------ commands


def _window_line(campaign, now: datetime) -> str:
    """``id: <local start> -> <local end> (zone); UTC <start> -> <end>; now <state>``."""

    zone = campaign.zone

    def show(at: datetime | None, tz) -> str:
        return "open-ended" if at is None else at.astimezone(tz).isoformat()

    return (
        f"{campaign.id}: {show(campaign.starts_at, zone)} -> {show(campaign.ends_at, zone)} ({campaign.timezone}); "
        f"UTC {show(campaign.starts_at, UTC)} -> {show(campaign.ends_at, UTC)}; "
        f"now {campaign.window.state_at(now)}"
    )


def cmd_validate(args: argparse.Namespace) -> int:
    paths = args.paths or [args.campaigns]
    result = _validated(args, paths)
    if args.verbose:
        now = system_clock()
        for campaign in result.campaigns:
            print(_window_line(campaign, now))
    print(f"{len(result.campaigns)} campaign(s) valid, {len(result.warnings)} warning(s)")
    return 0


def _publisher(args: argparse.Namespace) -> tuple[Publisher, Settings]:
    svc = _services(args)
    publisher = svc.publisher(actor=publisher_name(), commit=source_commit(args.campaigns), progress=_progress_bar)
    return publisher, svc.settings


def _progress_bar(total: int):
    """A progress bar on stderr for large publishes (shown only on a terminal)."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="item", desc="writing", file=sys.stderr, disable=None if total > 25 else True, leave=False)

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return advance


def cmd_plan(args: argparse.Namespace) -> int:
    result = _validated(args)
    publisher, settings = _publisher(args)
    print(f"stage {settings.stage}, table {settings.table_name}")
    print(publisher.plan(result.campaigns).describe())
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    if args.dry_run:
        return cmd_plan(args)
    result = _validated(args)
    if not result.campaigns:  # a publish makes exactly these files live: none would remove every campaign
        raise CliError(
            f"no campaign file in {args.campaigns}; nothing was published "
            "(to take a campaign off, remove its file and publish the others; `campaign rollback` undoes a publish)"
        )
    publisher, settings = _publisher(args)
    plan, release = publisher.publish(result.campaigns, allow=args.allow or ())
    print(f"stage {settings.stage}, table {settings.table_name}")
    print(plan.describe())
    if release is None:
        print("nothing changed; nothing was written")
    else:
        print(f"release {release.number} is live (previous: {release.previous or 'none'})")
        for line in _homepage_lines(plan, publisher.clock()):
            print(line)
    return 0


def _homepage_lines(plan, at: datetime) -> list[str]:
    """When the homepage shows what the publish changed (chalicelib.homepage.notice)."""
    from chalicelib.homepage.notice import homepage_notices

    campaigns = [c for c in plan.changes if c.what == "campaign"]
    changed = {c.campaign_id: c.fields for c in campaigns if c.action in ("add", "change")}
    removed = [c.campaign_id for c in campaigns if c.action == "remove"]
    return homepage_notices(changed, removed, plan.docs, at)


def cmd_rollback(args: argparse.Namespace) -> int:
    publisher, settings = _publisher(args)
    old, new = publisher.rollback(args.to)
    print(f"stage {settings.stage}: release {new.number} is live again (was {old.number})")
    return 0


def cmd_releases(args: argparse.Namespace) -> int:
    store = _services(args).releases
    current = store.get_current_release()
    for release in store.list_releases(limit=args.limit):
        mark = "*" if current is not None and current.number == release.number else " "
        print(
            f"{mark} {release.number:>4}  {release.published_at}  {release.published_by or '-'}  "
            f"{release.commit or '-'}  {len(release.manifest)} campaign(s)"
        )
    return 0


def cmd_fold_counters(args: argparse.Namespace) -> int:
    """Fold the counter shards a smaller shard count no longer reads (docs/donations.md)."""
    svc = _services(args)
    kept = [svc.releases.get_release(number) for number in svc.releases.release_numbers()]
    campaign_ids = sorted({cid for release in kept if release is not None for cid in release.manifest})
    folded = svc.books.fold_counters(campaign_ids, args.from_shards, svc.clock())
    for cid, moved in folded.items():
        print(f"{cid}: {moved} shard(s) folded into 0..{svc.books.counter_shards - 1}")
    print(f"stage {svc.settings.stage}: {sum(folded.values())} shard(s) folded for {len(folded)} campaign(s)")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from chalicelib.releases.catalog import YamlCatalog
    from chalicelib.web.pages import campaign, homepage
    from chalicelib.web.view import View, pick_lang

    if not args.homepage and not args.id:
        raise CliError("give a campaign ID, or --homepage")
    result = _validated(args, only=None if args.homepage else args.id)
    settings = shell_settings()
    source = YamlCatalog(
        result.campaigns, slots=settings.homepage_slots, rotation_minutes=settings.rotation_minutes, since=args.since
    )
    view = View.of(args.at, pick_lang(args.lang), "json" if args.json else "html")
    if args.homepage:
        page = homepage.page(source, view, settings.homepage_slots, settings.rotation_minutes)
    else:
        if source.campaign(args.id) is None:
            print(f"note: no campaign {args.id!r} in {args.campaigns}; showing what a consumer would get", file=sys.stderr)
        page = campaign.page(source, view, args.id)
    if args.json:
        output = json.dumps({"status": page.status, "body": json.loads(page.body)}, ensure_ascii=False, indent=2)
    else:
        output = page.body
        print(f"HTTP {page.status}, Cache-Control: {page.headers.get('Cache-Control', '-')}", file=sys.stderr)
    target = args.output
    if args.open and not target:
        import tempfile

        suffix = ".json" if args.json else ".html"
        target = tempfile.NamedTemporaryFile("w", suffix=suffix, prefix=f"preview-{args.id or 'home'}-", delete=False).name
    if target:
        Path(target).write_text(output + ("\n" if args.json else ""), encoding="utf-8")
        if args.open:
            import webbrowser

            print(f"opening {target}", file=sys.stderr)
            webbrowser.open(Path(target).resolve().as_uri())
    else:
        sys.stdout.write(output + "\n")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    if args.simulate:
        return _simulate(args)
    svc = _services(args)
    if args.history is not None:
        now = int(svc.clock().timestamp())
        for line in _history_lines(svc.rotations.rotation_history(limit=args.history, now_epoch_s=now), svc.settings):
            print(line)
        return 0
    print(svc.rotation_job.run(args.at).message)
    return 0


def _history_lines(docs, settings) -> list[str]:
    """``campaign rotate --history``: one line a rotation (newest first), one more a span, and a
    ``GAP`` line where more than ``ROTATION_MINUTES`` passed between two rotations (docs/runbook.md)."""
    from chalicelib.homepage.history import gaps

    def row(slots) -> str:
        return " ".join(f"{s[0]}/{s[1]}{'*' if s[2] else ''}" for s in slots)

    missing = {newer: (older, minutes) for older, newer, minutes in gaps(docs, settings.rotation_minutes)}
    lines = []
    for doc in docs:
        first = [[s["campaign_id"], s["sku"], s["pinned"]] for s in doc["slots"]]
        lines.append(f"{doc['rotation']:>6}  {doc['rotated_at']}  {doc.get('inputs_digest', '')}  {row(first)}")
        for span in (doc.get("spans") or [])[1:]:
            lines.append(f"{'':>6}  {span['from']}  {'span':<16}  {row(span['slots'])}")
        if doc["rotation"] in missing:
            older, minutes = missing[doc["rotation"]]
            lines.append(
                f"{'GAP':>6}  {minutes:.0f} min without a rotation after rotation {older} (every {settings.rotation_minutes} min)"
            )
    return lines


def _simulate(args: argparse.Namespace) -> int:
    from chalicelib.homepage.simulation import simulate
    from chalicelib.homepage.stored import entries_from_campaigns

    if args.start is None or args.end is None:
        raise CliError("--simulate needs --from T1 and --to T2")
    if args.start >= args.end:
        raise CliError("--from must be before --to")
    result = _validated(args)
    settings = shell_settings()
    slots = args.slots or settings.homepage_slots
    runs = simulate(entries_from_campaigns(result.campaigns), args.start, args.end, slots, settings.rotation_minutes)
    if args.json:
        print(json.dumps([r.to_json() for r in runs], ensure_ascii=False, indent=2))
    else:
        for run in runs:
            row = " ".join(f"{s.pick.campaign_id}/{s.pick.sku}{'*' if s.pinned else ''}" for s in run.view)
            print(f"{run.rotation:>5}  {run.at.isoformat()}  {row}")
            for span in run.spans[1:]:
                row = " ".join(
                    f"{s.pick.campaign_id}/{s.pick.sku}{'*' if s.pinned else ''}" for s in span.view(span.starts, slots)
                )
                print(f"{'':>5}  {span.starts.isoformat()}  {row}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from campaign_tools.authoring.schema import schema_json_text

    sys.stdout.write(schema_json_text())
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    """Print the Standard Webhooks headers for a body (FILE, stdin or ``--body``), or a curl command."""
    from campaign_tools.sign import signed_output

    file = None if args.body is not None or args.file in (None, "-") else args.file
    body = args.body.encode("utf-8") if args.body is not None else Path(file).read_bytes() if file else sys.stdin.buffer.read()
    secret = args.secret or shell_settings().system_signing_secret
    try:
        print(signed_output(body, secret, args.id, args.timestamp, args.curl, file))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Create the stage's table (key schema, TTL) on a DynamoDB the stack did not create."""
    from chalicelib.store.keys import TTL_ATTRIBUTE
    from chalicelib.store.table import create_table
    from chalicelib.wiring import dynamodb_resource

    settings = _stage_settings(args)
    if settings.stage != "local" and not settings.dynamodb_endpoint:
        raise CliError(
            f"the {settings.stage} stack creates its own table (docs/runbook.md); "
            "give --endpoint-url (or AWS_ENDPOINT_URL_DYNAMODB) to create it on an emulator"
        )
    create_table(dynamodb_resource(settings), settings.table_name)
    where = settings.dynamodb_endpoint or settings.region
    print(f"table {settings.table_name} is ready at {where} (key PK/SK, TTL on {TTL_ATTRIBUTE})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from campaign_tools.serve import serve

    return serve(
        campaigns=args.campaigns,
        host=args.host,
        port=args.port,
        dynamodb_port=args.dynamodb_port,
        at=args.at,
        mall_port=args.mall_port,
    )


def cmd_studio(args: argparse.Namespace) -> int:
    """The staff's local web page (docs/studio.md) on 127.0.0.1:``--port``; its plan panel builds
    the stage's services exactly as ``campaign plan`` does, from this command's own arguments."""
    from campaign_tools.studio.server import Studio, serve_studio

    if not Path(args.campaigns).is_dir():  # a mistyped folder would show an empty timeline
        raise CliError(f"--campaigns {args.campaigns}: no such folder")
    settings = shell_settings()

    def services_of(stage: str) -> Services:
        return _services(argparse.Namespace(**{**vars(args), "stage": stage}))

    studio = Studio(
        args.campaigns,
        stage=args.stage,
        stages=STAGES,
        services_of=services_of,
        slots=settings.homepage_slots,
        rotation_minutes=settings.rotation_minutes,
    )
    return serve_studio(studio, args.port)


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaign", description="Campaign platform: validate, publish, preview, rotate.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, stage: bool = False) -> None:
        p.add_argument("--campaigns", default=DEFAULT_CAMPAIGNS, metavar="DIR", help="campaign folder (default campaigns/)")
        if stage:
            p.add_argument("--stage", default="local", choices=STAGES, help="default: local")
            p.add_argument(
                "--dynamodb-port",
                type=_port,
                default=None,
                help=f"embedded DynamoDB port (local stage; default: the running `make run`, else {LOCAL_DYNAMODB_PORT})",
            )
            p.add_argument(
                "--endpoint-url",
                metavar="URL",
                help="any DynamoDB (DynamoDB Local, LocalStack, ...); default AWS_ENDPOINT_URL_DYNAMODB; "
                "no AWS credentials needed",
            )

    p = sub.add_parser("validate", help="check campaign files or folders")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--slots", type=_positive, help="homepage slots for the pin check (default HOMEPAGE_SLOTS or 8)")
    p.add_argument("--strict", action="store_true", help="warnings fail the run")
    p.add_argument("-v", "--verbose", action="store_true", help="print each window in its zone and in UTC")
    common(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("plan", help="what a publish would change; writes nothing")
    common(p, stage=True)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("publish", help="validate, then publish atomically")
    p.add_argument("--dry-run", action="store_true", help="the same as plan")
    p.add_argument(
        "--allow",
        action="append",
        metavar="ID",
        help="go ahead with a risky change to campaign ID (removing a live one, ending one early, "
        "removing a charity sale with donations or changing its rate); repeatable",
    )
    common(p, stage=True)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("rollback", help="make the previous release live again")
    p.add_argument("--to", type=_positive, metavar="RELEASE")
    common(p, stage=True)
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("releases", help="list the kept releases")
    p.add_argument("--limit", type=_positive, default=10)
    common(p, stage=True)
    p.set_defaults(func=cmd_releases)

    p = sub.add_parser("fold-counters", help="after deploying fewer counter shards: fold the old ones into the new")
    p.add_argument(
        "--from",
        dest="from_shards",
        type=_old_shard_count,
        default=256,
        metavar="N",
        help=f"the old shard count, 1 to {MAX_FOLD_SHARDS} (default 256)",
    )
    common(p, stage=True)
    p.set_defaults(func=cmd_fold_counters)

    p = sub.add_parser("init", help="create the stage's table (key schema, TTL) on a DynamoDB the stack did not create")
    common(p, stage=True)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("preview", help="render a page at an instant from the YAML, with no AWS")
    p.add_argument("id", nargs="?", metavar="ID")
    p.add_argument("--at", type=_instant, required=True, metavar="TIME", help="ISO 8601 with offset")
    p.add_argument("--lang", default="zh-CN", choices=("zh-CN", "en"))
    p.add_argument("-o", "--output", metavar="FILE")
    p.add_argument("--json", action="store_true", help='print {"status", "body"} of the JSON route')
    p.add_argument("--homepage", action="store_true", help="preview the homepage (rotation simulated)")
    p.add_argument(
        "--from",
        dest="since",
        type=_instant,
        metavar="T1",
        help="with --homepage: simulate the rotations from T1 (as rotate --simulate --from T1; default a day before --at)",
    )
    p.add_argument("--open", action="store_true", help="open the page in a browser (static files are not served)")
    common(p)
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("rotate", help="run one homepage rotation (or simulate, or show history)")
    p.add_argument("--at", type=_instant, metavar="TIME")
    p.add_argument("--simulate", action="store_true", help="print rotations between --from and --to; writes nothing")
    p.add_argument("--from", dest="start", type=_instant, metavar="T1")
    p.add_argument("--to", dest="end", type=_instant, metavar="T2")
    p.add_argument("--slots", type=_positive)
    p.add_argument("--json", action="store_true")
    p.add_argument("--history", type=_positive, nargs="?", const=10, metavar="N", help="print the last N rotations")
    common(p, stage=True)
    p.set_defaults(func=cmd_rotate)

    p = sub.add_parser("schema", help="print the JSON Schema of the campaign YAML")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("sign", help="print the webhook-* headers that sign a body (Standard Webhooks)")
    p.add_argument("file", nargs="?", metavar="FILE", help="the exact body bytes (default: stdin)")
    p.add_argument("--body", metavar="JSON", help="the body as text instead of FILE")
    p.add_argument("--secret", help="whsec_... (default: SYSTEM_SIGNING_SECRET)")
    p.add_argument("--id", help="webhook-id (default: a random msg_...)")
    p.add_argument("--timestamp", type=int, metavar="UNIX", help="webhook-timestamp (default: now)")
    p.add_argument("--curl", metavar="URL", help="print a curl command that POSTs the body to URL")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("serve", help="the local stack: embedded DynamoDB, publish, app, rotation timer")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000)
    p.add_argument("--dynamodb-port", type=_port, default=LOCAL_DYNAMODB_PORT)
    p.add_argument("--at", type=_instant, metavar="TIME", help="start the local clock at TIME")
    p.add_argument(
        "--mall-port",
        type=_port,
        default=None,
        help="the demo mall, a stand-in for the mall's checkout (default 8002, or a free one when that is taken or --port is 0)",
    )
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("studio", help="a local web page for staff: timeline, time machine, fairness, plan; writes nothing")
    p.add_argument("--port", type=_port, default=8010, help="on 127.0.0.1 only (default 8010; 0: any free one)")
    common(p, stage=True)
    p.set_defaults(func=cmd_studio)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, PlatformError, SettingsError, RequestRefused) as exc:
        print(f"campaign {args.command}: error: {exc}", file=sys.stderr)
        if isinstance(exc, (StoreUnavailable, RequestRefused)) and getattr(args, "settings", None) is not None:
            print(f"  {endpoint_answer(exc, args.settings)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or a port the command was given: say which, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"campaign {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `campaign ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
