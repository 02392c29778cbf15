"""Settings that hold or may hold secrets, read without any cloud SDK: the fields of an Azure
storage connection string, a SAS token's validity window, where a pasted URL names a container,
and a value as an error message may quote it (never a signature, key or token)."""

import datetime
import re
import urllib.parse
from typing import Any

# A run of characters that looks like a key, signature or token (base64, hex, URL-encoded).
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/%_-]{40,}")
_CONTAINER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


def connection_string_fields(text: str) -> dict[str, str]:
    """{KEY (upper case): value} of a storage connection string (`Key=value;Key=value;`, values
    may hold '='), as the Azure SDK reads it; parts without '=' are left out."""
    fields = {}
    for part in text.strip().rstrip(";").split(";"):
        key, equals, value = part.partition("=")
        if equals:
            fields[key.strip().upper()] = value.strip()
    return fields


def connection_string_sas(text: str | None) -> str | None:
    """The SharedAccessSignature of a connection string, without a leading '?'; None if it has
    none or also has an AccountKey (the SDK then signs with the key)."""
    fields = connection_string_fields(text or "")
    if fields.get("ACCOUNTKEY"):
        return None
    return fields.get("SHAREDACCESSSIGNATURE", "").removeprefix("?") or None


def sas_window(token: str | None) -> tuple[datetime.datetime | None,
                                                datetime.datetime | None]:
    """(start, expiry) of a SAS token from its `st` and `se` fields, in UTC; None for a field
    that is absent or not an ISO 8601 date-time."""
    query = urllib.parse.parse_qs((token or "").removeprefix("?"))
    return _moment(query.get("st")), _moment(query.get("se"))


def _moment(values: list[str] | None) -> datetime.datetime | None:
    if not values:
        return None
    try:
        moment = datetime.datetime.fromisoformat(values[0].strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def sas_lapsed(token: str | None, now: datetime.datetime) -> str | None:
    """Why a SAS token cannot be valid at `now` ("expired at ...", "is valid only from ..."),
    or None."""
    start, expiry = sas_window(token)
    if expiry is not None and expiry <= now:
        return f"expired at {expiry.isoformat()}"
    if start is not None and start > now:
        return f"is valid only from {start.isoformat()} (check this machine's clock)"
    return None


def is_domain_style(host: str) -> bool:
    """True for a blob service host that names the account (`<account>.blob.core.windows.net`,
    private endpoints, other clouds): there the URL's path starts with the container. Emulators
    and IP addresses put the account first in the path instead."""
    return ".blob." in host.lower()


def container_in_url(url: str) -> str | None:
    """The container name a blob service URL's path names, if it names one."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    segments = [s for s in parts.path.split("/") if s]
    index = 0 if is_domain_style(parts.hostname or "") else 1
    if len(segments) > index and _CONTAINER_NAME.fullmatch(segments[index]):
        return segments[index]
    return None


def _looks_secret(text: str) -> bool:
    return bool("=" in text or ";" in text or len(text) > 120 or _TOKEN_LIKE.search(text))


def shown(value: Any) -> str:
    """A setting's value as an error message may quote it: a URL without its user name,
    password, query string and fragment; text that looks like it holds a credential (a
    connection string, a signature, a key) not at all."""
    if not isinstance(value, str):
        return repr(value)
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        text = f"{parts.scheme}://{host}{parts.path}"
        if _looks_secret(text):
            text = f"{parts.scheme}://{host}" if not _looks_secret(host) else f"{parts.scheme}://"
        cut = parts.query or parts.fragment or "@" in parts.netloc or text != (
            f"{parts.scheme}://{host}{parts.path}")
        return repr(text) + (" (shown without its secret parts)" if cut else "")
    if _looks_secret(value):
        return "a value not shown here (it looks like it holds a credential)"
    return repr(value)
