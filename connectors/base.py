"""Where the connector contract and the file machinery were before they were split;
kept so `from connectors.base import ...` goes on working.

    connectors.contract  RawItem, RejectedRecord, Batch, ConnectorConfig, Connector
    connectors.files     FileConnector and its config, SourceFile
    connectors.filetext  decode, MISDECODED_NUL_SHARE
"""

from __future__ import annotations

from connectors.contract import (
    AttributeValue,
    Batch,
    ConfigT,
    Connector,
    ConnectorConfig,
    Cursor,
    RawItem,
    RejectedRecord,
)
from connectors.files import (
    FileConfigT,
    FileConnector,
    FileConnectorConfig,
    FoundFile,
    SourceFile,
)
from connectors.filetext import MISDECODED_NUL_SHARE, decode

__all__ = [
    "MISDECODED_NUL_SHARE",
    "AttributeValue",
    "Batch",
    "ConfigT",
    "Connector",
    "ConnectorConfig",
    "Cursor",
    "FileConfigT",
    "FileConnector",
    "FileConnectorConfig",
    "FoundFile",
    "RawItem",
    "RejectedRecord",
    "SourceFile",
    "decode",
]
