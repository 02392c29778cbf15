"""The `batch_config` setting: where and how BATCH output writes its files (output/batches.py
writes them), checked with every problem reported."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from tap_intacct.values.datetimes import Invalid

DEFAULT_BATCH_SIZE = 100_000
MAX_BATCH_SIZE = 10_000_000
COMPRESSIONS = ("gzip", "none")


@dataclass(frozen=True)
class BatchConfig:
    compression: str
    root: str      # file:///absolute/folder or s3://bucket[/prefix]
    prefix: str
    batch_size: int

    @property
    def encoding(self) -> dict[str, str]:
        return {"format": "jsonl", "compression": self.compression}

    @property
    def scheme(self) -> str:
        return urllib.parse.urlsplit(self.root).scheme


def parse_batch_config(value: object, label: str) -> BatchConfig | None:
    """The BatchConfig of the `batch_config` setting (None when absent), or Invalid with every
    problem, each starting with `label` (such as "config: 'batch_config'")."""
    problems: list[str] = []
    batch = _batch_config(value, problems, label)
    if problems:
        raise Invalid(*problems)
    return batch


def _batch_config(value: object, problems: list[str], name: str) -> BatchConfig | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):  # an orchestrator may pass an object setting as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            problems.append(f"{name} must be an object (or its JSON text)")
            return None
    if not isinstance(value, dict):
        problems.append(f"{name} must be an object with 'encoding', 'storage' and 'batch_size'")
        return None
    found = len(problems)
    unknown = sorted(set(value) - {"encoding", "storage", "batch_size"})
    if unknown:
        problems.append(f"{name} has unknown key(s) {', '.join(unknown)}")
    encoding = _object(value, "encoding", name, problems)
    storage = _object(value, "storage", name, problems)
    compression = _encoding(encoding, name, problems)
    root = _root(storage.get("root"), name, problems)
    prefix = storage.get("prefix", "")
    if not isinstance(prefix, str) or "/" in prefix or "\\" in prefix:
        problems.append(f"{name}: storage.prefix must be a file name prefix without slashes, "
                        f"got {prefix!r}")
    batch_size = _batch_size(value.get("batch_size"), name, problems)
    if len(problems) > found:
        return None
    return BatchConfig(compression, cast(str, root), prefix, batch_size)  # None: a problem above


def _object(value: Mapping[str, Any], key: str, name: str, problems: list[str]
            ) -> dict[str, Any]:
    part = value.get(key)
    if not isinstance(part, dict):
        problems.append(f"{name}: '{key}' must be an object")
        return {}
    return part


def _encoding(encoding: Mapping[str, Any], name: str, problems: list[str]) -> str:
    if encoding.get("format", "jsonl") != "jsonl":
        problems.append(f"{name}: encoding.format must be \"jsonl\" (the only format this tap "
                        f"writes), got {encoding.get('format')!r}")
    compression = encoding.get("compression") or "none"
    if compression not in COMPRESSIONS:
        problems.append(f"{name}: encoding.compression must be \"gzip\" or \"none\", got "
                        f"{compression!r}")
    return compression


def _root(root: object, name: str, problems: list[str]) -> str | None:
    if not isinstance(root, str) or not root:
        problems.append(f"{name}: storage.root is required, e.g. \"file:///var/tmp/batches\" or "
                        "\"s3://bucket/prefix\"")
        return None
    parts = urllib.parse.urlsplit(root)
    if parts.scheme == "file" and not parts.netloc and parts.path.startswith("/"):
        return root
    if parts.scheme == "s3" and re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parts.netloc):
        return root
    # not repeated: a URL pasted here may carry a signature or a password
    got = f"{parts.scheme}://" if parts.scheme else "no scheme"
    problems.append(f"{name}: storage.root must be file:///absolute/folder or "
                    f"s3://bucket[/prefix], got {got} (the value is not repeated here)")
    return None


def _batch_size(size: object, name: str, problems: list[str]) -> int:
    if size in (None, ""):
        return DEFAULT_BATCH_SIZE
    if isinstance(size, str) and re.fullmatch(r"[0-9]{1,9}", size.strip()):
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
        problems.append(f"{name}: batch_size must be a whole number from 1 to {MAX_BATCH_SIZE:,}"
                        f", got {size!r}")
        return DEFAULT_BATCH_SIZE
    return size
