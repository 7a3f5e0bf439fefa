"""The studio's plan panel: what ``campaign plan --stage S`` would print, read-only.

The plan is made by the same code as the command: the stage's services from the
same composition root (the ``campaign`` command's own builder, which on ``local``
also reads the running stack's clock offset), then
:meth:`chalicelib.releases.publishing.Publisher.plan`, which only reads. Nothing here
writes to a stage; publishing stays ``campaign publish``.

A stage that cannot be reached (the ``local`` stack not running, no credentials for
``dev``) is an answer, not a failure: the panel says so with the reason, and the rest
of the studio works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from campaign_tools.authoring.campaign_yaml import ValidationResult
from campaign_tools.stages import CliError
from chalicelib.errors import PlatformError
from chalicelib.releases.publishing import Plan
from chalicelib.settings import SettingsError
from chalicelib.store.table import RequestRefused

if TYPE_CHECKING:
    from chalicelib.wiring import Services

# stage name -> its services, as `campaign plan --stage S` builds them; raises on a stage that cannot be built
ServicesFactory = Callable[[str], "Services"]


@dataclass(frozen=True)
class PlanPanel:
    """What the panel shows: the ``stage``, and either the ``plan`` (with ``table`` named) or why not (``problem``)."""

    stage: str
    plan: Plan | None = None
    table: str = ""
    problem: str = ""
    hint: str = ""


def plan_panel(stage: str, result: ValidationResult, services_of: ServicesFactory) -> PlanPanel:
    """The plan of ``result``'s campaigns against ``stage``.

    Like ``campaign plan``, a set of files with any error is not planned (a publish would
    refuse it). Store and settings failures become the panel's ``problem``.
    """
    if not result.ok:
        return PlanPanel(
            stage,
            problem=f"{len(result.errors)} error(s) in the campaign files; `campaign plan` plans nothing until they are fixed",
            hint="the timeline lists each error at its PATH:LINE:COL",
        )
    where = ""
    try:
        svc = services_of(stage)
        where = f" (table {svc.settings.table_name}" + (
            f" at {svc.settings.dynamodb_endpoint})" if svc.settings.dynamodb_endpoint else ")"
        )
        plan = svc.publisher().plan(result.campaigns)
        table = svc.settings.table_name
    except (CliError, PlatformError, SettingsError, RequestRefused, OSError) as exc:
        hint = "is the local stack running? start it with `make run` (or `campaign serve`)" if stage == "local" else ""
        return PlanPanel(stage, problem=f"stage {stage} is not reachable{where}: {exc}", hint=hint)
    return PlanPanel(stage, plan=plan, table=table)
