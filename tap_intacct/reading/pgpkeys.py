"""The private keys encrypted exports are read with (the `pgp_private_key` and `pgp_passphrase`
settings; README "Encrypted exports"), parsed and unlocked once, when the config is checked.

The key material and the passphrase are never printed or logged: problems name the setting,
the key's position and its fingerprint only. The OpenPGP library (the `pgp` extra: pysequoia)
is imported here and in decryption.py only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LIBRARY = "pysequoia"
INSTALL = "pip install 'tap-intacct[pgp]'"
_BLOCK = re.compile(r"-----BEGIN PGP ([A-Z ]+)-----.*?-----END PGP \1-----", re.DOTALL)


class KeyProblem(ValueError):
    """The keys cannot be used: `problems` (without the config file's name) say why."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems = list(problems)


@dataclass(frozen=True)
class Key:
    """One secret key: its primary fingerprint, the IDs and fingerprints of the keys in it that
    can decrypt (upper-case hex), and the library's decryptor (the unlocked key)."""

    fingerprint: str
    key_ids: frozenset[str]
    fingerprints: frozenset[str]
    decryptor: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class Keyring:
    keys: tuple[Key, ...]

    def for_recipient(self, key_id: str, fingerprint: str | None = None) -> Key | None:
        for key in self.keys:
            if key_id in key.key_ids or fingerprint in key.fingerprints:
                return key
        return None

    def shown(self) -> str:
        """The encryption key IDs the configured keys hold, for messages."""
        return "; ".join(f"{', '.join(sorted(key.key_ids))} (key {key.fingerprint})"
                         for key in self.keys)


def load(text: str, passphrase: str | None, key_setting: str = "pgp_private_key",
         passphrase_setting: str = "pgp_passphrase") -> Keyring:
    """The keys of `text` (one or more ASCII-armored secret key blocks), unlocked with
    `passphrase` where they are protected; KeyProblem naming the setting otherwise."""
    try:
        import pysequoia
    except ImportError:
        raise KeyProblem(f"{key_setting} is set, but reading encrypted exports needs the pgp "
                         f"extra ({LIBRARY} is not installed): {INSTALL}") from None
    if "\n" not in text and "\\n" in text:  # pasted with its line ends escaped
        text = text.replace("\\r", "").replace("\\n", "\n")
    blocks = list(_BLOCK.finditer(text))
    if not blocks:
        raise KeyProblem(f"{key_setting} must be one or more ASCII-armored secret keys, each "
                         "from -----BEGIN PGP PRIVATE KEY BLOCK----- to -----END PGP PRIVATE "
                         "KEY BLOCK----- (gpg --armor --export-secret-keys KEY_ID)")
    keys, problems = [], []
    for number, block in enumerate(blocks, start=1):
        where = f"{key_setting} (block {number} of {len(blocks)})" if len(blocks) > 1 else (
            key_setting)
        if block.group(1) != "PRIVATE KEY BLOCK":
            problems.append(f"{where} is a PGP {block.group(1).lower()}, not a private key: give "
                            "the secret key DDS's public key belongs to (gpg --armor "
                            "--export-secret-keys KEY_ID)")
            continue
        try:
            secret = pysequoia.Tsk.from_bytes(block.group(0).encode())
        except Exception as exc:  # noqa: BLE001 (the library raises RuntimeError or ValueError)
            problems.append(f"{where} cannot be read as an OpenPGP secret key "
                            f"({first_line(exc)})")
            continue
        try:
            keys.append(_unlocked(pysequoia, secret, passphrase, where, passphrase_setting))
        except KeyProblem as exc:
            problems += exc.problems
    if problems:
        raise KeyProblem(*problems)
    return Keyring(tuple(keys))


def _unlocked(pysequoia: Any, secret: Any, passphrase: str | None, where: str,
              passphrase_setting: str) -> Key:
    fingerprint = secret.extract_certificate().fingerprint.upper()
    try:
        decryptor = secret.decryptor()
    except Exception as exc:  # noqa: BLE001
        reason = first_line(exc)
        if "encrypted" not in reason:
            raise KeyProblem(f"{where}: key {fingerprint} cannot decrypt ({reason}): give the "
                             "key whose encryption subkey DDS encrypts to") from None
        if passphrase is None:
            raise KeyProblem(f"{where}: key {fingerprint} is protected by a passphrase: set "
                             f"{passphrase_setting}") from None
        try:
            decryptor = secret.decryptor(passphrase)
        except Exception:  # noqa: BLE001
            raise KeyProblem(f"{passphrase_setting} does not unlock key {fingerprint} of "
                             f"{where}") from None
    key_ids, fingerprints = _encryption_keys(pysequoia, secret)
    return Key(fingerprint, key_ids, fingerprints, decryptor)


KEY_TAGS = ("SecretKey", "SecretSubkey", "PublicKey", "PublicSubkey")


def _encryption_keys(pysequoia: Any, secret: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(key IDs, fingerprints) of the keys of `secret` whose binding signature allows
    encryption; every key of it if no signature says (a message names the key it used)."""
    current: tuple[str, str] | None = None
    every: list[tuple[str, str]] = []
    encrypting: list[tuple[str, str]] = []
    for packet in pysequoia.packet.PacketPile.from_bytes(bytes(secret)):
        if str(packet.tag).rsplit(".", 1)[-1] in KEY_TAGS:
            current = (packet.key_id.upper(), packet.fingerprint.upper())
            every.append(current)
        elif packet.key_flags is not None and current is not None:
            flags = packet.key_flags
            if flags.storage_encryption or flags.transport_encryption:
                encrypting.append(current)
    chosen = encrypting or every
    return frozenset(key_id for key_id, _ in chosen), frozenset(fpr for _, fpr in chosen)


def first_line(exc: BaseException) -> str:
    """The library's message without its backtrace (RUST_BACKTRACE adds one)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
