"""Campaign YAML (v1) -> :class:`~chalicelib.domain.model.Campaign`, with ``PATH:LINE:COL`` diagnostics.

The text is read by :mod:`campaign_tools.authoring.yaml_nodes`, which keeps what the person typed
(``0123`` stays ``"0123"``, ``39.90`` is exactly 39.90) and refuses what YAML would
silently convert. Every problem in a file is collected; nothing here raises on any
input. The rules are those of docs/yaml.md.

Per file (:func:`load_campaign_text`, :func:`load_campaign_file`): syntax, limits,
schema, types, ``teaser_from < starts_at < ends_at``, and warnings for a campaign
live under 1 hour or over 400 days. Across files (:func:`validate_paths`): ids are
unique, the pinned SKUs of the homepage campaigns live at any instant fit in
``slots``, and (a warning) one SKU has one price in campaigns that overlap.

Key paths in messages index lists from 0: ``products[0]`` is the first product.
Bounds of our own (docs/yaml.md): times have a year from 2000 to 2100, whole numbers
are at most 999,999,999, amounts have at most 12 digits before the point.

Example: ``load_campaign_text(text, "campaigns/x.yaml", expected_id="x")`` returns
``(None, [Diagnostic(...)])`` whose ``format()`` reads
``campaigns/x.yaml:14:12: error: products[2].price: 39.999 has more than 2 decimals; ...``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from types import MappingProxyType

from yaml.nodes import MappingNode, Node

from campaign_tools.authoring.typos import find_typos
from campaign_tools.authoring.yaml_nodes import MAX_FILE_BYTES, NodeReader, compose_text, did_you_mean, show
from chalicelib.domain.buy_links import pick_url_problem
from chalicelib.domain.ids import SKU_CHARS, is_campaign_id, is_sku
from chalicelib.domain.model import (
    DEFAULT_RETURN_DAYS,
    ENDORSEMENT_KINDS,
    KINDS,
    LANGS,
    MAX_RETURN_DAYS,
    Campaign,
    Charity,
    County,
    Disbursement,
    Endorsement,
    Homepage,
    Merchant,
    Pick,
    Sight,
    Text,
)
from chalicelib.domain.money import fen_to_yuan_str

DEFAULT_TIMEZONE = "Asia/Shanghai"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # the images the site serves under /static/
DEFAULT_SLOTS = 8
SHORTEST_LIVE = timedelta(hours=1)
LONGEST_LIVE = timedelta(days=400)

_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:\d{2})?", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class Diagnostic:
    """One finding at ``path:line:col`` (1-based); ``severity`` is "error" or "warning"."""

    path: str
    line: int
    col: int
    severity: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class ValidationResult:
    """The valid campaigns (sorted by id), where each came from, and every diagnostic."""

    campaigns: tuple[Campaign, ...]
    sources: Mapping[str, str]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Loaded:
    """One file's outcome, with the positions of its keys for checks across files."""

    path: str
    campaign: Campaign | None
    diagnostics: list[Diagnostic]
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, tuple[int, int]] = field(default_factory=dict)


# ---------------------------------------------------------------- public API


def load_campaign_text(text: str | bytes, path: str, *, expected_id: str | None) -> tuple[Campaign | None, list[Diagnostic]]:
    """Read one campaign from ``text``; ``path`` is only used in diagnostics.

    Returns the campaign (``None`` when there is any error) and the diagnostics
    sorted by line and column. ``expected_id`` is the file stem the ``id`` must equal
    (``None``: not checked).
    """
    loaded = _load(text, str(path), expected_id)
    return loaded.campaign, loaded.diagnostics


def load_campaign_file(path: str | Path) -> tuple[Campaign | None, list[Diagnostic]]:
    """Read ``path``; its ``id`` must equal the file stem."""
    loaded = _load_file(Path(path), str(path))
    return loaded.campaign, loaded.diagnostics


def validate_paths(
    paths: Sequence[str | Path], *, slots: int = DEFAULT_SLOTS, static_dir: Path | None = STATIC_DIR
) -> ValidationResult:
    """Validate files and folders (a folder: its ``*.yaml``/``*.yml`` files, sorted, not recursive).

    Per-file checks first, then, on the valid campaigns, the checks across files.
    ``slots`` is the number of homepage slots the pinned SKUs must fit in.
    ``static_dir``: where ``/static/...`` images must exist (a warning otherwise: the
    page would show the placeholder); ``None`` skips that check.
    """
    files, diagnostics = _expand(paths)
    loaded = [_load_file(file, shown) for file, shown in files]
    for item in loaded:
        diagnostics.extend(item.diagnostics)
    unique: list[_Loaded] = []
    by_id: dict[str, _Loaded] = {}
    for item in loaded:
        if item.campaign is None:
            continue
        first = by_id.get(item.campaign.id)
        if first is not None:
            diagnostics.append(
                _diag(
                    item,
                    "id",
                    f'id: "{item.campaign.id}" is already the id of {first.path}; give each campaign its own id and file name',
                    table="values",
                )
            )
            continue
        by_id[item.campaign.id] = item
        unique.append(item)
    diagnostics.extend(_check_pins(unique, slots))
    diagnostics.extend(_check_prices(unique))
    if static_dir is not None:
        diagnostics.extend(_check_static_images(unique, static_dir))
    campaigns = tuple(sorted((item.campaign for item in unique), key=lambda c: c.id))
    return ValidationResult(
        campaigns=campaigns,
        sources=MappingProxyType({cid: item.path for cid, item in sorted(by_id.items())}),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.path, d.line, d.col))),
    )


def find_campaign(
    paths: Sequence[str | Path], campaign_id: str, *, slots: int = DEFAULT_SLOTS
) -> tuple[Campaign | None, ValidationResult]:
    """The campaign ``campaign_id`` if it is valid itself (check ``result.ok`` for the set), and the result."""
    result = validate_paths(paths, slots=slots)
    return next((c for c in result.campaigns if c.id == campaign_id), None), result


# ---------------------------------------------------------------- one file


def _expand(paths: Sequence[str | Path]) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    files: list[tuple[Path, str]] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        try:
            if path.is_dir():
                found, skipped = _folder_entries(path)
                listed = [(p, str(path / p.name)) for p in found]
                diagnostics.extend(skipped)
            elif path.exists():
                listed = [(path, str(given))]
            else:
                diagnostics.append(Diagnostic(str(given), 1, 1, "error", "no such file or folder"))
                continue
        except OSError as exc:
            diagnostics.append(Diagnostic(str(given), 1, 1, "error", f"cannot read: {exc.strerror or exc}"))
            continue
        for file, shown in listed:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append((file, shown))
    return files, diagnostics


def _folder_entries(folder: Path) -> tuple[list[Path], list[Diagnostic]]:
    """The campaign files of ``folder`` (``*.yaml``/``*.yml`` files in it, sorted), and a
    diagnostic for each entry that looks like a campaign but would not be read.

    A publish makes exactly the files read live, so a file skipped without a word would
    be removed from the site: ``.YAML`` and a broken link are errors; a subfolder holding
    YAML is a warning (it may be an archive), since subfolders are never read.
    """
    found: list[Path] = []
    skipped: list[Diagnostic] = []
    for entry in sorted(folder.iterdir()):
        suffix = entry.suffix.lower()
        if entry.is_dir():
            if any(p.suffix.lower() in (".yaml", ".yml") for p in entry.iterdir()):
                skipped.append(
                    Diagnostic(
                        str(entry),
                        1,
                        1,
                        "warning",
                        "a subfolder of campaign files is not read; move them into the folder itself to publish them",
                    )
                )
        elif suffix in (".yaml", ".yml") and entry.suffix != suffix:
            skipped.append(
                Diagnostic(str(entry), 1, 1, "error", f"not read: campaign files end in {suffix}; rename it {entry.stem}{suffix}")
            )
        elif entry.suffix in (".yaml", ".yml"):
            if entry.is_file():
                found.append(entry)
            else:
                skipped.append(Diagnostic(str(entry), 1, 1, "error", "cannot read: not a file (a broken link?)"))
    return found, skipped


def _load_file(path: Path, shown: str) -> _Loaded:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _Loaded(shown, None, [Diagnostic(shown, 1, 1, "error", f"cannot read the file: {exc.strerror or exc}")])
    return _load(data, shown, path.stem)


def _load(text: str | bytes, path: str, expected_id: str | None) -> _Loaded:
    typos = find_typos(text if isinstance(text, str) else text.decode("utf-8", errors="replace"))
    if typos:  # the parser would blame the wrong place for these; nothing else is read
        return _Loaded(path, None, [Diagnostic(path, t.line, t.col, "error", t.message) for t in typos])
    reader = NodeReader()
    campaign = None
    try:
        with _collector_paused():
            root, issues = compose_text(text)
            reader.issues.extend(issues)
            if root is not None:
                campaign = _read_campaign(reader, root, expected_id)
            root = None  # the node tree is freed (by reference counting) before the collector is back
    except Exception as exc:  # a bug must surface as a diagnostic, never as a crash of the caller
        reader.error((1, 1), f"internal error while reading this file ({type(exc).__name__}: {exc}); please report it")
    if reader.failed:
        campaign = None
    diagnostics = [Diagnostic(path, i.line, i.col, i.severity, i.message) for i in reader.issues]
    diagnostics.sort(key=lambda d: (d.line, d.col))
    return _Loaded(path, campaign, diagnostics, reader.keys, reader.values)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one file is read: a 1 MiB file makes ~10^6
    objects, each collection walks those alive again (0.4 s of 1 s), and none is garbage
    in a cycle but an alias loop's nodes, freed by the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_campaign(r: NodeReader, root: Node, expected_id: str | None) -> Campaign | None:
    top = r.mapping(
        root,
        "",
        ("id", "kind", "title", "starts_at", "products"),
        ("summary", "timezone", "teaser_from", "ends_at", "homepage", "charity", "tourism"),
    )
    if top is None:
        return None
    cid = _read_id(r, top.get("id"), expected_id)
    kind = _read_kind(r, top.get("kind"))
    title = _text(r, top.get("title"), "title")
    summary = _text(r, top.get("summary"), "summary")
    zone_name, zone = _read_zone(r, top.get("timezone"))
    times = {key: _time(r, top.get(key), key, zone) for key in ("teaser_from", "starts_at", "ends_at")}
    _check_order(r, top, times)
    products = _read_products(r, top.get("products"), kind)
    homepage = _read_homepage(r, top.get("homepage"), products)
    charity = _read_charity(r, top.get("charity"), kind, root, zone)
    tourism = _read_tourism(r, top.get("tourism"), kind)
    if kind and kind != "regional_store" and "ends_at" not in top:
        r.error(
            root,
            'missing required key "ends_at" (only a regional_store may run without an end); add ends_at: 2026-10-18T00:00:00',
        )
    starts_at, ends_at = times["starts_at"], times["ends_at"]
    if starts_at and ends_at and ends_at > starts_at and not SHORTEST_LIVE <= ends_at - starts_at <= LONGEST_LIVE:
        span = "under 1 hour" if ends_at - starts_at < SHORTEST_LIVE else "over 400 days"
        r.error(
            r.values["ends_at"],
            f"ends_at: the campaign is live for {span} ({ends_at - starts_at}); check starts_at and ends_at",
            severity="warning",
        )
    if r.failed:
        return None
    return Campaign(
        id=cid,
        kind=kind,
        title=title,
        timezone=zone_name,
        starts_at=starts_at,
        ends_at=ends_at,
        products=tuple(products),
        summary=summary,
        teaser_from=times["teaser_from"],
        homepage=homepage,
        charity=charity,
        tourism=tuple(tourism),
    )


def _read_id(r: NodeReader, node: Node | None, expected_id: str | None) -> str | None:
    cid = None if node is None else r.string(node, "id")
    if cid is None:
        return None
    if not is_campaign_id(cid):
        r.error(node, f"id: {show(cid)} is not a valid id; use 3 to 64 characters of a-z, 0-9 and -")
    elif expected_id is not None and cid != expected_id:
        r.error(
            node,
            f'id: "{cid}" differs from the file name "{expected_id}"; rename the file to {cid}.yaml or write id: {expected_id}',
        )
    return cid


def _read_kind(r: NodeReader, node: Node | None) -> str | None:
    kind = None if node is None else r.string(node, "kind")
    if kind is not None and kind not in KINDS:
        r.error(node, f"kind: {show(kind)} is not a campaign kind; {did_you_mean(kind, KINDS)}write one of {', '.join(KINDS)}")
        return None
    return kind


def _read_zone(r: NodeReader, node: Node | None) -> tuple[str, tzinfo]:
    fallback = zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)
    if node is None:
        return DEFAULT_TIMEZONE, fallback
    name = r.string(node, "timezone")
    if name is None:
        return DEFAULT_TIMEZONE, fallback
    if name.strip().lower() == "localtime":
        r.error(node, "timezone: localtime is the server's own zone; write an IANA name like Asia/Shanghai")
        return name, fallback
    try:
        if len(name) > 255:  # no IANA name is this long; zoneinfo recurses on very deep paths
            raise ValueError(name)
        return name, zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, RecursionError):
        r.error(node, f"timezone: {show(name)} is not an IANA time zone; {_zone_hint(name)}write a name like Asia/Shanghai")
        return name, fallback


# Chinese places (and names for China's time) staff type as a zone -> the IANA zone to write.
# All of mainland China keeps Beijing time (Asia/Shanghai); Xinjiang's own time is Asia/Urumqi.
_PLACE_ZONES = {
    **dict.fromkeys(
        "beijing peking china prc cst beijing_time 北京 北京时间 中国 上海 chongqing 重庆 guangzhou 广州 shenzhen 深圳 "
        "chengdu 成都 wuhan 武汉 xian xi'an 西安 hangzhou 杭州 nanjing 南京 tianjin 天津 bazhong 巴中 kunming 昆明 "
        "guiyang 贵阳 lanzhou 兰州 dingxi 定西 lhasa 拉萨 harbin 哈尔滨 changsha 长沙 zhengzhou 郑州 nanning 南宁".split(),
        "Asia/Shanghai",
    ),
    **dict.fromkeys("urumqi 乌鲁木齐 xinjiang 新疆 kashgar kashi 喀什".split(), "Asia/Urumqi"),
    **dict.fromkeys("hongkong hong_kong hong-kong 香港".split(), "Asia/Hong_Kong"),
    **dict.fromkeys("macau macao 澳门".split(), "Asia/Macau"),
}


def _zone_hint(name: str) -> str:
    """``did you mean "Asia/Shanghai"? `` for a Chinese place typed as a zone, else the nearest IANA names."""
    place = name.strip().lower().removeprefix("asia/").replace(" ", "_")
    zone = _PLACE_ZONES.get(place) or _PLACE_ZONES.get(place.replace("_", ""))
    if zone is not None:
        return f'did you mean "{zone}"? '
    return did_you_mean(name, _zone_names())


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _time(r: NodeReader, node: Node | None, key: str, zone: tzinfo) -> datetime | None:
    text = None if node is None else r.scalar(node, key, "2026-10-17T00:00:00")
    if text is None:
        return None
    s = text.strip()
    if _DATE.fullmatch(s):
        fix = f"{key}: {s} is a date without a time; write a time: {s}T00:00:00"
        try:
            day = date.fromisoformat(s)
            if key == "ends_at":  # exclusive: the day written is most likely the last day meant
                after = day + timedelta(days=1)
                named = f"{_MONTHS[day.month - 1]} {day.day}"
                fix += (
                    f" (ends_at is exclusive: {s}T00:00:00 ends the campaign as {named} begins; "
                    f"to run through {named}, write {after.isoformat()}T00:00:00)"
                )
        except (ValueError, OverflowError):
            fix = f"{key}: {s} is not a valid date; write a date and time like 2026-10-17T00:00:00"
        r.error(node, fix)
        return None
    m = _TIME.fullmatch(s)
    if m is None:
        r.error(
            node,
            f"{key}: {show(s)} is not a date and time; write it like 2026-10-17T00:00:00 "
            "(local time in timezone) or 2026-10-17T00:00:00+08:00",
        )
        return None
    try:
        value = datetime.fromisoformat(f"{m[1]}T{m[2]}{m[3] or ''}")
    except ValueError:
        r.error(node, f"{key}: {s} is not a valid date and time; check the month, day, hour, minute and offset")
        return None
    if not 2000 <= value.year <= 2100:
        r.error(node, f"{key}: {s} is out of range; write a year from 2000 to 2100")
        return None
    # Normalised to UTC: Python compares and subtracts two datetimes that share one
    # tzinfo by wall clock, which is wrong across a DST change (a 25-hour day).
    local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return local.astimezone(UTC)


def _check_order(r: NodeReader, top: dict[str, Node], times: dict[str, datetime | None]) -> None:
    keys = [k for k in ("teaser_from", "starts_at", "ends_at") if times[k] is not None]
    for earlier, later in itertools.pairwise(keys):
        if not times[earlier] < times[later]:
            r.error(
                top[later],
                f"{later}: {show(top[later].value)} is not after {earlier} "
                f"({show(top[earlier].value)}); {later} must be later than {earlier}",
            )


def _text(r: NodeReader, node: Node | None, where: str) -> Text | None:
    """A text per language: ``{zh-CN: ..., en: ...}``; zh-CN is required."""
    if node is None:
        return None
    if not isinstance(node, MappingNode):
        r.error(
            node,
            f"{where}: write the text per language, e.g. {where.rsplit('.', 1)[-1]}: {{zh-CN: 散养鸡蛋, en: Cage-free eggs}}",
        )
        return None
    found = r.mapping(node, where, LANGS[:1], LANGS[1:], noun="language")
    if found is None:
        return None
    values = {lang: r.string(value, f"{where}.{lang}") for lang, value in found.items()}
    return Text({k: v for k, v in values.items() if v is not None})


def _image(r: NodeReader, node: Node | None, where: str) -> str | None:
    url = None if node is None else r.string(node, where)
    if url is None:
        return None
    https = re.fullmatch(r"https://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?", url)
    static = url.startswith("/static/") and len(url) > 8 and not re.search(r"\s|\\", url)
    if not (https or static) or ".." in url.split("/"):
        r.error(node, f"{where}: {show(url)} is not an image address; write an https:// URL or a /static/... path (without ..)")
    return url


def _read_products(r: NodeReader, node: Node | None, kind: str | None) -> list[Pick]:
    items = None if node is None else r.sequence(node, "products", non_empty=True)
    picks: list[Pick] = []
    first_sku: dict[str, int] = {}
    for i, item in enumerate(items or ()):
        where = f"products[{i}]"
        p = r.mapping(
            item,
            where,
            ("sku", "name", "price", "merchant", "county", "image"),
            ("list_price", "endorsement", "donation_rate", "url"),
        )
        if p is None:
            continue
        sku = None if "sku" not in p else r.string(p["sku"], f"{where}.sku")
        if sku is not None and not is_sku(sku):
            r.error(
                p["sku"],
                f"{where}.sku: {show(sku)} is not a SKU: write 1 to 64 of {SKU_CHARS}, "
                "with no spaces (the SKU the mall's product pages use)",
            )
            sku = None
        if sku is not None and sku in first_sku:
            r.error(
                p["sku"], f'{where}.sku: duplicate SKU "{sku}" (first at line {first_sku[sku]}); list each SKU once per campaign'
            )
        elif sku is not None:
            first_sku[sku] = p["sku"].start_mark.line + 1
        price = None if "price" not in p else r.money_fen(p["price"], f"{where}.price")
        list_price = None if "list_price" not in p else r.money_fen(p["list_price"], f"{where}.list_price")
        if price is not None and list_price is not None and list_price < price:
            r.error(
                p["list_price"],
                f"{where}.list_price: {fen_to_yuan_str(list_price)} is below the price "
                f"{fen_to_yuan_str(price)}; list_price (the price before the campaign) "
                "must be at least the price",
            )
        rate = None
        if "donation_rate" in p:
            rate = r.percent(p["donation_rate"], f"{where}.donation_rate")
            if kind and kind != "charity_sale":
                r.error(
                    r.keys[f"{where}.donation_rate"],
                    f"{where}.donation_rate: only a charity_sale product "
                    f"has a donation_rate (this campaign is {kind}); remove it",
                )
        picks.append(
            Pick(
                sku=sku,
                name=_text(r, p.get("name"), f"{where}.name"),
                price_fen=price,
                merchant=_party(r, p.get("merchant"), f"{where}.merchant", "id", Merchant),
                county=_party(r, p.get("county"), f"{where}.county", "code", County),
                image=_image(r, p.get("image"), f"{where}.image"),
                list_price_fen=list_price,
                endorsement=_endorsement(r, p.get("endorsement"), f"{where}.endorsement"),
                donation_rate_percent=rate,
                url=_product_url(r, p.get("url"), f"{where}.url"),
            )
        )
    return picks


def _product_url(r: NodeReader, node: Node | None, where: str) -> str | None:
    """A pick's own product page (the rule: :func:`chalicelib.domain.buy_links.pick_url_problem`)."""
    url = None if node is None else r.string(node, where)
    if url is None:
        return None
    problem = pick_url_problem(url)
    if problem is not None:
        r.error(node, f"{where}: {show(url[:80] + ('...' if len(url) > 80 else ''))} {problem}")
        return None
    return url


def _party(r: NodeReader, node: Node | None, where: str, key: str, cls: type) -> Merchant | County | None:
    found = None if node is None else r.mapping(node, where, (key, "name"))
    if found is None:
        return None
    value = None if key not in found else r.string(found[key], f"{where}.{key}")
    return cls(value, _text(r, found.get("name"), f"{where}.name"))


def _endorsement(r: NodeReader, node: Node | None, where: str) -> Endorsement | None:
    found = None if node is None else r.mapping(node, where, ("by", "kind"))
    if found is None:
        return None
    kind = None if "kind" not in found else r.string(found["kind"], f"{where}.kind")
    if kind is not None and kind not in ENDORSEMENT_KINDS:
        r.error(
            found["kind"],
            f"{where}.kind: {show(kind)} is not an endorsement kind; "
            f"{did_you_mean(kind, ENDORSEMENT_KINDS)}write government or association",
        )
    return Endorsement(_text(r, found.get("by"), f"{where}.by"), kind)


def _read_homepage(r: NodeReader, node: Node | None, products: list[Pick]) -> Homepage | None:
    found = None if node is None else r.mapping(node, "homepage", ("weight",), ("pinned",))
    if found is None:
        return None
    weight = None if "weight" not in found else r.whole(found["weight"], "homepage.weight")
    pinned: list[str] = []
    skus = [p.sku for p in products if p.sku is not None]
    items = None if "pinned" not in found else r.sequence(found["pinned"], "homepage.pinned")
    for i, item in enumerate(items or ()):
        where = f"homepage.pinned[{i}]"
        sku = r.string(item, where)
        if sku is None:
            continue
        if sku in pinned:
            r.error(item, f'{where}: "{sku}" is pinned twice; list each SKU once')
        elif sku not in skus:
            choices = f"pin one of: {', '.join(skus[:10])}" if skus else "add the product first"
            r.error(item, f'{where}: "{sku}" is not the SKU of a product in this campaign; {did_you_mean(sku, skus)}{choices}')
        pinned.append(sku)
    return Homepage(weight, tuple(pinned))


def _read_charity(r: NodeReader, node: Node | None, kind: str | None, root: Node, zone: tzinfo) -> Charity | None:
    if node is None:
        if kind == "charity_sale":
            r.error(
                root, 'missing required key "charity" (a charity_sale needs charity: rate, goal, beneficiary and partner); add it'
            )
        return None
    if kind and kind != "charity_sale":
        r.error(
            r.keys["charity"],
            f"charity: only a charity_sale has a charity block (this campaign is {kind}); remove it or write kind: charity_sale",
        )
    found = r.mapping(
        node,
        "charity",
        ("rate", "goal", "beneficiary", "partner"),
        ("beneficiaries", "points_per_yuan", "return_days", "disbursements"),
    )
    if found is None:
        return None
    opt = {k: None if k not in found else r.whole(found[k], f"charity.{k}") for k in ("beneficiaries", "points_per_yuan")}
    return Charity(
        rate_percent=None if "rate" not in found else r.percent(found["rate"], "charity.rate"),
        goal_fen=None if "goal" not in found else r.money_fen(found["goal"], "charity.goal"),
        beneficiary=_text(r, found.get("beneficiary"), "charity.beneficiary"),
        partner=_text(r, found.get("partner"), "charity.partner"),
        return_days=_return_days(r, found.get("return_days")),
        disbursements=_disbursements(r, found.get("disbursements"), zone),
        **opt,
    )


def _return_days(r: NodeReader, node: Node | None) -> int:
    """``charity.return_days``: whole days, 0 to :data:`MAX_RETURN_DAYS` (docs/donations.md, "Pending, then confirmed")."""
    if node is None:
        return DEFAULT_RETURN_DAYS
    days = r.whole(node, "charity.return_days", minimum=0, maximum=MAX_RETURN_DAYS)
    return DEFAULT_RETURN_DAYS if days is None else days


def _disbursements(r: NodeReader, node: Node | None, zone: tzinfo) -> tuple[Disbursement, ...]:
    """``charity.disbursements``: the payouts to the cause, each ``{at, amount, to, receipt}``."""
    if node is None:
        return ()
    payouts = []
    for i, item in enumerate(r.sequence(node, "charity.disbursements") or ()):
        where = f"charity.disbursements[{i}]"
        found = r.mapping(item, where, ("at", "amount", "to", "receipt"), ())
        if found is None:
            continue
        at = _time(r, found.get("at"), f"{where}.at", zone)
        amount = r.money_fen(found["amount"], f"{where}.amount") if "amount" in found else None
        to = _text(r, found.get("to"), f"{where}.to")
        receipt = _receipt(r, found.get("receipt"), f"{where}.receipt")
        if at is not None and amount is not None and to is not None and receipt is not None:
            payouts.append(Disbursement(at=at, amount_fen=amount, to=to, receipt=receipt))
    return tuple(payouts)


def _receipt(r: NodeReader, node: Node | None, where: str) -> str | None:
    """A payout's public receipt (the rule: :func:`chalicelib.domain.buy_links.pick_url_problem`)."""
    url = None if node is None else r.string(node, where)
    if url is None:
        return None
    problem = pick_url_problem(url, "payout receipts")
    if problem is not None:
        r.error(node, f"{where}: {show(url[:80] + ('...' if len(url) > 80 else ''))} {problem}")
        return None
    return url


def _read_tourism(r: NodeReader, node: Node | None, kind: str | None) -> list[Sight]:
    if node is None:
        return []
    if kind and kind != "regional_store":
        r.error(r.keys["tourism"], f"tourism: only a regional_store has tourism sights (this campaign is {kind}); remove it")
    sights = []
    for i, item in enumerate(r.sequence(node, "tourism") or ()):
        where = f"tourism[{i}]"
        found = r.mapping(item, where, ("name",), ("summary", "image"))
        if found is not None:
            sights.append(
                Sight(
                    _text(r, found.get("name"), f"{where}.name"),
                    _text(r, found.get("summary"), f"{where}.summary"),
                    _image(r, found.get("image"), f"{where}.image"),
                )
            )
    return sights


# ---------------------------------------------------------------- across files


def _diag(item: _Loaded, key: str, message: str, severity: str = "error", table: str = "keys") -> Diagnostic:
    line, col = getattr(item, table).get(key, (1, 1))
    return Diagnostic(item.path, line, col, severity, message)


def _check_static_images(items: list[_Loaded], static_dir: Path) -> list[Diagnostic]:
    """A ``/static/...`` image that is not a file of ``static_dir`` is a warning (``--strict``: an error)."""
    found: list[Diagnostic] = []
    for item in items:
        images = [(f"products[{j}].image", p.image) for j, p in enumerate(item.campaign.products)]
        images += [(f"tourism[{j}].image", s.image) for j, s in enumerate(item.campaign.tourism)]
        for where, url in images:
            if url and url.startswith("/static/") and not (static_dir / url[len("/static/") :]).is_file():
                found.append(
                    _diag(
                        item,
                        where,
                        f"{where}: {url} is not a file in static/; the page would show the "
                        "placeholder image: add the file or fix the name",
                        "warning",
                        "values",
                    )
                )
    return found


def _check_pins(items: list[_Loaded], slots: int) -> list[Diagnostic]:
    """At each start of a homepage campaign, the pins of the campaigns live then must fit ``slots``."""
    pinning = [i for i in items if i.campaign.homepage and i.campaign.homepage.pinned]
    found: list[Diagnostic] = []
    reported: set[frozenset[str]] = set()
    for instant in sorted({i.campaign.starts_at for i in pinning}):
        live = [i for i in pinning if i.campaign.window.live_at(instant)]
        counts = {i.campaign.id: len(i.campaign.homepage.pinned) for i in live}
        if sum(counts.values()) <= slots or frozenset(counts) in reported:
            continue
        reported.add(frozenset(counts))
        each = ", ".join(f"{cid} ({n})" for cid, n in sorted(counts.items()))
        starter = next(i.campaign for i in live if i.campaign.starts_at == instant)
        shown = instant.astimezone(starter.zone).isoformat()  # in the zone of the campaign starting then
        for item in live:
            found.append(
                _diag(
                    item,
                    "homepage.pinned",
                    f"homepage.pinned: at {shown} the live campaigns "
                    f"{each} pin {sum(counts.values())} SKUs, more than the "
                    f"{slots} homepage slots; pin fewer or move a campaign",
                )
            )
    return found


def _check_prices(items: list[_Loaded]) -> list[Diagnostic]:
    """A warning where one SKU has two prices in two campaigns that overlap."""
    found = []
    for n, later in enumerate(items):
        for earlier in items[:n]:
            a, b = earlier.campaign, later.campaign
            if not a.window.overlaps(b.window):
                continue
            prices = {p.sku: (j, p.price_fen) for j, p in enumerate(a.products)}
            for j, pick in enumerate(b.products):
                if pick.sku in prices and prices[pick.sku][1] != pick.price_fen:
                    other_j, other_fen = prices[pick.sku]
                    line = earlier.values.get(f"products[{other_j}].price", (1, 1))[0]
                    found.append(
                        _diag(
                            later,
                            f"products[{j}].price",
                            f'products[{j}].price: SKU "{pick.sku}" costs {fen_to_yuan_str(pick.price_fen)} '
                            f"here but {fen_to_yuan_str(other_fen)} in {earlier.path} (line {line}), "
                            "and the two campaigns overlap; use one price",
                            "warning",
                            "values",
                        )
                    )
    return found


__all__ = [
    "Diagnostic",
    "ValidationResult",
    "find_campaign",
    "load_campaign_file",
    "load_campaign_text",
    "validate_paths",
]
