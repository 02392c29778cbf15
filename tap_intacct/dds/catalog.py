"""The catalog: building stream entries (discovery) and reading selection back (sync)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict

from tap_intacct.dds import columns
from tap_intacct.errors import ConfigError

JsonSchema: TypeAlias = dict[str, Any]
# a column's schema in a catalog: a JSON schema, or `true` (any value, read as text)
ColumnSchema: TypeAlias = JsonSchema | bool



# The catalog as discovery writes it (stream_entry); a catalog read back is checked as it is used.
class MetadataEntry(TypedDict):
    breadcrumb: list[str]
    metadata: dict[str, Any]


class CatalogEntry(TypedDict):
    stream: str
    tap_stream_id: str
    schema: JsonSchema
    metadata: list[MetadataEntry]


class Catalog(TypedDict):
    streams: list[CatalogEntry]


def stream_entry(table: str, properties: Mapping[str, JsonSchema]) -> CatalogEntry:
    """A catalog stream for a table whose data columns have the given schemas (in order)."""
    all_properties = dict(properties)
    all_properties.update(columns.SDC_SCHEMAS)
    if columns.CHANGE_TYPE in properties:
        all_properties[columns.DELETED_AT] = columns.DELETED_AT_SCHEMA
    key_properties = [columns.KEY_COLUMN] if columns.KEY_COLUMN in properties else []
    metadata: list[MetadataEntry] = [{"breadcrumb": [], "metadata": {
        "table-key-properties": key_properties,
        "forced-replication-method": "INCREMENTAL",
    }}]
    for name in all_properties:
        automatic = name in key_properties or name in columns.TAP_COLUMNS
        field: dict[str, Any] = {"inclusion": "automatic"} if automatic else {
            "inclusion": "available", "selected-by-default": True}
        metadata.append({"breadcrumb": ["properties", name], "metadata": field})
    return {"stream": table, "tap_stream_id": table,
            "schema": {"type": "object", "properties": all_properties},
            "metadata": metadata}


@dataclass
class SelectedStream:
    """A stream chosen for sync, with the columns it emits (in schema order)."""

    name: str
    properties: dict[str, ColumnSchema]  # emitted column -> JSON schema
    key_properties: list[str]
    catalog_columns: frozenset[str]  # every column the catalog knows, selected or not

    @property
    def schema(self) -> JsonSchema:
        return {"type": "object", "properties": self.properties}


def selected_streams(catalog: object, source: str = "catalog") -> list[SelectedStream]:
    """The selected streams, in catalog order, or ConfigError describing what is malformed."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise ConfigError(f"{source}: must be a JSON object with a 'streams' list "
                          "(the output of --discover)")
    chosen: list[SelectedStream] = []
    for position, stream in enumerate(catalog["streams"], start=1):
        if not isinstance(stream, dict):
            raise ConfigError(f"{source}: streams[{position - 1}] must be an object")
        name = stream.get("tap_stream_id") or stream.get("stream")
        schema = stream.get("schema")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{source}: streams[{position - 1}] has no 'tap_stream_id'")
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            raise ConfigError(f"{source}: stream '{name}' has no 'schema' with 'properties'")
        metadata = _metadata_by_breadcrumb(stream.get("metadata", []), name, source)
        root = metadata.get((), {})
        if not _selected(root, schema, f"{source}: stream '{name}'", default=False):
            continue
        if any(earlier.name == name for earlier in chosen):
            raise ConfigError(f"{source}: stream '{name}' is selected twice")
        properties: dict[str, ColumnSchema] = {}
        for column, column_schema in schema["properties"].items():
            _check_column_schema(column_schema, name, column, source)
            field = metadata.get(("properties", column), {})
            if _column_emitted(field, column_schema, f"{source}: stream '{name}' property "
                                                     f"'{column}'"):
                properties[column] = column_schema
        key_properties = _key_properties(root, name, source)
        for key in key_properties:
            if key not in schema["properties"]:
                raise ConfigError(f"{source}: stream '{name}' table-key-properties names "
                                  f"'{key}', which is not a column of its schema; a key must be "
                                  "a column the files have (run discovery again, or fix the "
                                  "key)")
            properties.setdefault(key, schema["properties"][key])
        chosen.append(SelectedStream(name, properties, list(key_properties),
                                     frozenset(schema["properties"])))
    return chosen


def _key_properties(root: Mapping[str, Any], name: str, source: str) -> list[str]:
    key_properties = root.get("table-key-properties") or []
    if isinstance(key_properties, str):  # singer-io's tap-intacct wrote a bare string
        key_properties = [key_properties]
    if not isinstance(key_properties, list) or not all(
            isinstance(key, str) for key in key_properties):
        raise ConfigError(f"{source}: stream '{name}' table-key-properties must be a list of "
                          f"column names, got {key_properties!r}")
    return key_properties


def _check_column_schema(column_schema: object, stream: str, column: str, source: str) -> None:
    """`true` (any value) is read as text; `false` and non-schemas cannot hold a cell."""
    if column_schema is True or isinstance(column_schema, dict):
        return
    if column_schema is False:
        raise ConfigError(f"{source}: stream '{stream}' property '{column}' has the schema "
                          "false, which allows no value; remove the property or give it a type")
    raise ConfigError(f"{source}: stream '{stream}' property '{column}' must be a JSON schema "
                      f"(an object), got {type(column_schema).__name__}")


def _column_emitted(field: Mapping[str, Any], column_schema: ColumnSchema, where: str) -> bool:
    inclusion = field.get("inclusion")
    if inclusion == "automatic":
        return True
    if inclusion == "unsupported":
        return False
    default = field.get("selected-by-default", True)
    return _selected(field, column_schema, where, default=default is not False)


def _selected(metadata: Mapping[str, Any], schema: ColumnSchema, where: str, *,
              default: bool) -> bool:
    """Whether a stream or column is selected: its metadata's `selected`, else the legacy
    `selected` in its schema (which singer-python's CatalogEntry.is_selected still honours),
    else `default`. Each must be true or false, and the two may not disagree (README
    "Selecting streams and columns")."""
    chosen = metadata.get("selected")
    legacy = schema.get("selected") if isinstance(schema, dict) else None
    for field, value in (("metadata 'selected'", chosen), ("schema 'selected'", legacy)):
        if value is not None and not isinstance(value, bool):
            quotes = "; write true or false without quotes" if isinstance(value, str) else ""
            raise ConfigError(f"{where}: {field} must be true or false, got "
                              f"{json.dumps(value)}{quotes}")
    if chosen is not None and legacy is not None and chosen != legacy:
        raise ConfigError(f"{where}: metadata 'selected' is {json.dumps(chosen)} but the "
                          f"legacy schema 'selected' is {json.dumps(legacy)}; remove one")
    if chosen is not None:
        return chosen
    return default if legacy is None else legacy


def _metadata_by_breadcrumb(entries: object, name: str, source: str
                            ) -> dict[tuple[str, ...], dict[str, Any]]:
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: stream '{name}' metadata must be a list")
    by_breadcrumb: dict[tuple[str, ...], dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("metadata"), dict):
            raise ConfigError(f"{source}: stream '{name}' has a malformed metadata entry")
        breadcrumb = entry.get("breadcrumb") or []
        if not isinstance(breadcrumb, list) or not all(isinstance(p, str) for p in breadcrumb):
            raise ConfigError(f"{source}: stream '{name}' has a metadata breadcrumb that is not "
                              f"a list of names: {breadcrumb!r}")
        by_breadcrumb[tuple(breadcrumb)] = entry["metadata"]
    return by_breadcrumb
