"""Connector secrets: named in the config, read at run time, held as `SecretStr`.

A sources file never holds a secret, only where to find it: an environment
variable (`token_env: MASTODON_TOKEN`) or a file (`token_file: secrets/mastodon`,
relative to the sources file; Docker and Kubernetes mount secrets as files). The
value is read when a run starts, so a missing variable fails that source's run
with a `ConfigError` naming the variable (and never the value), while the service
and the other sources go on. Values are `pydantic.SecretStr` everywhere they are
kept, so no repr, log line or error message shows them, and `Scrubber` cuts them
out of any text that came from elsewhere (a server's error body) before it is
shown.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.errors import ConfigError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SECRET_FILE_BYTES = 64 * 1024


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (letters, digits and _, "
            "not starting with a digit); name the variable that holds the secret, "
            "never the secret itself"
        )
    return value


def read_secret(
    *, env: str | None, file: str | None, base_dir: Path, what: str
) -> SecretStr | None:
    """The secret named by `env` (a variable) or `file` (a path, relative to
    `base_dir`); None when neither is set. Raises `ConfigError` (naming the variable
    or the configured path, never the value) when it is missing or empty."""
    if env is not None:
        value = os.environ.get(env)
        if value is None or not value.strip():
            raise ConfigError(
                f"{what}: environment variable {env} is not set (or empty); set it in the "
                "service's environment, or point token_file at a file holding the secret"
            )
        return SecretStr(value.strip())
    if file is not None:
        path = Path(file).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SECRET_FILE_BYTES + 1)
        except OSError as exc:
            raise ConfigError(
                f"{what}: cannot read the secret file `{file}`: {exc.strerror or 'unreadable'} "
                "(a relative path is read from the folder of the sources file)"
            ) from None
        if len(data) > MAX_SECRET_FILE_BYTES:
            raise ConfigError(f"{what}: the secret file `{file}` is larger than 64 KiB")
        value = data.decode("utf-8", errors="replace").strip()
        if not value:
            raise ConfigError(f"{what}: the secret file `{file}` is empty")
        return SecretStr(value)
    return None


class TokenConfig(BaseModel):
    """Mixin of a config with one secret token: `token_env` or `token_file`."""

    token_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API token (e.g. "
        "`MASTODON_TOKEN`); the token itself never goes in the sources file.",
    )
    token_file: str | None = Field(
        default=None,
        description="Or: a file holding the token (its whole content, trimmed); a "
        "relative path is read from the folder of the sources file.",
    )

    @field_validator("token_env")
    @classmethod
    def _token_env_name(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _one_token_source(self) -> Self:
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("set token_env or token_file, not both")
        return self

    def read_token(self, base_dir: Path, what: str) -> SecretStr | None:
        return read_secret(env=self.token_env, file=self.token_file, base_dir=base_dir, what=what)


class SecretValue(BaseModel):
    """A header value read from the environment or a file: `{env: NAME, prefix: "Bearer "}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(default=None, description="Environment variable holding the value.")
    file: str | None = Field(
        default=None, description="Or: a file holding it (relative to the sources file)."
    )
    prefix: str = Field(
        default="", description="Text put before the value, e.g. `Bearer ` or `Token `."
    )

    @field_validator("env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret value needs exactly one of env or file")
        return self

    def read(self, base_dir: Path, what: str) -> SecretStr:
        value = read_secret(env=self.env, file=self.file, base_dir=base_dir, what=what)
        assert value is not None  # exactly one of env/file is set
        return SecretStr(self.prefix + value.get_secret_value())


class Scrubber:
    """Cuts known secret values (and their Basic-auth and URL-encoded forms) out of text."""

    def __init__(self, secrets: Iterable[SecretStr] = ()) -> None:
        self._values: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: SecretStr) -> None:
        value = secret.get_secret_value()
        if len(value) < 4:  # too short to cut out without mangling ordinary text
            return
        forms = {value, base64.b64encode(value.encode()).decode()}
        for part in value.split():  # "Bearer abc": the token alone too
            if len(part) >= 8:
                forms.add(part)
        self._values.extend(sorted(forms, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        return text
