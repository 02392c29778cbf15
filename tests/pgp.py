"""Keys and encrypted messages the tests make themselves: pysequoia (the library the tap decrypts
with) and rPGP (a second implementation, for what other encryptors write: SEIPD v1 messages with
compression inside, RSA keys protected by a passphrase). Keys are made once per test process."""

import functools
from dataclasses import dataclass

import pytest

pysequoia = pytest.importorskip("pysequoia")
rpgp = pytest.importorskip("openpgp.composed")

from tap_intacct.reading import pgpkeys  # noqa: E402 (after the skips)


@dataclass(frozen=True)
class Key:
    armored: str                  # the secret key, ASCII-armored
    passphrase: str | None
    key_ids: tuple[str, ...]      # of its encryption (sub)keys, as messages name them
    fingerprint: str              # of its primary key


@functools.cache
def sequoia_key(name="DDS"):
    """A Curve25519 key made by pysequoia, without a passphrase."""
    return _described(str(pysequoia.Tsk.generate(f"{name} <{name.lower()}@example.com>")), None)


@functools.cache
def rsa_key(passphrase="correct horse"):
    """An RSA 2048 key made by rPGP (as gpg makes them), protected by `passphrase`."""
    subkey = (rpgp.SubkeyParamsBuilder().version(4).key_type(rpgp.KeyType.rsa(2048))
              .can_encrypt(rpgp.EncryptionCaps.all()).passphrase(passphrase).build())
    secret = (rpgp.SecretKeyParamsBuilder().version(4).key_type(rpgp.KeyType.rsa(2048))
              .can_certify(True).can_sign(True).primary_user_id("RSA <rsa@example.com>")
              .passphrase(passphrase).subkey(subkey).generate())
    return _described(secret.to_armored(), passphrase)


def _described(armored, passphrase):
    [key] = pgpkeys.load(armored, passphrase).keys
    return Key(armored, passphrase, tuple(sorted(key.key_ids)), key.fingerprint)


def public_key(key):
    """The key's public half, ASCII-armored (what is given to DDS)."""
    return str(pysequoia.Tsk.from_bytes(key.armored.encode()).extract_certificate())


def sequoia_message(data, key, armor=True):
    """`data` encrypted by pysequoia to the key (SEIPD v2 for keys that announce it)."""
    certificate = pysequoia.Tsk.from_bytes(key.armored.encode()).extract_certificate()
    return pysequoia.encrypt(data, recipients=[certificate], armor=armor)


def rpgp_message(data, key, armor=False, compression=None, chunk=None):
    """`data` encrypted by rPGP to the key's encryption subkey: SEIPD v1 (MDC), as gpg and
    BouncyCastle write, with `compression` ("zip", "zlib") inside if given, in partial-length
    parts of `chunk` bytes if given."""
    secret, _headers = rpgp.SignedSecretKey.from_armor(key.armored)
    [subkey] = [s for s in secret.to_public_key().public_subkeys
                if s.key.fingerprint.upper()[-16:] in key.key_ids]
    builder = rpgp.MessageBuilder.from_bytes("export.csv", data)
    if compression:
        builder = builder.compression(compression)
    if chunk:
        builder = builder.partial_chunk_size(chunk)
    builder = builder.seipd_v1("aes256").encrypt_to_key(subkey)
    return builder.to_armored_string().encode() if armor else builder.to_vec()
