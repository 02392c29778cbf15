"""The config contract: every setting declared once, as a typed field of Config with its parser,
default, meaning and whether it is secret (SETTINGS lists them), the rules between settings, and
validation that reports all problems.

`--about`, meltano.yml and the README's table are written from SETTINGS (`make settings-docs`;
tests/unit/test_docs.py checks they agree)."""

import dataclasses
import datetime
import importlib.util
import ipaddress
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tap_intacct.errors import ConfigError
from tap_intacct.reading import pgpkeys
from tap_intacct.reading.dialect import DELIMITERS, QUOTECHARS, Dialect
from tap_intacct.reading.pgpkeys import Keyring
from tap_intacct.settings.batch_config import BatchConfig, parse_batch_config
from tap_intacct.settings.secrets import (
    connection_string_fields,
    container_in_url,
    is_domain_style,
    shown,
)
from tap_intacct.values.datetimes import Invalid, checked_datetime

# A setting's parser: (value as given, never None or "", label such as "config: 'bucket'") ->
# the value to use (None: as if unset), or Invalid.
Parse = Callable[[Any, str], Any]


def _text(value: Any, label: str) -> str | None:
    if not isinstance(value, str):
        raise Invalid(f"{label} must be a string, got {type(value).__name__}")
    return value.strip() or None


def _text_then(check: Callable[[str, str], Any]) -> Parse:
    """A parser for text that `check(text, label)` then converts or refuses."""
    def parse(value: Any, label: str) -> Any:
        text = _text(value, label)
        return None if text is None else check(text, label)
    return parse


def _date_time(text: str, label: str) -> datetime.datetime:
    return checked_datetime(text, label, out_of_range=" ", invalid=(
        f" is not an ISO 8601 date or date-time: {shown(text)} (example: 2024-01-01T00:00:00Z)"))


def _storage(text: str, label: str) -> str:
    if text.lower() not in STORAGES:
        raise Invalid(f"{label} must be s3 or azure, got {text.lower()!r}")
    return text.lower()


def _bucket(bucket: str, label: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", bucket):
        raise Invalid(f"{label} must be the bucket name only, not an address: {shown(bucket)}; put "
                      "any folder in 'path'")
    if "/" in bucket:
        raise Invalid(f"{label} must be the bucket name only, without slashes: "
                      f"{shown(bucket)}; put any folder in 'path'")
    if re.search(r"\s", bucket):
        raise Invalid(f"{label} must not contain spaces: {shown(bucket)}")
    return bucket


def _company_id(text: str, label: str) -> str:
    if "/" in text:
        raise Invalid(f"{label} must not contain '/': {shown(text)}")
    return text


def _path(text: str, _label: str) -> str:
    return text.strip("/")


def _account_id(text: str, label: str) -> str:
    digits = text.replace("-", "")
    if not re.fullmatch(r"[0-9]{12}", digits):
        raise Invalid(f"{label} must be a 12-digit AWS account ID (dashes allowed), got "
                      f"{shown(text)}")
    return digits


def _external_id(text: str, label: str) -> str:
    if len(text) < 2:
        raise Invalid(f"{label} must be at least 2 characters (AWS STS rule)")
    return text


# a DNS name: dot-separated labels of letters, digits and inner hyphens (what botocore accepts)
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


def _url(url: str, label: str) -> str:
    problem = Invalid(f"{label} must be an http:// or https:// URL with a host name, such as "
                      f"https://s3.eu-west-1.amazonaws.com, got {shown(url)}")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise problem from None
    if parts.scheme.lower() not in ("http", "https") or not _valid_host(parts.hostname):
        raise problem
    return url


def _azure_account_url(url: str, label: str) -> str:
    """The blob service URL of a storage account: no query string (a pasted "Blob SAS URL"
    holds the token's signature, which no message may repeat) and, on a domain-style host,
    no path (the container has its own setting)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and (parts.query or parts.fragment):
        container = container_in_url(url)
        raise Invalid(
            f"{label} must be the storage account's blob service URL without a query string, "
            "such as https://<account>.blob.core.windows.net; it looks like a SAS URL: put the "
            "token (the part after '?') in 'azure_sas_token'"
            + (f" and the container name {container!r} in 'container'" if container else "")
            + " (the URL is not repeated here: it holds the token's signature)")
    url = _url(url, label)
    parts = urllib.parse.urlsplit(url)
    if is_domain_style(parts.hostname or "") and parts.path.strip("/"):
        container = container_in_url(url)
        raise Invalid(f"{label} must be the storage account's blob service URL without a path, "
                      f"such as {parts.scheme}://{parts.hostname}: put the container name"
                      + (f" {container!r}" if container else "") + " in 'container' (and any "
                      "folder in 'path')")
    return url


def _valid_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.removesuffix(".").split(".")
    return len(host) <= 255 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _whole_number(low: int, high: int, what: str = "a whole number", note: str = "") -> Parse:
    """A parser for a whole number from low to high, given as a JSON number or as digits."""
    def parse(value: Any, label: str) -> int:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"{label} must be {what} from {low} to {high}{note}, got {value!r}")
        return value
    return parse


def _boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Invalid(f"{label} must be true or false, got {value!r}")


TAB_NAMES = ("\t", "\\t", "tab")  # a tab, as JSON, YAML or an environment variable may give it


def _delimiter(value: Any, label: str) -> str:
    """Not stripped: a tab is a delimiter."""
    if isinstance(value, str) and value.lower() in TAB_NAMES:
        return "\t"
    if value == ".":
        raise Invalid(f"{label} '.' cannot be read losslessly: DDS does not enclose numbers, so "
                      "12.50 would be split in two; choose ',' or ';' in DDS's file settings")
    if value not in DELIMITERS:
        raise Invalid(f"{label} must be one character of , ; | or a tab (\\t), got {value!r}")
    return value


def _quotechar(value: Any, label: str) -> str:
    if value not in QUOTECHARS:
        raise Invalid(f"{label} must be \" or ', got {value!r}")
    return value


FULL_EXPORTS = ("append", "replace")


def _full_exports(value: Any, label: str) -> str:
    mode = value.strip().lower() if isinstance(value, str) and value.strip() else value
    if mode not in FULL_EXPORTS:
        raise Invalid(f"{label} must be append or replace, got {mode!r}")
    return mode


def _secret(value: Any, label: str) -> str | None:
    """Text kept as given (a passphrase may begin or end with a space); never shown."""
    if not isinstance(value, str):
        raise Invalid(f"{label} must be a string, got {type(value).__name__}")
    return value if value.strip() else None


LISTINGS = ("streams", "folder", "events")


def _listing(value: Any, label: str) -> str:
    mode = value.strip().lower() if isinstance(value, str) and value.strip() else value
    if mode not in LISTINGS:
        raise Invalid(f"{label} must be streams, folder or events, got {mode!r}")
    return mode


def _queue_url(url: str, label: str) -> str:
    """A queue's URL: no query string (a pasted SAS URL holds its signature) or fragment."""
    if "?" in url or "#" in url:
        raise Invalid(f"{label} must be the queue's URL without a query string (a SAS token "
                      "goes in 'azure_sas_token'; the URL is not repeated here)")
    url = _url(url, label)
    if not urllib.parse.urlsplit(url).path.strip("/"):
        raise Invalid(f"{label} must name the queue: https://sqs.<region>.amazonaws.com/"
                      "<account>/<queue> (SQS) or https://<account>.queue.core.windows.net/"
                      f"<queue> (Azure), got {shown(url)}")
    return url.rstrip("/")


@dataclass(frozen=True)
class Setting:
    """One config key (its name is its Config field's): `parse` checks and converts a value that
    is given (not null or ""); an unset key (or one parsed to None) takes `default`, or is
    reported when `required`."""

    name: str
    description: str
    parse: Parse = _text
    default: Any = None
    required: bool = False
    sensitive: bool = False  # never logged; meltano.yml marks it sensitive
    kind: str = "string"     # meltano.yml's kind


_SETTING = "setting"  # the key of a Config field's metadata that holds its Setting


def setting(description: str, parse: Parse = _text, default: Any = None, *,
            required: bool = False, sensitive: bool = False, kind: str = "string") -> Any:
    """A field of Config that is the setting of its name: declared there once, with its type
    (SETTINGS lists the fields' Settings in field order). A sensitive one is left out of
    Config's repr; a required one has no default (validate reports it missing)."""
    about = Setting("", description, parse, default, required, sensitive, kind)
    if required:
        return field(repr=not sensitive, metadata={_SETTING: about})
    return field(default=default, repr=not sensitive, metadata={_SETTING: about})


# DDS writes a job's parts within minutes: an hour of quiet leaves room (README "Full exports")
DEFAULT_QUIET_SECONDS = 3600
MIN_QUIET_SECONDS, MAX_QUIET_SECONDS = 60, 7 * 86400
MAX_LOOKBACK_SECONDS = 31 * 86400  # a month of exports; the state lists every key in the window
STORAGES = ("s3", "azure")


@dataclass(frozen=True, kw_only=True)
class Config:
    """The checked settings (`validate`): each setting is one field here, declared once with its
    type, description, parser and default; SETTINGS, `--about`, meltano.yml and the README's
    table are derived from these fields."""

    start_date: datetime.datetime = setting(
        "ISO 8601 date or date-time; files modified after it are replicated "
        "when a stream has no bookmark yet.", _text_then(_date_time), required=True,
        kind="date_iso8601")
    storage: str = setting(
        "Where Intacct's Data Delivery Service writes: s3 (default) or azure "
        "(Azure Blob Storage; needs pip install 'tap-intacct[azure]').", _text_then(_storage),
        default="s3")
    bucket: str | None = setting(
        "Name of the S3 bucket Intacct's Data Delivery Service writes to (the name "
        "only, not an s3:// or https:// address). Required for storage s3.",
        _text_then(_bucket))
    company_id: str = setting(
        "Intacct company ID; exports are read from the folder path/company_id/.",
        _text_then(_company_id), required=True)
    path: str = setting(
        "Prefix configured in Intacct's cloud storage target, if any.",
        _text_then(_path), default="")
    account_id: str | None = setting(
        "AWS account ID that owns the bucket and the role to assume "
        "(dashes allowed). Set together with role_name and external_id.",
        _text_then(_account_id))
    role_name: str | None = setting(
        "IAM role to assume in account_id.")
    external_id: str | None = setting(
        "External ID required by the role's trust policy.",
        _text_then(_external_id), sensitive=True)
    proxy_account_id: str | None = setting(
        "Optional middle AWS account: its role is assumed first, then "
        "the customer role from it. Set together with proxy_role_name.",
        _text_then(_account_id))
    proxy_role_name: str | None = setting(
        "IAM role to assume in proxy_account_id.")
    credentials_cache_path: str | None = setting(
        "Folder where assumed-role credentials are cached between "
        "runs (files are written with mode 0600; one that cannot be used is ignored with a "
        "warning and rewritten).")
    endpoint_url: str | None = setting(
        "S3-compatible endpoint for S3 only (MinIO, moto, VPC endpoints); "
        "defaults to AWS. STS requests do not go there: see sts_endpoint_url.",
        _text_then(_url))
    sts_endpoint_url: str | None = setting(
        "Endpoint for the STS AssumeRole requests of the role settings "
        "(an STS VPC endpoint, moto); defaults to boto3's choice: AWS, or "
        "AWS_ENDPOINT_URL_STS when set.", _text_then(_url))
    container: str | None = setting(
        "Azure Blob Storage container DDS writes to (storage azure).")
    azure_account_url: str | None = setting(
        "Blob service URL of the storage account, "
        "https://<account>.blob.core.windows.net (or an Azurite or private endpoint URL), "
        "without the container or a SAS token. Required for storage azure unless "
        "azure_connection_string gives it.",
        _text_then(_azure_account_url))
    azure_connection_string: str | None = setting(
        "Storage account connection string, with an account "
        "key or a SharedAccessSignature (one way to authenticate to Azure).",
        sensitive=True)
    azure_sas_token: str | None = setting(
        "SAS token with Read and List permissions on the container, with "
        "or without its leading '?' (one way to authenticate to Azure).", sensitive=True)
    azure_tenant_id: str | None = setting(
        "Microsoft Entra tenant ID of the service principal (one way to "
        "authenticate to Azure, with azure_client_id and azure_client_secret). Without any "
        "Azure credential setting, DefaultAzureCredential is used (managed identity, "
        "environment, Azure CLI).")
    azure_client_id: str | None = setting(
        "Application (client) ID of the service principal; it needs the "
        "Storage Blob Data Reader role on the container.")
    azure_client_secret: str | None = setting(
        "Client secret of the service principal.", sensitive=True)
    delimiter: str | None = setting(
        "The delimiter chosen in the DDS file settings: , (comma) ; | or a tab "
        "(\\t or tab). Unset: found in each file's header line (a line with none of them or "
        "more than one stops its stream). DDS's . delimiter is refused: it is also the "
        "decimal point.", _delimiter)
    quotechar: str = setting(
        "The enclosure (text qualifier) chosen in the DDS file settings: \" "
        "(default) or '.", _quotechar, default='"')
    full_exports: str = setting(
        "What a DDS full (all) export means for its stream: append (default: "
        "its records are upserted like any others, as singer-io's tap-intacct did) or "
        "replace (DDS jobs applied in job order; each complete full export becomes a new "
        "table version: its records carry the version and ACTIVATE_VERSION follows its last "
        "part, so a target that supports it drops or soft-deletes the rows the export no "
        "longer has; what the newest complete full export supersedes is not read). Not with "
        "batch_config.",
        _full_exports, default="append")
    full_export_quiet_seconds: int = setting(
        "full_exports replace: a full export job counts as "
        "complete once its newest part is this many seconds old (DDS writes no completion "
        "marker); until then it and every later job of its stream wait (a change job's "
        "later jobs wait likewise). Default 3600, from "
        "60 to 604800 (7 days).", _whole_number(MIN_QUIET_SECONDS, MAX_QUIET_SECONDS),
        default=DEFAULT_QUIET_SECONDS, kind="integer")
    string_fallback: bool = setting(
        "Declare typed columns (integer, number, date-time) with a string "
        "alternative, as singer-io's tap-intacct did (default true). false declares plain "
        "integer/number/date-time columns, so warehouses create numeric and timestamp "
        "columns; a value that does not fit then stops its stream with an error naming "
        "file, line and column. Takes effect at discovery.", _boolean, default=True,
        kind="boolean")
    batch_config: BatchConfig | None = setting(
        "Write records as Singer SDK BATCH messages (JSONL files, gzip) "
        "instead of RECORD messages, for loaders that bulk-load files: {\"encoding\": "
        "{\"format\": \"jsonl\", \"compression\": \"gzip\"}, \"storage\": {\"root\": "
        "\"file:///var/tmp/tap-intacct-batches\" or \"s3://bucket/prefix\", \"prefix\": "
        "\"intacct-\"}, \"batch_size\": 100000}. The tap never deletes batch files.",
        parse_batch_config, kind="object")
    lookback_seconds: int = setting(
        "Also read files modified up to this many seconds before the "
        "bookmark that were not synced yet (late multipart uploads). Default 0, at most "
        "2678400 (31 days).",
        _whole_number(0, MAX_LOOKBACK_SECONDS, "a whole number of seconds", " (31 days)"),
        default=0,
        kind="integer")
    pgp_private_key: str | None = setting(
        "For PGP-encrypted exports: the ASCII-armored private key whose "
        "public key DDS encrypts to (-----BEGIN PGP PRIVATE KEY BLOCK----- ...); several "
        "blocks one after the other while keys are rotated. Unencrypted files are read as "
        "usual. Needs pip install 'tap-intacct[pgp]' (README \"Encrypted exports\").",
        _secret, sensitive=True)
    pgp_passphrase: str | None = setting(
        "The passphrase of pgp_private_key, if it has one.", _secret,
        sensitive=True)
    listing: str = setting(
        "How a sync finds new files: streams (default: each selected stream's "
        "own files, <path>/<company_id>/<OBJECT>.*, several streams listed at once), "
        "folder (the whole company folder in one listing: fewest requests for a small "
        "folder) or events (the new files named by the bucket's event notifications in "
        "events_queue, with a full listing of each stream every "
        "events_full_listing_hours). Discovery and --test always list the folder.",
        _listing, default="streams")
    events_queue: str | None = setting(
        "listing events: the URL of the queue the storage's events are "
        "delivered to, https://sqs.<region>.amazonaws.com/<account>/<queue> (S3 event "
        "notifications, ObjectCreated, to SQS) or https://<account>.queue.core.windows.net/"
        "<queue> (Azure Event Grid BlobCreated events to a storage queue); reached with the "
        "store's credentials. One queue per tap process.", _text_then(_queue_url))
    events_full_listing_hours: int = setting(
        "listing events: list each selected stream in full "
        "when its last full listing is this many hours old (the first run lists; the state "
        "keeps the time), so that an event the queue lost delays a file, never loses it. "
        "Default 24, from 1 to 720.", _whole_number(1, 720), default=24, kind="integer")

    # derived from the settings by validate: the keys of pgp_private_key, parsed and unlocked
    pgp_keys: Keyring | None = field(default=None, repr=False, compare=False)

    @property
    def company_prefix(self) -> str:
        """The folder holding the company's exports, always ending in '/'."""
        return "/".join(part for part in (self.path, self.company_id) if part) + "/"

    @property
    def dialect(self) -> Dialect:
        return Dialect(self.delimiter, self.quotechar)

    @property
    def role_arn(self) -> str | None:
        if not self.role_name:
            return None
        return f"arn:aws:iam::{self.account_id}:role/{self.role_name}"

    @property
    def proxy_role_arn(self) -> str | None:
        if not self.proxy_role_name:
            return None
        return f"arn:aws:iam::{self.proxy_account_id}:role/{self.proxy_role_name}"


SETTINGS: tuple[Setting, ...] = tuple(
    dataclasses.replace(item.metadata[_SETTING], name=item.name)
    for item in dataclasses.fields(Config) if _SETTING in item.metadata)

ROLE_KEYS = ("account_id", "role_name", "external_id")
PROXY_KEYS = ("proxy_account_id", "proxy_role_name")
SERVICE_PRINCIPAL_KEYS = ("azure_tenant_id", "azure_client_id", "azure_client_secret")
AZURE_EXTRA = ("azure.storage.blob", "azure.identity")


def validate(raw: Any, source: str = "config") -> Config:
    """Return a Config for the raw dict, or raise ConfigError listing every problem found: each
    key's own (its Setting's parser), then the rules between keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: must be a JSON object of settings")
    problems: list[str] = []
    values: dict[str, Any] = {}
    invalid: set[str] = set()  # reported once, as what is wrong, never also as missing
    for setting in SETTINGS:
        label = f"{source}: '{setting.name}'"
        value = raw.get(setting.name)
        if value is not None and value != "":
            try:
                value = setting.parse(value, label)
            except Invalid as exc:
                problems += exc.problems
                invalid.add(setting.name)
                value = None
        else:
            value = None
        if value is None:
            if setting.required and setting.name not in invalid:
                problems.append(f"{label} is required ({setting.description})")
            value = setting.default
        values[setting.name] = value
    problems += _storage_problems(values, source, invalid)
    problems += _role_problems(values, source, invalid)
    if values["full_exports"] == "replace" and values["batch_config"] is not None:
        problems.append(f"{source}: 'full_exports' replace cannot be combined with "
                        "'batch_config': batch files cannot carry the table version a target "
                        "needs to keep or drop rows; use RECORD messages (no batch_config) or "
                        "full_exports append")
    problems += _pgp_problems(values, source, invalid)
    if (values["listing"] == "events" and values["events_queue"] is None
            and "events_queue" not in invalid):
        problems.append(f"{source}: 'events_queue' is required for listing events (the URL of "
                        "the queue the bucket's or container's events are delivered to; README "
                        "'Event mode')")
    if problems:
        raise ConfigError(*problems)
    return Config(**values)


def _storage_problems(values: dict[str, Any], source: str, invalid: set[str]) -> list[str]:
    if "storage" in invalid:
        return []
    if values["storage"] == "azure":
        return _azure_problems(values, source, invalid)
    if values["bucket"] is None and "bucket" not in invalid:
        hint = " (or set storage: azure to read 'container')" if values["container"] else ""
        return [f"{source}: 'bucket' is required for storage s3{hint}"]
    return []


def _azure_problems(values: dict[str, Any], source: str, invalid: set[str]) -> list[str]:
    problems = []
    container = values["container"]
    if container is None:
        if "container" not in invalid:
            problems.append(f"{source}: 'container' is required for storage azure (the "
                            "container Intacct's Data Delivery Service writes to)")
    elif not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", container):
        problems.append(f"{source}: 'container' must be an Azure container name (3 to 63 "
                        f"lowercase letters, digits and single hyphens), got {shown(container)}")
    if (values["azure_account_url"] is None and "azure_account_url" not in invalid
            and values["azure_connection_string"] is None):
        problems.append(f"{source}: 'azure_account_url' is required for storage azure (such as "
                        "https://<account>.blob.core.windows.net), unless "
                        "'azure_connection_string' is set")
    url = values["azure_account_url"] or ""
    token_credential = not (values["azure_connection_string"] or values["azure_sas_token"])
    if token_credential and url.lower().startswith("http://"):
        problems.append(f"{source}: 'azure_account_url' must be https:// with a service "
                        "principal or DefaultAzureCredential (Azure sends their tokens over TLS "
                        f"only), got {shown(url)}; use azure_connection_string or azure_sas_token "
                        "for an http:// emulator")
    ways = [way for way, keys in (("azure_connection_string", ["azure_connection_string"]),
                                  ("azure_sas_token", ["azure_sas_token"]),
                                  ("a service principal", SERVICE_PRINCIPAL_KEYS))
            if any(values[key] for key in keys)]
    if len(ways) > 1:
        problems.append(f"{source}: give one way to authenticate to Azure, not {len(ways)}: "
                        f"{' and '.join(ways)}")
    problems += _check_together(values, SERVICE_PRINCIPAL_KEYS, source, invalid)
    fields = connection_string_fields(values["azure_connection_string"] or "")
    if ("SHAREDACCESSSIGNATURE" in fields and not fields.get("ACCOUNTKEY")
            and "sig=" not in fields["SHAREDACCESSSIGNATURE"]):
        problems.append(f"{source}: 'azure_connection_string' holds a SharedAccessSignature "
                        "that is not a SAS token (it has no 'sig=' part); copy the whole "
                        "connection string")
    if values["azure_sas_token"] is not None:
        values["azure_sas_token"] = values["azure_sas_token"].removeprefix("?")
        if "sig=" not in values["azure_sas_token"]:
            problems.append(f"{source}: 'azure_sas_token' is not a SAS token (it has no 'sig=' "
                            "part); copy the whole token")
    missing = [module for module in AZURE_EXTRA if not _importable(module)]
    if values["listing"] == "events" and not _importable("azure.storage.queue"):
        missing.append("azure.storage.queue")
    if missing:
        problems.append(f"{source}: storage azure needs the Azure SDK ({', '.join(missing)} is "
                        "not installed): pip install 'tap-intacct[azure]'")
    return problems


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _pgp_problems(values: dict[str, Any], source: str, invalid: set[str]) -> list[str]:
    """The keys of pgp_private_key parsed and unlocked (values["pgp_keys"]), or why not."""
    key, passphrase = values["pgp_private_key"], values["pgp_passphrase"]
    if key is None:
        if passphrase is not None and "pgp_private_key" not in invalid:
            return [f"{source}: 'pgp_passphrase' is set but 'pgp_private_key' is not"]
        return []
    try:
        values["pgp_keys"] = pgpkeys.load(key, passphrase, "'pgp_private_key'",
                                          "'pgp_passphrase'")
    except pgpkeys.KeyProblem as exc:
        return [f"{source}: {problem}" for problem in exc.problems]
    return []


def _role_problems(values: dict[str, Any], source: str, invalid: set[str]) -> list[str]:
    problems = _check_together(values, ROLE_KEYS, source, invalid)
    problems += _check_together(values, PROXY_KEYS, source, invalid)
    if (any(values[k] or k in invalid for k in PROXY_KEYS)
            and not any(values[k] or k in invalid for k in ROLE_KEYS)):
        problems.append(f"{source}: proxy settings need the customer role settings too: "
                        f"set {', '.join(repr(k) for k in ROLE_KEYS)}")
    return problems


def _check_together(values: dict[str, Any], keys: tuple[str, ...], source: str,
                    invalid: set[str]) -> list[str]:
    present = [k for k in keys if values.get(k) is not None or k in invalid]
    if not present or len(present) == len(keys):
        return []
    missing = [k for k in keys if k not in present]
    return [f"{source}: '{k}' is missing; {', '.join(repr(p) for p in present)} "
            f"{'is' if len(present) == 1 else 'are'} set and "
            f"{', '.join(repr(k) for k in keys)} go together" for k in missing]
