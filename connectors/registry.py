"""The registry of connector kinds: the built-ins, plus plugins.

A third party adds a kind without forking by declaring an entry point in the
group `listening_path.connectors`, named after the kind, pointing at a
`Connector` subclass::

    [project.entry-points."listening_path.connectors"]
    zendesk_export = "acme_connectors.zendesk:ZendeskExportConnector"

A plugin that fails to load, is not a `Connector`, or reuses a built-in kind is
reported (`plugin_errors()`, and `PluginError` when its kind is asked for);
it never takes the built-ins down.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from functools import cache
from typing import Any, TypedDict

from connectors.base import Connector, ConnectorConfig
from connectors.call_notes import CallNotesConnector
from connectors.errors import PluginError, UnknownKindError
from connectors.ethnography import EthnographyConnector
from connectors.mastodon import MastodonConnector
from connectors.push import PushConnector
from connectors.rest import RestConnector
from connectors.rss import RssConnector
from connectors.social_export import SocialExportConnector
from connectors.sql import SqlConnector
from connectors.survey_file import SurveyFileConnector
from connectors.typeform import TypeformConnector
from connectors.zendesk import ZendeskConnector

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "listening_path.connectors"

ConnectorClass = type[Connector[Any]]

BUILTIN_KINDS: dict[str, ConnectorClass] = {
    SurveyFileConnector.kind: SurveyFileConnector,
    SocialExportConnector.kind: SocialExportConnector,
    CallNotesConnector.kind: CallNotesConnector,
    EthnographyConnector.kind: EthnographyConnector,
    MastodonConnector.kind: MastodonConnector,
    RssConnector.kind: RssConnector,
    TypeformConnector.kind: TypeformConnector,
    ZendeskConnector.kind: ZendeskConnector,
    RestConnector.kind: RestConnector,
    PushConnector.kind: PushConnector,
    SqlConnector.kind: SqlConnector,
}


class KindDescription(TypedDict):
    """What `listening-path connectors list` prints for one kind."""

    kind: str
    channel: str
    summary: str
    origin: str  # "builtin" or "plugin <distribution> (<module:attr>)"
    config_schema: dict[str, Any]


@cache
def _registry() -> tuple[dict[str, tuple[ConnectorClass, str]], dict[str, str]]:
    """(kind → (class, origin), kind → why its plugin is broken); discovered once."""
    kinds: dict[str, tuple[ConnectorClass, str]] = {
        kind: (cls, "builtin") for kind, cls in BUILTIN_KINDS.items()
    }
    broken: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        origin = f"plugin {dist.name} ({ep.value})" if dist is not None else f"plugin ({ep.value})"
        if ep.name in BUILTIN_KINDS:
            broken[ep.name] = f"{origin} reuses the built-in kind {ep.name!r}; rename it"
            continue
        try:
            loaded = ep.load()
        except Exception as exc:  # any import-time failure of a plugin is its own problem
            broken[ep.name] = f"{origin} failed to load: {type(exc).__name__}: {exc}"
            continue
        problem = _check_plugin(ep.name, loaded)
        if problem:
            broken[ep.name] = f"{origin} {problem}"
            continue
        kinds[ep.name] = (loaded, origin)
    for kind, reason in broken.items():
        logger.warning("connector kind %r unavailable: %s", kind, reason)
    return kinds, broken


def _check_plugin(name: str, obj: object) -> str | None:
    if not (inspect.isclass(obj) and issubclass(obj, Connector)):
        return f"is not a Connector subclass (got {obj!r})"
    if inspect.isabstract(obj):
        return "is abstract (it does not implement fetch)"
    if getattr(obj, "kind", None) != name:
        return f"declares kind {getattr(obj, 'kind', None)!r}, but its entry point is {name!r}"
    config_model = getattr(obj, "config_model", None)
    if not (inspect.isclass(config_model) and issubclass(config_model, ConnectorConfig)):
        return "has no config_model subclassing ConnectorConfig"
    if not isinstance(getattr(obj, "channel", None), str):
        return "declares no channel"
    return None


def reload_plugins() -> None:
    """Forget discovered plugins (tests, or after installing one in a live process)."""
    _registry.cache_clear()


def available_kinds() -> list[str]:
    """Every usable kind, sorted."""
    return sorted(_registry()[0])


def plugin_errors() -> dict[str, str]:
    """Kinds whose plugin is installed but unusable, with the reason."""
    return dict(_registry()[1])


def get_connector_class(kind: str) -> ConnectorClass:
    """The class registered under `kind`.

    Raises `PluginError` if that kind's plugin is broken, and `UnknownKindError`
    (listing the known kinds) if nothing is registered under it.
    """
    kinds, broken = _registry()
    if kind in kinds:
        return kinds[kind][0]
    if kind in broken:
        raise PluginError(f"connector kind {kind!r} is unavailable: {broken[kind]}")
    raise UnknownKindError(
        f"unknown connector kind {kind!r}; known kinds: {', '.join(sorted(kinds))}"
    )


def _summary(cls: type) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "")  # not getdoc: no inherited docstring
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def describe() -> list[KindDescription]:
    """For each usable kind (sorted): channel, docstring summary and config JSON schema."""
    out: list[KindDescription] = []
    for kind, (cls, origin) in sorted(_registry()[0].items()):
        out.append(
            KindDescription(
                kind=kind,
                channel=cls.channel,
                summary=_summary(cls),
                origin=origin,
                config_schema=cls.config_model.model_json_schema(),
            )
        )
    return out
