"""Settings: the only module that reads ``os.environ``.

``Settings.from_env()`` is called lazily by :mod:`chalicelib.wiring` (never at
import time). Tests build ``Settings(...)`` directly.

Environment variables (docs/runbook.md names the deployed values):

==========================  ===========================================  =========
variable                    meaning                                      default
==========================  ===========================================  =========
``STAGE``                   ``local`` | ``dev`` | ``prod``               ``local``
``TABLE_NAME``              the DynamoDB table                           ``campaign-platform-local``
``HOMEPAGE_SLOTS``          slots on the homepage (integer >= 1)         8
``ROTATION_MINUTES``        minutes between rotations (integer >= 1)     15
``AWS_ENDPOINT_URL_DYNAMODB`` the embedded DynamoDB, locally             (boto3 default)
``ROTATION_HISTORY_DAYS``   TTL of rotation history items                30
``SIGNING_SECRET_PARAMETER`` SSM SecureString name of the webhook signing (none: not deployed)
                            secret on deployed stages (e.g.
                            ``/campaign-platform/dev/signing-secret``)
``SYSTEM_SIGNING_SECRET``   the webhook signing secret itself,           (none)
                            ``whsec_<base64>`` (local runs; wins over
                            the parameter when both are set)
``LOG_LEVEL``               deployed stages' log level: ``DEBUG`` adds   ``INFO``
                            one line per healthy request
``METRICS_FLUSH_S``         deployed stages: seconds between flushes of  10
                            the EMF metrics (whole number 0-60; 0:
                            every request; chalicelib.observability
                            says what the interval costs)
``FUNCTION_TIMEOUT_S``      the local stage's stand-in for the API       10
                            function's ``lambda_timeout`` (whole s): a
                            request's deadline never passes it
                            (chalicelib.deadline)
``PRODUCT_URL_TEMPLATE``    the mall's product page, ``{sku}`` where the (none: picks
                            SKU goes, e.g.                               link only to
                            ``https://mall.example/item/{sku}``; https,  their own
                            or http on localhost / 127.0.0.1 (local)     ``url``)
``SITE_URL``                the site's origin for absolute links (share  (none: links
                            cards, canonical, sitemap), e.g.             from the
                            ``https://fupin.example``; https, or http    request's
                            on localhost / 127.0.0.1                     Host)
==========================  ===========================================  =========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TABLE = "campaign-platform-local"

# The longest metrics flush interval, in seconds: a minute, CloudWatch's standard metric period.
MAX_METRICS_FLUSH_S = 60


class SettingsError(ValueError):
    """A setting has a value that cannot be used (raised by ``from_env``)."""


def _log_level(raw: str) -> str:
    """``LOG_LEVEL``: one of DEBUG, INFO, WARNING, ERROR (any case). Raises ``SettingsError``."""
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"LOG_LEVEL={raw!r}: use DEBUG, INFO, WARNING or ERROR")
    return level


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # where http:// is allowed (a local run)


def _http_url(name: str, raw: str) -> str:
    """``raw`` when it is an https URL with a host, or http on a local host. Raises ``SettingsError``."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(raw)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: not a valid URL") from None
    local = parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise SettingsError(f"{name}={raw!r}: write an https:// address (http:// only on localhost or 127.0.0.1)")
    if "@" in parts.netloc:
        raise SettingsError(f"{name}={raw!r}: no user name or password in it")
    return raw


def product_url_template(raw: str | None) -> str | None:
    """``PRODUCT_URL_TEMPLATE``: ``None`` when unset; else an https (or local http) URL with ``{sku}``
    in it. Raises ``SettingsError`` with the reason."""
    if raw is None or raw == "":
        return None
    if "{sku}" not in raw:
        raise SettingsError(
            f"PRODUCT_URL_TEMPLATE={raw!r}: put {{sku}} where the SKU goes, e.g. https://mall.example/item/{{sku}}"
        )
    return _http_url("PRODUCT_URL_TEMPLATE", raw)


def site_url(raw: str | None) -> str | None:
    """``SITE_URL``: ``None`` when unset; else an https (or local http) origin, without a trailing ``/``.
    Raises ``SettingsError`` with the reason."""
    if raw is None or raw == "":
        return None
    return _http_url("SITE_URL", raw).rstrip("/")


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    """``env[name]`` as a whole number in ``[low, high]`` (no upper bound when ``high`` is None);
    ``default`` when unset or empty. Raises ``SettingsError`` with the range."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    wanted = f"a whole number >= {low}" if high is None else f"a whole number from {low} to {high}"
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected {wanted}") from None
    if value < low or (high is not None and value > high):
        raise SettingsError(f"{name}={raw!r}: expected {wanted}")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(env, name, default, 1)


@dataclass(frozen=True)
class Settings:
    """A stage's settings (the variables of the module's table), read once by :meth:`from_env`."""

    stage: str = "local"
    table_name: str = DEFAULT_TABLE
    homepage_slots: int = 8
    rotation_minutes: int = 15
    rotation_history_days: int = 30
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    # The SSM Parameter Store name (not the value) of the webhook signing secret;
    # set on deployed stages by .chalice/config.json, None locally.
    signing_secret_parameter: str | None = None
    # The webhook signing secret itself (``whsec_...``), locally; never printed by repr().
    system_signing_secret: str | None = field(default=None, repr=False)
    # The deployed stages' log level (``LOG_LEVEL``); ``DEBUG`` adds one line per request.
    # The local stage logs at WARNING whatever this says (chalicelib.observability).
    log_level: str = "INFO"
    # Seconds between a deployed container's EMF metric flushes (``METRICS_FLUSH_S``, 0-60; 0: every
    # request); what the interval costs is in chalicelib.observability.
    metrics_flush_s: int = 10
    # The local stage's stand-in for the deployed function's time limit, in seconds (chalicelib.deadline).
    function_timeout_s: int = 10
    # The mall's product page with ``{sku}`` (``PRODUCT_URL_TEMPLATE``); None: no buy link
    # but a pick's own ``url`` (chalicelib.domain.buy_links).
    product_url_template: str | None = None
    # The site's origin for absolute URLs (``SITE_URL``); None: the request's Host (chalicelib.web.view).
    site_url: str | None = None

    def __post_init__(self) -> None:
        """Refuse, with the reason, a product URL template or site URL that cannot be used (``SettingsError``)."""
        product_url_template(self.product_url_template)
        site_url(self.site_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default ``os.environ``).

        Raises ``SettingsError`` when a number is not a whole number in its range.
        """
        env = os.environ if env is None else env
        return cls(
            stage=env.get("STAGE", "local") or "local",
            table_name=env.get("TABLE_NAME", DEFAULT_TABLE) or DEFAULT_TABLE,
            homepage_slots=_positive_int(env, "HOMEPAGE_SLOTS", 8),
            rotation_minutes=_positive_int(env, "ROTATION_MINUTES", 15),
            rotation_history_days=_positive_int(env, "ROTATION_HISTORY_DAYS", 30),
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            signing_secret_parameter=env.get("SIGNING_SECRET_PARAMETER") or None,
            system_signing_secret=env.get("SYSTEM_SIGNING_SECRET") or None,
            log_level=_log_level(env.get("LOG_LEVEL") or "INFO"),
            metrics_flush_s=_whole_number(env, "METRICS_FLUSH_S", 10, 0, MAX_METRICS_FLUSH_S),
            function_timeout_s=_positive_int(env, "FUNCTION_TIMEOUT_S", 10),
            product_url_template=product_url_template(env.get("PRODUCT_URL_TEMPLATE")),
            site_url=site_url(env.get("SITE_URL")),
        )
