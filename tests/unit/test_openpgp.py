"""The OpenPGP format as the tap reads it itself (reading/openpgp.py): which files are encrypted
messages, armor removed in any chunking, the key IDs a message names, cut files found from their
packet lengths. Messages from pysequoia and rPGP (tests/pgp.py)."""

import base64
import io

import pytest

from tap_intacct.reading import openpgp
from tests import pgp

DATA = b"RECORDNO,NAME\n" + b"".join(b"%d,name %d\n" % (n, n) for n in range(5000))


def unarmored(armored):
    body = armored.split(b"\n\n", 1)[1].split(b"-----END")[0]
    return base64.b64decode(b"".join(line for line in body.splitlines()
                                     if not line.startswith(b"=")))


@pytest.mark.parametrize("first, kind", [
    (b"RECORDNO,NAME\n", None),
    (b"\x1f\x8b\x08\x00", None),                        # gzip
    (b"PK\x03\x04", None),                              # zip
    ("\u00e9t\u00e9,b\n".encode(), None),               # 0xC3 0xA9: not a session key packet
    (b"\xc3\x0d\x04\x09", "binary"),                    # a symmetric-key session key packet
    (b"\x85\x01\x0c\x03", "binary"),                    # old format, public-key session key
    (b"\xef\xbb\xbf-----BEGIN PGP MESSAGE-----\n", "armored"),
    (b"-----BEGIN PGP SIGNED MESSAGE-----\n", None),     # not encrypted: refused elsewhere
])
def test_kind(first, kind):
    assert openpgp.kind(first) == kind


@pytest.mark.parametrize("size", [1, 5, 63, 64, 65, 4096, 1 << 20])
def test_dearmored_in_any_chunking_is_the_binary_message(size):
    armored = pgp.sequoia_message(DATA, pgp.sequoia_key(), armor=True)
    chunks = [armored[at:at + size] for at in range(0, len(armored), size)]
    assert b"".join(openpgp.dearmored(chunks)) == unarmored(armored)


def test_dearmored_with_headers_and_crlf_line_ends():
    armored = pgp.rpgp_message(DATA, pgp.sequoia_key(), armor=True)
    with_headers = armored.replace(b"-----\n\n", b"-----\nVersion: X 1\nComment: y\n\n", 1)
    crlf = with_headers.replace(b"\n", b"\r\n")
    assert b"".join(openpgp.dearmored([crlf])) == unarmored(armored)


def test_a_cut_or_damaged_armor_is_refused():
    armored = pgp.sequoia_message(DATA, pgp.sequoia_key(), armor=True)
    with pytest.raises(openpgp.Cut, match="no -----END PGP MESSAGE----- line"):
        list(openpgp.dearmored([armored[:len(armored) // 2]]))
    with pytest.raises(openpgp.Cut, match="no -----END PGP MESSAGE----- line"):
        list(openpgp.dearmored([armored[:armored.index(b"-----END")]]))
    damaged = armored[:200] + b"*" + armored[201:]
    with pytest.raises(openpgp.FormatError, match=r"corrupt \(byte b'\*'"):
        list(openpgp.dearmored([damaged]))


def test_recipients_of_v3_and_v6_session_key_packets():
    key = pgp.sequoia_key()
    v6 = pgp.sequoia_message(DATA, key, armor=False)   # pysequoia: v6 PKESK, fingerprint
    v3 = pgp.rpgp_message(DATA, key)                   # rPGP: v3 PKESK, key ID
    assert openpgp.recipients(v3[:200]).key_ids == key.key_ids
    named = openpgp.recipients(v6[:200])
    assert named.key_ids == key.key_ids and named.fingerprints[0].endswith(key.key_ids[0])
    assert openpgp.head_recipients(pgp.rpgp_message(DATA, key, armor=True)[:300]).key_ids == (
        key.key_ids)
    assert openpgp.recipients(v3[:5]).key_ids == ()    # the packet is not wholly there
    assert openpgp.recipients(b"RECORDNO\n").key_ids == ()


@pytest.mark.parametrize("chunk", [None, 512])
def test_check_whole_finds_a_cut_message(chunk):
    message = pgp.rpgp_message(DATA, pgp.sequoia_key(), chunk=chunk)
    openpgp.check_whole(io.BytesIO(message), len(message))
    for cut in (1, 100, len(message) // 2, len(message) - 1):
        with pytest.raises(openpgp.Cut):
            openpgp.check_whole(io.BytesIO(message[:cut]), cut)
