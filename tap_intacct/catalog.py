"""The catalog: building stream entries (discovery) and reading selection back (sync)."""

from dataclasses import dataclass

from tap_intacct import columns
from tap_intacct.errors import ConfigError


def stream_entry(table, properties):
    """A catalog stream for a table whose data columns have the given schemas (in order)."""
    all_properties = dict(properties)
    all_properties.update(columns.SDC_SCHEMAS)
    if columns.CHANGE_TYPE in properties:
        all_properties[columns.DELETED_AT] = columns.DELETED_AT_SCHEMA
    key_properties = [columns.KEY_COLUMN] if columns.KEY_COLUMN in properties else []
    metadata = [{"breadcrumb": [], "metadata": {
        "table-key-properties": key_properties,
        "forced-replication-method": "INCREMENTAL",
    }}]
    for name in all_properties:
        automatic = name in key_properties or name in columns.TAP_COLUMNS
        field = {"inclusion": "automatic"} if automatic else {
            "inclusion": "available", "selected-by-default": True}
        metadata.append({"breadcrumb": ["properties", name], "metadata": field})
    return {"stream": table, "tap_stream_id": table,
            "schema": {"type": "object", "properties": all_properties},
            "metadata": metadata}


@dataclass
class SelectedStream:
    """A stream chosen for sync, with the columns it emits (in schema order)."""

    name: str
    properties: dict  # emitted column -> JSON schema
    key_properties: list
    catalog_columns: frozenset  # every column the catalog knows, selected or not

    @property
    def schema(self):
        return {"type": "object", "properties": self.properties}


def selected_streams(catalog, source="catalog"):
    """The selected streams, in catalog order, or ConfigError describing what is malformed."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        raise ConfigError(f"{source}: must be a JSON object with a 'streams' list "
                          "(the output of --discover)")
    chosen = []
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
        if not root.get("selected"):
            continue
        properties = {}
        for column, column_schema in schema["properties"].items():
            field = metadata.get(("properties", column), {})
            if _column_emitted(field):
                properties[column] = column_schema
        key_properties = root.get("table-key-properties") or []
        if isinstance(key_properties, str):  # singer-io's tap-intacct wrote a bare string
            key_properties = [key_properties]
        for key in key_properties:
            if key in schema["properties"]:
                properties.setdefault(key, schema["properties"][key])
        chosen.append(SelectedStream(name, properties, list(key_properties),
                                     frozenset(schema["properties"])))
    return chosen


def _column_emitted(field):
    inclusion = field.get("inclusion")
    if inclusion == "automatic":
        return True
    if inclusion == "unsupported":
        return False
    selected = field.get("selected")
    if selected is None:
        return field.get("selected-by-default", True)
    return bool(selected)


def _metadata_by_breadcrumb(entries, name, source):
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: stream '{name}' metadata must be a list")
    by_breadcrumb = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("metadata"), dict):
            raise ConfigError(f"{source}: stream '{name}' has a malformed metadata entry")
        by_breadcrumb[tuple(entry.get("breadcrumb") or ())] = entry["metadata"]
    return by_breadcrumb
