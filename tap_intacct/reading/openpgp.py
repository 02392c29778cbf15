"""The OpenPGP message format as far as the tap reads it itself (RFC 9580; pure, no library):
whether a file is an encrypted message, ASCII armor removed as a stream, the key IDs a message
is encrypted to, and whether its packets end before the file does (a cut file). Decryption
itself is the library's (reading/decryption.py)."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

ARMOR_BEGIN = b"-----BEGIN PGP MESSAGE-----"
ARMOR_END = b"-----END PGP MESSAGE-----"
BOM = b"\xef\xbb\xbf"

PKESK, SKESK, SED, MARKER, SEIPD, AEAD = 1, 3, 9, 10, 18, 20
# the packets an encrypted message may start with, and the versions of their first byte
FIRST_PACKETS = {PKESK: (3, 6), SKESK: (4, 5, 6), MARKER: (0x50,), SEIPD: (1, 2), SED: None,
                 AEAD: (1,)}
ANONYMOUS = "0000000000000000"  # the key ID of a recipient the message does not name


class FormatError(ValueError):
    """The bytes are not the OpenPGP message they claim to be (message without the file name)."""


class Cut(FormatError):
    """The file ends inside the message."""


def kind(first: bytes) -> Literal["armored", "binary"] | None:
    """'armored' or 'binary' if `first` (a file's first bytes) starts an encrypted OpenPGP
    message, else None (a CSV, gzip or zip export)."""
    start = first.removeprefix(BOM).lstrip(b" \t\r\n")
    if start.startswith(ARMOR_BEGIN):
        return "armored"
    header = _header(first, 0)
    if header is None:
        return None
    tag, body, _length = header
    versions = FIRST_PACKETS.get(tag, ())
    if versions is None:  # SED has no version byte
        return "binary"
    return "binary" if body < len(first) and first[body] in versions else None


def _header(data: bytes, at: int) -> tuple[int, int, int | None] | None:
    """(tag, where the body starts, body length: None for a partial or indeterminate length) of
    the packet header at `at`, or None if `data` holds no complete packet header there."""
    if at >= len(data) or not data[at] & 0x80:
        return None
    octet = data[at]
    if octet & 0x40:  # the new format
        length = _new_length(data[at + 1:at + 6])
        if length is None:
            return None
        width, size, _part = length
        return octet & 0x3F, at + 1 + width, size
    tag, length_type = (octet >> 2) & 0x0F, octet & 0x03
    if length_type == 3:
        return tag, at + 1, None  # indeterminate: to the end of the file
    width = 1 << length_type
    if at + width >= len(data):
        return None
    return tag, at + 1 + width, int.from_bytes(data[at + 1:at + 1 + width], "big")


@dataclass(frozen=True)
class Recipients:
    """Whom a message is encrypted to: key IDs (16 hex digits, upper case; ANONYMOUS for a
    recipient it does not name) and fingerprints where the message gives them (v6 PKESK)."""

    key_ids: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()
    passphrases: int = 0  # symmetric-key (SKESK) packets: encrypted with a passphrase

    def shown(self) -> str:
        return ", ".join(key_id if key_id != ANONYMOUS else "an unnamed (anonymous) key"
                         for key_id in self.key_ids)


def recipients(message: bytes) -> Recipients:
    """The recipients named by the session key packets at the start of `message` (binary, its
    first bytes; packets not wholly inside them are not looked at)."""
    key_ids: list[str] = []
    fingerprints: list[str] = []
    passphrases = 0
    at = 0
    while (header := _header(message, at)) is not None:
        tag, body, length = header
        if tag not in (PKESK, SKESK, MARKER) or length is None or body + length > len(message):
            break
        if tag == SKESK:
            passphrases += 1
        elif tag == PKESK:
            key_id, fingerprint = _pkesk_recipient(message[body:body + length])
            key_ids.append(key_id)
            if fingerprint:
                fingerprints.append(fingerprint)
        at = body + length
    return Recipients(tuple(key_ids), tuple(fingerprints), passphrases)


def head_recipients(first: bytes) -> Recipients:
    """The recipients of the message whose first bytes (armored or binary) are `first`, as far
    as they tell; no recipients when they do not."""
    message = first if kind(first) == "binary" else b""
    if kind(first) == "armored":
        try:
            start = _body_start(first)
        except FormatError:
            start = None
        body = first[start:first.rfind(b"\n")] if start is not None else b""
        trailer = _trailer(body)
        data = (body[:trailer.start()] if trailer else body).translate(None, b" \t\r\n")
        try:
            message = binascii.a2b_base64(data[:len(data) // 4 * 4], strict_mode=True)
        except binascii.Error:
            message = b""
    return recipients(message)


def _pkesk_recipient(body: bytes) -> tuple[str, str | None]:
    """(key ID, fingerprint or None) of a public-key encrypted session key packet."""
    if body[:1] == b"\x03" and len(body) >= 9:
        return body[1:9].hex().upper(), None
    if body[:1] == b"\x06" and len(body) >= 2:
        size = body[1]
        if size == 0:
            return ANONYMOUS, None
        version, fingerprint = body[2:3], body[3:2 + size]
        # a v4 key's ID is the end of its fingerprint, a v6 key's the start
        key_id = fingerprint[-8:] if version == b"\x04" else fingerprint[:8]
        return key_id.hex().upper(), fingerprint.hex().upper()
    return ANONYMOUS, None


def check_whole(message: BinaryIO, size: int) -> None:
    """Cut when the binary message in `message` (a seekable file of `size` bytes) ends inside a
    packet: a file cut short, which no key can open (only packet headers are read)."""
    at = 0
    while at < size:
        message.seek(at)
        head = message.read(6)
        header = _header(head, 0)
        if header is None:
            raise Cut(f"it ends inside a packet header at byte {at}")
        _tag, body, length = header
        if length is None and not head[0] & 0x40:
            return  # an old-format indeterminate length: the rest of the file
        at += body
        part = 1 << (head[1] & 0x1F) if length is None else None
        while part is not None:  # a partial body: each part is followed by the next length
            message.seek(at + part)
            following = _new_length(message.read(5))
            if at + part >= size or following is None:
                raise Cut(f"it ends inside its encrypted data (a part at byte {at} needs "
                          f"{at + part} bytes and more, the file has {size})")
            width, length, next_part = following
            at += part + width
            part = next_part
        assert length is not None  # the last part's length
        if at + length > size:
            raise Cut(f"its last packet needs {at + length} bytes, the file has {size}")
        at += length


def _new_length(data: bytes) -> tuple[int, int | None, int | None] | None:
    """(bytes taken, length, None) or (bytes taken, None, the next part's size) of a new-format
    body length, or None when `data` is too short to hold it."""
    if not data:
        return None
    first = data[0]
    if first < 192:
        return 1, first, None
    if first < 224:
        return (2, ((first - 192) << 8) + data[1] + 192, None) if len(data) >= 2 else None
    if first == 255:
        return (5, int.from_bytes(data[1:5], "big"), None) if len(data) >= 5 else None
    return 1, None, 1 << (first & 0x1F)


def dearmored(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The binary message inside an ASCII-armored one given as `chunks`, a chunk at a time.
    FormatError when the armor is not base64, Cut when its END line never comes."""
    source = iter(chunks)
    text = b""
    while (start := _body_start(text)) is None:
        chunk = next(source, b"")
        if not chunk:
            raise Cut("its ASCII armor ends before its data (the file is cut short)")
        text += chunk
    text, carry, offset = text[start:], b"", start
    while True:
        chunk = next(source, b"")
        text += chunk
        complete = len(text) if not chunk else text.rfind(b"\n") + 1
        lines, text = text[:complete], text[complete:]
        trailer = _trailer(lines)
        body = lines[:trailer.start()] if trailer else lines
        data = carry + body.translate(None, b" \t\r\n")
        whole = len(data) if trailer else len(data) // 4 * 4
        carry = data[whole:]
        yield _base64(data[:whole], offset)
        offset += complete
        if trailer:
            if not (trailer.group(2) or _has_end(lines[trailer.end():] + text, source)):
                raise Cut("its ASCII armor has no -----END PGP MESSAGE----- line (the file is "
                          "cut short)")
            return
        if not chunk:
            raise Cut("its ASCII armor has no -----END PGP MESSAGE----- line (the file is cut "
                      "short)")


# the optional CRC-24 line (the message has its own integrity check) and the END line
_TRAILER = re.compile(rb"^(=[A-Za-z0-9+/]{4}[ \t\r]*(?:\n|$))|^(-----END PGP MESSAGE-----)",
                      re.MULTILINE)
_HEADER_LIMIT = 1 << 16


def _trailer(lines: bytes) -> re.Match[bytes] | None:
    """The CRC-24 or END line in `lines` (whole lines of armor), if there is one. ('=' is
    otherwise only the padding at the end of the data: the regular expression runs on the last
    few lines only.)"""
    hits = [hit for hit in (lines.find(b"="), lines.find(b"-----")) if hit != -1]
    if not hits:
        return None
    return _TRAILER.search(lines, lines.rfind(b"\n", 0, min(hits)) + 1)


def _body_start(text: bytes) -> int | None:
    """Where the base64 data starts in armored `text`, or None if `text` does not tell yet.
    FormatError when it does not begin with the BEGIN line."""
    begin = text.find(ARMOR_BEGIN)
    if begin == -1 or text.find(b"\n", begin) == -1:
        if len(text) > _HEADER_LIMIT:
            raise FormatError("its ASCII armor does not start with -----BEGIN PGP MESSAGE-----")
        return None
    if text[:begin].removeprefix(BOM).strip():
        raise FormatError("its ASCII armor does not start with -----BEGIN PGP MESSAGE-----")
    at = text.find(b"\n", begin) + 1
    while True:  # armor headers (Version:, Comment:) up to a blank line
        end = text.find(b"\n", at)
        if end == -1:
            if len(text) > _HEADER_LIMIT:
                raise FormatError("its ASCII armor headers do not end")
            return None
        line = text[at:end].strip()
        if not line:
            return end + 1
        if b":" not in line:  # no blank line: this is already the data
            return at
        at = end + 1


def _has_end(rest: bytes, source: Iterator[bytes]) -> bool:
    """Whether the END line follows (in `rest`, or in what `source` still holds)."""
    while ARMOR_END not in rest:
        chunk = next(source, b"")
        if not chunk:
            return False
        rest = rest[-len(ARMOR_END):] + chunk
    return True


_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")


def _base64(text: bytes, offset: int) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        bad = _NOT_BASE64.search(text)
        what = f"byte {bad.group()!r}" if bad else "its padding"
        raise FormatError(f"its ASCII armor is corrupt ({what} after byte {offset} is not "
                          "base64)") from None
