"""What several test modules share: the edge-case corpus of CSV files both engines must read
alike, and hypothesis strategies for cells that look like numbers and date-times."""

import datetime
import gzip
import os

from hypothesis import strategies as st

from devtools.s3server import zipped

# `make test` runs each property test's examples from a fixed seed (the "ci" hypothesis profile,
# tests/conftest.py); `make fuzz` multiplies them by TAP_INTACCT_FUZZ_SCALE with fresh seeds.
FUZZ_SCALE = float(os.environ.get("TAP_INTACCT_FUZZ_SCALE", "1"))


def examples(count: int) -> int:
    """A property test's example budget: `count` in `make test`, scaled up in `make fuzz`."""
    return max(1, round(count * FUZZ_SCALE))


def sample_seed(fixed: int) -> int | None:
    """The seed of a test's own random sample (kill points, ...): `fixed` in `make test`, so
    that it draws the same sample every run; None (fresh) under `make fuzz`'s profile."""
    return None if os.environ.get("TAP_INTACCT_HYPOTHESIS_PROFILE") == "fuzz" else fixed


INTEGER_SCHEMA = {"type": ["null", "integer", "string"]}
NUMBER_SCHEMA = {"type": ["null", "number", "string"]}


number_like = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2 ** 63 - 3, max_value=2 ** 64).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.from_regex(r"[ +-]?[0-9,_]{0,12}(\.[0-9]{0,8})?([eE][+-]?[0-9]{1,3})? ?", fullmatch=True),
    st.sampled_from(["NaN", "nan", "inf", "-Infinity", "1e400", "0x10", "１２", "1,234.50",
                     "0100", "+5", "1,000", "1_000", " 7", "00", "1,5", "1.234,5", "0100.50",
                     "-0", "-0.00", "18446744073709551616", "12345678901234567.89"]),
    st.text(max_size=12),
)
iso_moments = st.datetimes(min_value=datetime.datetime(1, 1, 2),
                           max_value=datetime.datetime(9999, 12, 30),
                           timezones=st.one_of(st.none(), st.timezones()))
date_like = st.one_of(
    iso_moments.map(lambda m: m.isoformat()),
    iso_moments.map(lambda m: m.isoformat(sep=" ", timespec="seconds")),
    iso_moments.map(lambda m: m.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ")),
    iso_moments.map(lambda m: m.date().isoformat()),
    st.from_regex(r"[0-9]{4}-[01]?[0-9]-[0-3]?[0-9]([T ][0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?"
                  r"(Z|[+-][0-2][0-9]:?[0-5][0-9])?", fullmatch=True),
    st.sampled_from(["01/02/2024", "2024-02-30", "2024-13-01", "Jan 5 2024", "24:00", "12",
                     "1.5", "March", "Monday", "2024-01-02T24:00:00",
                     "0001-01-01T00:00:00+01:00", "not a date"]),
    st.text(max_size=20),
)


def as_utc(text):
    """Independent reading of an ISO text as a naive UTC moment (None if it is not one)."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


TYPED = ("RECORDNO,AMOUNT,WHEN,NOTE\n" + "".join(
    f"{n},{n}.5,2024-01-{1 + n % 28:02d} 10:00:{n % 60:02d},note {n}\n" for n in range(1, 60)))

CORPUS = {
    "plain": TYPED.encode(),
    "bom crlf quoted newlines": ('\ufeffRECORDNO,NOTE\r\n1,"a\r\nb"\r\n2,"x\n\ny"\r\n'
                                 '3,"cr\ronly"\r\n4,"say ""hi"""\r\n').encode(),
    "cr only": b"RECORDNO,NOTE\r1,a\r2,\"b\nc\"\r3,d\r",
    "quote all": b'"RECORDNO","NOTE"\n"1","a"\n"2",""\n"3","x,y"\n' * 1,
    "quoted newlines": b'RECORDNO,NOTE\n' + b''.join(
        b'%d,"line one\nline two\n"\n' % n for n in range(1, 40)),
    "nul": b'RECORDNO,NOTE\n1,ok\n2,"a\x00b"\n3,ok\n' + b"4,x\n" * 30,
    "huge field": b'RECORDNO,NOTE\n1,"' + b"x" * (3 * 1024 * 1024) + b'"\n2,ok\n',
    "ragged": b"RECORDNO,A,B\n1,x,y,extra1,extra2\n2,x\n3,x,y\n" + b"4,p,q\n" * 20,
    "unterminated quote": b'RECORDNO,NOTE\n1,a\n' + b"2,b\n" * 30 + b'3,"open\n4,x\n',
    "invalid utf-8 late": b"RECORDNO,NOTE\n" + b"1,abc\n" * 40 + b"2,\xff\n3,x\n",
    "invalid utf-8 header": b"RECORDNO,N\xffOTE\n1,a\n",
    "duplicate headers": b"RECORDNO,A,A,,A\n1,x,y,z,w\n2,p,q,r,s\n",
    "deletes": (b"RECORDNO,ddsChangeType,ddsReadTime\n1,create,2024-01-02 03:04:05\n"
                b"2,delete,2024-01-02 03:04:05\n3, DELETE ,not a time\n4,Delete,\n"
                + b"5,update,2024-01-02 03:04:05\n" * 20),
    "stray quotes": b'RECORDNO,NOTE\n1,ab"c\n2,"ab"\n' + b"3,x\n" * 20,
    "text after closing quote": b'RECORDNO,NOTE\n' + b"1,x\n" * 20 + b'2,"ab"x\n3,y\n',
    "blank lines": b"RECORDNO,NOTE\n1,a\n\n2,b\n\r\n3,c\n\n\n",
    "no final newline": b"RECORDNO,NOTE\n1,a\n2,b",
    "utf-8 cut at the end": b"RECORDNO,N\n1,a\n2,\xe2\x82",
    "stray quote in header": b'RECORDNO,SIZE"IN,AMOUNT\n' + b"".join(
        b"%d,%d,%d.50\n" % (n, n % 7, n) for n in range(1, 200)),
    "empty": b"",
    "header only": b"RECORDNO,NOTE\n",
    "header without newline": b"RECORDNO,NOTE",
    "dates": ("RECORDNO,WHEN\n" + "".join(f"{n},2024-01-02T03:04:05Z\n" for n in range(30))
              + "31,2024-02-30 00:00:00\n32,0000-01-01 00:00:00\n33,2024-01-01 24:00:00\n"
              "34,2024-02-29 12:00:00\n35,1900-02-29 12:00:00\n36,2024-01-01 23:59:60\n"
              "37,2024-01-01\n38,2024-01-01T10:00:00+02:00\n39,\n").encode(),
    "numbers": ("RECORDNO,AMOUNT\n" + "".join(f"{n},{n}.25\n" for n in range(1, 30))
                + "30,-0\n31,0100\n32,1e5\n33,99999999999999999999\n34,-7\n35,\n").encode(),
    "strings": ('RECORDNO,NOTE\n1,caf\u00e9\n2,\x7f\n3,"\\\\"\n4,\U0001f600\n5,\u2028\n'
                '6,tab\there\n7,"q""q"\n8, lead\n').encode(),
    "bare cr in lf file": b"RECORDNO,NOTE\n1,a\rb\n2,c\n",
    "gzip": gzip.compress(TYPED.encode()),
    "truncated gzip": gzip.compress(TYPED.encode() * 20)[:-200],
    "zip": zipped(TYPED, member="GLENTRY.csv"),
}
