"""The shape of a DDS export's text: its delimiter and quote character (DDS's `delimiter` and
`enclosure` file attributes), and the checks that keep a file of another shape from being read
as if it were one (README "File attributes"). Pure: no I/O.

A header row is required. A first line that looks like data, PGP armor or a line delimited by
another character is never taken as column names: the file is refused with a line naming it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

DELIMITERS = (",", ";", "\t", "|")  # what a header line is searched for, in this order
QUOTECHARS = ('"', "'")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'", ".": "'.'"}

# A column name as Intacct writes them (README "File attributes"): standard and custom fields
# (`TRX_AMOUNT`, `GLDIM_PROGRAM`, `R10048`), `ddsReadTime`, and the fields of related records
# joined with dots (`DISPLAYCONTACT.MAILADDRESS.CITY`, `PAYTO.TAXGROUP.RECORDNO`): a letter or
# '_' first, then letters, digits, '_', '.', '-', '$', '#' (a stray quote is kept as part of a
# name, as Python's csv reader does). A cell of any other shape (a number, a date, text with
# spaces, '@', ',' or '/') is a value, so the line is not a header. The rule errs towards
# accepting: a data row taken as a header costs one row read as names (every later value is
# still read exactly), a real header refused stops the stream.
COLUMN_NAME = re.compile(r"[^\W\d][\w$#\"'.-]*")
MAX_NAME_LENGTH = 256

PGP_ARMOR = b"-----BEGIN PGP "
# First byte of an OpenPGP message's first packet (public-key or symmetric-key encrypted
# session key, encrypted data), in the old and the new packet formats.
PGP_PACKET_TAGS = frozenset([0x84, 0x85, 0x86, 0x87, 0x8C, 0x8D, 0x8E, 0x8F, 0xC1, 0xC3])
HEADER_ADVICE = ("turn the header row on in the DDS job's file settings (includeHeaders in the "
                 "API's fileConfiguration) and export again")


class CsvOptions(TypedDict):
    """The csv module's keyword arguments for a dialect."""

    delimiter: str
    quotechar: str


@dataclass(frozen=True)
class Dialect:
    """How a file's cells are separated and enclosed. `delimiter` None: found in each file's
    header line."""

    delimiter: str | None = None
    quotechar: str = '"'

    @property
    def csv_options(self) -> CsvOptions:
        return {"delimiter": self.delimiter or ",", "quotechar": self.quotechar}


class ShapeError(ValueError):
    """The file is not a DDS CSV export of the configured shape (message without the name)."""


def encryption_problem(first_bytes: bytes) -> str | None:
    """Why the file is refused if its first bytes are an encrypted (PGP) message."""
    start = first_bytes.removeprefix(b"\xef\xbb\xbf")
    if start.startswith(PGP_ARMOR) or (start and start[0] in PGP_PACKET_TAGS):
        return ("its content is PGP data the tap cannot read (it decrypts files DDS encrypted "
                "whole, with pgp_private_key: README \"Encrypted exports\"); choose 'Do not "
                "encrypt' in the DDS delivery settings and export again")
    return None


# Byte-order marks of the encodings DDS never writes, longest first (UTF-32LE's starts like
# UTF-16LE's).
FOREIGN_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"),
                (b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE"))
# Where a wide encoding puts the NUL bytes of ASCII text (a header's column names): the
# positions, modulo 4, that are NUL in every character.
WIDE_NUL_POSITIONS = (({1, 2, 3}, "UTF-32LE"), ({0, 1, 2}, "UTF-32BE"), ({1, 3}, "UTF-16LE"),
                      ({0, 2}, "UTF-16BE"))
UTF8_ADVICE = "DDS writes UTF-8: upload the export as DDS wrote it, or save it as UTF-8"
COMPRESSED_MAGICS = ((b"\x1f\x8b", "gzip data"), (b"PK\x03\x04", "a zip archive"),
                     (b"PK\x05\x06", "a zip archive"))


def encoding_problem(first_line: bytes) -> str | None:
    """Why the file is refused if its first line (bytes, before any decoding) is not UTF-8 text
    of a header: a UTF-16 or UTF-32 byte-order mark, or NUL bytes, which no column name holds
    (a UTF-16 or UTF-32 file without a byte-order mark has one in every character)."""
    for bom, encoding in FOREIGN_BOMS:
        if first_line.startswith(bom):
            return f"the file is {encoding} text (it starts with a {encoding} byte-order mark); " \
                   + UTF8_ADVICE
    if b"\x00" not in first_line:
        return None
    nul_at = {position % 4 for position, byte in enumerate(first_line) if byte == 0}
    text_at = {position % 4 for position, byte in enumerate(first_line) if byte != 0}
    for positions, encoding in WIDE_NUL_POSITIONS:
        if nul_at == positions and not text_at & positions:
            return (f"the file looks like {encoding} text without a byte-order mark (NUL bytes "
                    f"between the characters of its header line); {UTF8_ADVICE}")
    return ("its header line holds NUL bytes, which no column name has; the file is not a DDS "
            "CSV export in UTF-8 (" + UTF8_ADVICE + ")")


def compression_problem(first_bytes: bytes) -> str | None:
    """Why the file is refused if its (decompressed) text starts as compressed data does: a
    file compressed twice, which DDS never writes."""
    for magic, what in COMPRESSED_MAGICS:
        if first_bytes.startswith(magic):
            return (f"its content is itself {what} (the file is compressed twice); DDS "
                    "compresses an export once: upload the export as DDS wrote it")
    return None


def quote_problem(names: Sequence[str], dialect: Dialect) -> str | None:
    """Why these first-line cells are refused if they are enclosed in the other quote character
    than the configured one (the names would keep their quotes, and values would be split at
    delimiters inside quotes)."""
    for quote in QUOTECHARS:
        if quote == dialect.quotechar:
            continue
        for raw in names:
            name = raw.strip()
            if len(name) >= 2 and name[0] == name[-1] == quote:
                default = " (its default)" if dialect.quotechar == '"' else ""
                return (f"its header names are enclosed in {quote} but 'quotechar' is "
                        f"{dialect.quotechar}{default}; set quotechar to {quote}, as the DDS "
                        "job's enclosure setting says")
    return None


def _outside_quotes(line: str, quotechar: str) -> str:
    """The characters of `line` that are not inside a quoted cell."""
    kept, quoted = [], False
    for character in line:
        if character == quotechar:
            quoted = not quoted
        elif not quoted:
            kept.append(character)
    return "".join(kept)


def resolve(dialect: Dialect, first_line: str) -> Dialect:
    """The dialect of a file whose first line is `first_line`: the configured delimiter, or the
    only one of DELIMITERS found in the line (',' for a line without any). ShapeError when the
    line is delimited by another character than the configured one, or by more than one."""
    bare = _outside_quotes(first_line, dialect.quotechar)
    found = [d for d in DELIMITERS if d in bare]
    if dialect.delimiter is not None:
        if dialect.delimiter not in bare and len(found) == 1:
            raise ShapeError(f"its header line is delimited by {DELIMITER_NAMES[found[0]]}, "
                             f"not by {DELIMITER_NAMES[dialect.delimiter]} as the 'delimiter' "
                             f"setting says; set delimiter to {DELIMITER_NAMES[found[0]]}, or "
                             "leave it unset to detect it")
        return dialect
    if len(found) > 1:
        raise ShapeError(f"its header line holds {' and '.join(DELIMITER_NAMES[d] for d in found)}"
                         " outside quotes, so its delimiter cannot be told; set 'delimiter' to "
                         "the one chosen in DDS")
    return Dialect(found[0] if found else ",", dialect.quotechar)


def header_problem(names: Sequence[str], dialect: Dialect) -> str | None:
    """Why these first-line cells are not a header row (None when they are one)."""
    if len(names) == 1 and "." in names[0]:
        # Every DDS export has at least ddsReadTime beside its fields, so a line that is one
        # cell holding dots is a '.'-delimited line, not one dotted column name.
        name = names[0].strip()
        shown = name if len(name) <= 40 else name[:37] + "..."
        return (f"its first line {shown!r} looks '.'-delimited: DDS's '.' delimiter cannot "
                "be read losslessly (it is also the decimal point); choose ',' or ';' in "
                "DDS and export again")
    for position, raw in enumerate(names, start=1):
        name = raw.strip()
        if not name or (len(name) <= MAX_NAME_LENGTH and COLUMN_NAME.fullmatch(name)):
            continue
        shown = name if len(name) <= 40 else name[:37] + "..."
        how = "" if dialect.delimiter in (None, ",") else (
            f", read with delimiter {DELIMITER_NAMES[dialect.delimiter]}")
        return (f"its first line is not a header row (cell {position} is {shown!r}, a value, "
                f"not a column name{how}): the export has no header row; {HEADER_ADVICE}")
    return None
DEFAULT_DIALECT = Dialect()  # comma, double quote
