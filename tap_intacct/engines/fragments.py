"""The fast engine's values: a column of cell texts (an Arrow string array) to the JSON fragment
of each cell, exactly as the row path's encoder for that column writes it.

A vectorised check accepts the cells whose fragment is a simple rearrangement of their text,
with the row path's own pattern constants (conversion.py). Every other cell goes through the row
path's converter for its column, once per distinct text, so the lossless contract (README
"Conversion contract") holds by construction (a Misfit in a column without string fallback
propagates, and the engine hands the chunk to the row path, which reports it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tap_intacct.values.conversion import CONVERTER_KINDS, WRITTEN_AS_JSON, Converter
from tap_intacct.values.encoding import Fragment, encode_string, encode_value

if TYPE_CHECKING:
    import re

    import numpy.typing as npt

    from tap_intacct.engines.records import DeletedAt

# (pyarrow ships no type hints: its arrays are Any to the checker.)
# A column of cells (an Arrow string array) -> the JSON fragment of each cell.
ColumnFragments: TypeAlias = Callable[[pa.StringArray], pa.StringArray]


def _whole(pattern: re.Pattern[str]) -> str:
    return "^(?:" + pattern.pattern + ")$"


# The bytes encode_string writes as they are: printable ASCII but '"' and '\' (it escapes
# control characters, DEL 0x7f and everything past ASCII).
_ESCAPED = np.ones(256, bool)
_ESCAPED[0x20:0x7F] = False
_ESCAPED[[0x22, 0x5C]] = True
_DIGIT = np.zeros(256, bool)
_DIGIT[0x30:0x3A] = True
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int32)


def column_fragments(converter: Converter,
                     encoder: Fragment) -> tuple[bool, ColumnFragments]:
    """(quoted, the function turning a column of cells into their fragments) for a column whose
    row-path converter and encoder are these. `quoted`: the fragments are string contents, the
    quotes around them are left to the caller (they are the same for every cell)."""
    def slow(text: str) -> str:
        return encode_value(converter(text))
    if encoder is encode_string:
        return True, lambda column: _completed(column, column, plain_cells(column),
                                               lambda text: encode_string(text)[1:-1])
    return False, _unquoted(converter, slow)


def _unquoted(converter: Converter, slow: Fragment) -> ColumnFragments:
    kind = CONVERTER_KINDS.get(converter)
    if kind in WRITTEN_AS_JSON:
        return _as_written(_whole(WRITTEN_AS_JSON[kind]), slow)
    if kind == "date-time":
        return lambda column: _date_time(column, slow)
    return lambda column: _completed(column, pa.repeat(pa.scalar("", pa.string()), len(column)),
                                     np.zeros(len(column), bool), slow)


def _completed(column: pa.StringArray, fast: pa.StringArray, accepted: npt.NDArray[np.bool_],
               slow: Fragment) -> pa.StringArray:
    """`fast` where `accepted` (numpy bool), the row path's fragment everywhere else."""
    if accepted.all():
        return fast
    rejected = pa.array(~accepted)
    distinct = column.filter(rejected).dictionary_encode()
    encoded = pa.array([slow(text) for text in distinct.dictionary.to_pylist()], pa.string())
    return pc.replace_with_mask(fast, rejected, encoded.take(distinct.indices))


def _accepted(mask: pa.BooleanArray) -> npt.NDArray[np.bool_]:
    return mask.to_numpy(zero_copy_only=False)


def _offsets_and_bytes(
        column: pa.StringArray) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    """(the cells' offsets, from 0; the bytes of the cells) of a string array, as numpy."""
    offsets = np.frombuffer(column.buffers()[1], np.int32)[column.offset:
                                                          column.offset + len(column) + 1]
    data = column.buffers()[2]
    data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0]:offsets[-1]]


def plain_cells(column: pa.StringArray) -> npt.NDArray[np.bool_]:
    """numpy bool: the cells encode_string writes as they are, between quotes."""
    offsets, data = _offsets_and_bytes(column)
    escaped = np.zeros(data.size + 1, np.int64)
    np.cumsum(_ESCAPED[data], out=escaped[1:])
    return escaped[offsets[1:]] == escaped[offsets[:-1]]


def _empty(column: pa.StringArray) -> pa.BooleanArray:
    return pc.equal(pc.binary_length(column), 0)


def _as_written(pattern: str, slow: Fragment) -> ColumnFragments:
    """Cells matching `pattern` are their own JSON; empty cells are null."""
    def fragments(column: pa.StringArray) -> pa.StringArray:
        empty = _empty(column)
        accepted = pc.or_(empty, pc.match_substring_regex(column, pattern))
        fast = pc.if_else(empty, "null", column)
        return _completed(column, fast, _accepted(accepted), slow)
    return fragments


_DATE_TIME_TAIL = np.frombuffer(b'.000000Z"', np.uint8)


def _date_time(column: pa.StringArray, slow: Fragment) -> pa.StringArray:
    """The DDS shape (DDS_DATE_TIME) of a real date and time, rearranged as the row path does:
    "YYYY-MM-DDTHH:MM:SS.000000Z", built on the bytes (29 per cell); empty cells are null."""
    accepted = dds_date_times(column)
    offsets, data = _offsets_and_bytes(column)
    cells = np.zeros((len(column), 29), np.uint8)
    cells[:, 0] = 0x22
    if accepted.any():
        starts = offsets[:-1][accepted]
        cells[accepted, 1:20] = data[starts[:, None] + np.arange(19)]
        cells[:, 11] = 0x54  # "T"
        cells[:, 20:] = _DATE_TIME_TAIL
    fast = pa.StringArray.from_buffers(
        len(column), pa.py_buffer(np.arange(0, 29 * len(column) + 1, 29, dtype=np.int32)),
        pa.py_buffer(cells))
    empty = np.diff(offsets) == 0
    if empty.any():
        fast = pc.replace_with_mask(fast, pa.array(empty),
                                    pa.repeat(pa.scalar("null", pa.string()), int(empty.sum())))
    return _completed(column, fast, accepted | empty, slow)


_DIGITS_AT = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)


def dds_date_times(column: pa.StringArray) -> npt.NDArray[np.bool_]:
    """numpy bool: the cells of the DDS_DATE_TIME shape (conversion.py) holding a real date
    (year 1 to 9999) and time (00:00:00 to 23:59:59), as datetime.fromisoformat requires.
    Checked on the bytes: Arrow's strptime would accept 2024-02-30 (1 March)."""
    offsets, data = _offsets_and_bytes(column)
    lengths = np.diff(offsets)
    shaped = (lengths == 19) | (lengths == 20)
    starts = offsets[:-1][shaped]
    if not starts.size:
        return shaped
    padded = np.concatenate((data, np.zeros(20, np.uint8)))  # a 19-byte last cell has no [19]

    def at(position: int) -> npt.NDArray[np.uint8]:
        return padded[starts + position]
    ok = np.ones(starts.size, bool)
    for position in _DIGITS_AT:
        ok &= _DIGIT[at(position)]
    ok &= (at(4) == 0x2D) & (at(7) == 0x2D) & (at(13) == 0x3A) & (at(16) == 0x3A)
    ok &= (at(10) == 0x54) | (at(10) == 0x20)
    ok &= (lengths[shaped] == 19) | (at(19) == 0x5A)

    def number(position: int, width: int) -> npt.NDArray[np.int32]:
        value = np.zeros(starts.size, np.int32)
        for digit in range(width):
            value = value * 10 + (at(position + digit).astype(np.int32) - 0x30)
        return value
    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    valid_month = (month >= 1) & (month <= 12)
    days = _DAYS_IN_MONTH[np.where(valid_month, month, 0)] + (leap & (month == 2))
    ok &= (valid_month & (year >= 1) & (day >= 1) & (day <= days) & (number(11, 2) <= 23)
           & (number(14, 2) <= 59) & (number(17, 2) <= 59))
    shaped[shaped] = ok
    return shaped


def deleted_at_fragments(deleted_at: DeletedAt, change: pa.StringArray,
                         read_time: pa.StringArray | None) -> pa.StringArray:
    """_sdc_deleted_at for every row (DeletedAt of records.py), `change`/`read_time` the
    ddsChangeType/ddsReadTime columns (read_time None when the file has none)."""
    rows = len(change)
    distinct = change.dictionary_encode()
    deletes = np.array([deleted_at.is_delete(text) for text in distinct.dictionary.to_pylist()],
                       bool)
    mask = deletes[distinct.indices.to_numpy(zero_copy_only=False)] if rows else deletes[:0]
    nulls = pa.repeat(pa.scalar("null", pa.string()), rows)
    if not mask.any():
        return nulls
    selected = pa.array(mask)
    changes = change.filter(selected).to_pylist()
    reads = (read_time.filter(selected).to_pylist() if read_time is not None
             else [None] * len(changes))
    values = [encode_value(deleted_at.value(text, read)) for text, read in zip(changes, reads,
                                                                              strict=True)]
    return pc.replace_with_mask(nulls, selected, pa.array(values, pa.string()))
