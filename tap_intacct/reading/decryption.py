"""PGP-encrypted exports (README "Encrypted exports"): a file's plaintext (`Decrypting`), through
which the store `storage.store.connect` returns (`storage.store.DecryptingStore`) reads every
file, so that discovery, sync (both engines, RECORD and BATCH), `--test` and decompression see
the export DDS wrote before encrypting it.

A file is decrypted whole before any of it is read: the message's integrity check (MDC or AEAD)
comes at its end, and no record of an altered file may reach a target. The ciphertext (armor
removed) is written to a temporary file as it downloads (the store's reads resume after a cut,
as for any file), the library (pysequoia, the `pgp` extra) decrypts it into a second temporary
file in bounded memory, and the plaintext is read from there; both files are private (0600) and
removed as soon as they are no longer needed (the plaintext one once opened). Unencrypted files
pass through unchanged.

Refusals name the file and stop its stream only (DataError): a message encrypted to a key that
is not configured (named by its key ID, before the file is downloaded), with a passphrase, cut
short, corrupt, or failing its integrity check.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from tap_intacct.errors import DataError
from tap_intacct.reading import openpgp
from tap_intacct.reading.pgpkeys import Key, Keyring, first_line

HEAD_BYTES = 64 * 1024  # read before deciding whether a file is encrypted
KEY_PACKET_BYTES = 16 * 1024  # enough for the session key packets of many recipients
COPY_BYTES = 1 << 20  # ciphertext copied to the temporary file per read
ADVICE = "README \"Encrypted exports\""


class Decrypting(io.RawIOBase):
    """The plaintext of one file, whose stream (`source`, buffered) is the store's; decided at
    the first read."""

    def __init__(self, source: io.BufferedReader, name: str, keyring: Keyring | None
                 ) -> None:
        super().__init__()
        self._source = source
        self._name = name
        self._keyring = keyring
        self._head = b""
        self._plaintext: io.BufferedReader | None = None
        self._decided = False
        self._error: DataError | None = None
        self._paths: list[str] = []
        self._recipients = ""
        self.note = ""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._error is not None:
            raise self._error  # a reader that goes on after the refusal gets it again
        if not self._decided:
            try:
                self._decide()
            except DataError as exc:
                self._error = exc
                raise
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        reader = self._plaintext or self._source
        return reader.readinto(buffer)

    def _decide(self) -> None:
        self._decided = True
        head = self._source.read(HEAD_BYTES)
        kind = openpgp.kind(head)
        if kind is None:
            self._head = head
            return
        if self._keyring is None:
            recipients = openpgp.head_recipients(head).shown()
            raise DataError(f"{self._name}: the file is PGP-encrypted"
                            f"{f' to key ID {recipients}' if recipients else ''}: to read "
                            "encrypted exports set pgp_private_key to the private key of the "
                            f"public key given to DDS (pip install 'tap-intacct[pgp]'; {ADVICE}), "
                            "or choose 'Do not encrypt' in the DDS delivery settings and export "
                            "again")
        try:
            self._plaintext = self._decrypted(head, kind == "armored")
        except openpgp.Cut as exc:
            raise DataError(f"{self._name}: the PGP-encrypted file is cut short ({exc}): it may "
                            "still be arriving, or its upload failed; export it again") from None
        except openpgp.FormatError as exc:
            raise DataError(f"{self._name}: the PGP-encrypted file is corrupt ({exc}); export "
                            "it again") from None

    def _decrypted(self, head: bytes, armored: bool) -> io.BufferedReader:
        chunks = self._chunks(head)
        if armored:
            chunks = openpgp.dearmored(chunks)
        ciphertext = self._temporary(".pgp")
        keys: list[Key] | None = None
        start = b""
        with open(ciphertext, "wb") as spool:
            for chunk in chunks:
                if keys is None:  # refused before the download if no configured key fits
                    start += chunk
                    if len(start) >= KEY_PACKET_BYTES:
                        keys = self._keys(start)
                spool.write(chunk)
        if keys is None:
            keys = self._keys(start)
        with open(ciphertext, "rb") as spool:
            openpgp.check_whole(spool, os.fstat(spool.fileno()).st_size)
        plaintext = self._temporary(".csv")
        self._decrypt(ciphertext, plaintext, keys)
        _remove(ciphertext)
        opened = open(plaintext, "rb")  # noqa: SIM115 (closed with this stream)
        _remove(plaintext)  # POSIX: the open file stays readable, nothing is left behind
        return opened

    def _chunks(self, head: bytes) -> Iterator[bytes]:
        yield head
        while chunk := self._source.read(COPY_BYTES):
            yield chunk

    def _keys(self, start: bytes) -> list[Key]:
        """The configured keys to try on the message starting with `start` (binary); DataError
        when it names recipients none of them is."""
        assert self._keyring is not None  # _decide refused the file otherwise
        recipients = openpgp.recipients(start)
        if not recipients.key_ids:
            if recipients.passphrases:
                raise DataError(f"{self._name}: the file is PGP-encrypted with a passphrase, not "
                                "to a key: the tap reads exports encrypted to the public key of "
                                f"pgp_private_key ({ADVICE})")
            return list(self._keyring.keys)  # the library finds out
        shown = recipients.shown()
        keys = []
        for key_id, fingerprint in zip(recipients.key_ids, recipients.fingerprints or
                                       [None] * len(recipients.key_ids), strict=True):
            if key_id == openpgp.ANONYMOUS:
                keys += [key for key in self._keyring.keys if key not in keys]
                continue
            key = self._keyring.for_recipient(key_id, fingerprint)
            if key is not None and key not in keys:
                keys.insert(0, key)
        if not keys:
            raise DataError(f"{self._name}: the file is PGP-encrypted to key ID {shown}, which "
                            "none of the keys in pgp_private_key is (they hold "
                            f"{self._keyring.shown()}); set pgp_private_key to the private key "
                            f"of the public key given to DDS ({ADVICE})")
        self._recipients = shown
        return keys

    def _decrypt(self, ciphertext: str, plaintext: str, keys: list[Key]) -> None:
        assert self._keyring is not None
        problem = "no configured key opens it"
        for key in keys:
            try:
                _decrypt_file(ciphertext, plaintext, key)
            except Exception as exc:  # noqa: BLE001 (the library raises RuntimeError)
                problem = first_line(exc)
                if _wrong_key(problem):
                    continue
                raise DataError(self._refusal(problem)) from None
            to = f" to key ID {self._recipients}" if self._recipients else ""
            self.note = f", PGP-encrypted{to}: key {key.fingerprint} of pgp_private_key opens it"
            return
        raise DataError(f"{self._name}: the PGP-encrypted file cannot be decrypted with the keys "
                        f"in pgp_private_key ({problem}; they hold {self._keyring.shown()})")

    def _refusal(self, problem: str) -> str:
        lowered = problem.lower()
        if any(word in lowered for word in ("manipulated", "aead", "mdc", "checksum", "digest")):
            return (f"{self._name}: the PGP-encrypted file fails its integrity check ({problem}): "
                    "it was altered or damaged after it was encrypted; export it again")
        return (f"{self._name}: the PGP-encrypted file is corrupt and cannot be decrypted "
                f"({problem}); export it again")

    def _temporary(self, suffix: str) -> str:
        handle, path = tempfile.mkstemp(prefix="tap-intacct-", suffix=suffix)  # mode 0600
        os.close(handle)
        self._paths.append(path)
        return path

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
                if self._plaintext is not None:
                    self._plaintext.close()
            finally:
                for path in self._paths:
                    _remove(path)
        super().close()


def _wrong_key(problem: str) -> bool:
    lowered = problem.lower()
    return "no key to decrypt" in lowered or "session key" in lowered


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# The library holds the GIL while it decrypts, so files are decrypted one at a time anyway; one
# thread does them all, so that the memory the library frees stays in one allocator arena
# instead of one per discovery thread. (No thread starts before the first file.)
_WORKER = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="decrypt")


def _decrypt_file(ciphertext: str, plaintext: str, key: Key) -> None:
    """The library's streaming decryption, file to file."""
    import pysequoia
    _WORKER.submit(pysequoia.decrypt_file, input=ciphertext, output=plaintext,
                   decryptor=key.decryptor).result()
