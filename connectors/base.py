"""Where the connector contract and the file machinery were before they were split;
kept so `from connectors.base import ...` goes on working.

    connectors.contract  RawItem, RejectedRecord, Batch, ConnectorConfig, Connector
    connectors.files     FileConnector and its config, SourceFile, decode
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
    MISDECODED_NUL_SHARE,
    FileConfigT,
    FileConnector,
    FileConnectorConfig,
    FoundFile,
    SourceFile,
    decode,
)

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
