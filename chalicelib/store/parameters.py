"""SSM Parameter Store: the stage's SecureString parameters (the webhook signing secret).

The one module that calls boto3 for SSM, as :mod:`chalicelib.store.table` is for
DynamoDB: a parameter that is missing or that the function may not read is
``None`` (logged: every signed request then gets 401), anything else that fails
is :class:`~chalicelib.errors.StoreUnavailable` (503). The client is made on first
use only, from a zero-argument factory (tests hand in moto's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import StoreUnavailable

log = logging.getLogger(__name__)

# Answers that name the parameter as unusable, not the service as down.
_UNUSABLE = ("ParameterNotFound", "AccessDeniedException", "ParameterVersionNotFound")


def default_ssm_client(region: str) -> Any:
    """A boto3 SSM client for ``region``: 3 attempts, 2 s to connect, 5 s to read."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client("ssm", region_name=region, config=config)


class SecureParameters:
    """Reads SecureString parameters, decrypted; ``client_factory()`` makes the SSM client on first use."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._factory = client_factory
        self._client: Any = None

    def get(self, name: str) -> str | None:
        """The value of ``name`` (whitespace stripped), ``None`` when it is missing or may not be read.

        Raises ``StoreUnavailable`` when SSM cannot answer (unreachable, throttled, 5xx).
        """
        if self._client is None:
            self._client = self._factory()
        try:
            response = self._client.get_parameter(Name=name, WithDecryption=True)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _UNUSABLE:
                log.error("parameter %s unusable: %s", name, code)
                return None
            raise StoreUnavailable(f"SSM Parameter Store failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"SSM Parameter Store is unavailable: {exc.__class__.__name__}") from exc
        return str(response["Parameter"]["Value"]).strip()
