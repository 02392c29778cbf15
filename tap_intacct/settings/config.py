"""The config contract: every setting, its meaning, and validation that reports all problems."""

import datetime
import importlib.util
import ipaddress
import re
import urllib.parse
from dataclasses import dataclass
from typing import Optional

from tap_intacct.errors import ConfigError
from tap_intacct.output.batches import BatchConfig, parse_batch_config
from tap_intacct.reading.dialect import DELIMITERS, QUOTECHARS, Dialect


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    required: bool = False
    sensitive: bool = False
    kind: str = "string"


SETTINGS = (
    Setting("start_date", "ISO 8601 date or date-time; files modified after it are replicated "
            "when a stream has no bookmark yet.", required=True, kind="date_iso8601"),
    Setting("storage", "Where Intacct's Data Delivery Service writes: s3 (default) or azure "
            "(Azure Blob Storage; needs pip install 'tap-intacct[azure]')."),
    Setting("bucket", "Name of the S3 bucket Intacct's Data Delivery Service writes to (the name "
            "only, not an s3:// or https:// address). Required for storage s3."),
    Setting("company_id", "Intacct company ID; exports are read from the folder path/company_id/.",
            required=True),
    Setting("path", "Prefix configured in Intacct's cloud storage target, if any."),
    Setting("account_id", "AWS account ID that owns the bucket and the role to assume "
            "(dashes allowed). Set together with role_name and external_id."),
    Setting("role_name", "IAM role to assume in account_id."),
    Setting("external_id", "External ID required by the role's trust policy.", sensitive=True),
    Setting("proxy_account_id", "Optional middle AWS account: its role is assumed first, then "
            "the customer role from it. Set together with proxy_role_name."),
    Setting("proxy_role_name", "IAM role to assume in proxy_account_id."),
    Setting("credentials_cache_path", "Folder where assumed-role credentials are cached between "
            "runs (files are written with mode 0600)."),
    Setting("endpoint_url", "S3-compatible endpoint for S3 only (MinIO, moto, VPC endpoints); "
            "defaults to AWS. STS requests do not go there: see sts_endpoint_url."),
    Setting("sts_endpoint_url", "Endpoint for the STS AssumeRole requests of the role settings "
            "(an STS VPC endpoint, moto); defaults to boto3's choice: AWS, or "
            "AWS_ENDPOINT_URL_STS when set."),
    Setting("container", "Azure Blob Storage container DDS writes to (storage azure)."),
    Setting("azure_account_url", "Blob service URL of the storage account, "
            "https://<account>.blob.core.windows.net (or an Azurite or private endpoint URL). "
            "Required for storage azure unless azure_connection_string gives it."),
    Setting("azure_connection_string", "Storage account connection string (one way to "
            "authenticate to Azure).", sensitive=True),
    Setting("azure_sas_token", "SAS token with Read and List permissions on the container, with "
            "or without its leading '?' (one way to authenticate to Azure).", sensitive=True),
    Setting("azure_tenant_id", "Microsoft Entra tenant ID of the service principal (one way to "
            "authenticate to Azure, with azure_client_id and azure_client_secret). Without any "
            "Azure credential setting, DefaultAzureCredential is used (managed identity, "
            "environment, Azure CLI)."),
    Setting("azure_client_id", "Application (client) ID of the service principal; it needs the "
            "Storage Blob Data Reader role on the container."),
    Setting("azure_client_secret", "Client secret of the service principal.", sensitive=True),
    Setting("delimiter", "The delimiter chosen in the DDS file settings: , (comma) ; | or a tab "
            "(\\t or tab). Unset: found in each file's header line (a line with none of them or "
            "more than one stops its stream). DDS's . delimiter is refused: it is also the "
            "decimal point."),
    Setting("quotechar", "The enclosure (text qualifier) chosen in the DDS file settings: \" "
            "(default) or '."),
    Setting("full_exports", "What a DDS full (all) export means for its stream: append (default: "
            "its records are upserted like any others, as singer-io's tap-intacct did) or "
            "replace (each complete full export becomes a new table version: its records carry "
            "the version and ACTIVATE_VERSION follows its last part, so a target that supports "
            "it drops or soft-deletes the rows the export no longer has). Not with batch_config."),
    Setting("full_export_quiet_seconds", "full_exports replace: a full export job counts as "
            "complete once its newest part is this many seconds old (DDS writes no completion "
            "marker); until then it and every later file of its stream wait. Default 3600, from "
            "60 to 604800 (7 days).", kind="integer"),
    Setting("string_fallback", "Declare typed columns (integer, number, date-time) with a string "
            "alternative, as singer-io's tap-intacct did (default true). false declares plain "
            "integer/number/date-time columns, so warehouses create numeric and timestamp "
            "columns; a value that does not fit then stops its stream with an error naming "
            "file, line and column. Takes effect at discovery.", kind="boolean"),
    Setting("batch_config", "Write records as Singer SDK BATCH messages (JSONL files, gzip) "
            "instead of RECORD messages, for loaders that bulk-load files: {\"encoding\": "
            "{\"format\": \"jsonl\", \"compression\": \"gzip\"}, \"storage\": {\"root\": "
            "\"file:///var/tmp/tap-intacct-batches\" or \"s3://bucket/prefix\", \"prefix\": "
            "\"intacct-\"}, \"batch_size\": 100000}. The tap never deletes batch files.",
            kind="object"),
    Setting("lookback_seconds", "Also read files modified up to this many seconds before the "
            "bookmark that were not synced yet (late multipart uploads). Default 0, at most "
            "2678400 (31 days).",
            kind="integer"),
)

# DDS writes a job's parts within minutes: an hour of quiet leaves room (README "Full exports")
DEFAULT_QUIET_SECONDS = 3600
ROLE_KEYS = ("account_id", "role_name", "external_id")
PROXY_KEYS = ("proxy_account_id", "proxy_role_name")
URL_KEYS = ("endpoint_url", "sts_endpoint_url", "azure_account_url")
SERVICE_PRINCIPAL_KEYS = ("azure_tenant_id", "azure_client_id", "azure_client_secret")
STORAGES = ("s3", "azure")
AZURE_EXTRA = ("azure.storage.blob", "azure.identity")


@dataclass(frozen=True)
class Config:
    start_date: datetime.datetime
    bucket: Optional[str]
    company_id: str
    path: str = ""
    storage: str = "s3"
    container: Optional[str] = None
    azure_account_url: Optional[str] = None
    azure_connection_string: Optional[str] = None
    azure_sas_token: Optional[str] = None
    azure_tenant_id: Optional[str] = None
    azure_client_id: Optional[str] = None
    azure_client_secret: Optional[str] = None
    account_id: Optional[str] = None
    role_name: Optional[str] = None
    external_id: Optional[str] = None
    proxy_account_id: Optional[str] = None
    proxy_role_name: Optional[str] = None
    credentials_cache_path: Optional[str] = None
    endpoint_url: Optional[str] = None
    sts_endpoint_url: Optional[str] = None
    lookback_seconds: int = 0
    delimiter: Optional[str] = None
    full_exports: str = "append"
    full_export_quiet_seconds: int = DEFAULT_QUIET_SECONDS
    quotechar: str = '"'
    string_fallback: bool = True
    batch: Optional[BatchConfig] = None

    @property
    def company_prefix(self):
        """The folder holding the company's exports, always ending in '/'."""
        return "/".join(part for part in (self.path, self.company_id) if part) + "/"

    @property
    def dialect(self):
        return Dialect(self.delimiter, self.quotechar)

    @property
    def role_arn(self):
        if not self.role_name:
            return None
        return f"arn:aws:iam::{self.account_id}:role/{self.role_name}"

    @property
    def proxy_role_arn(self):
        if not self.proxy_role_name:
            return None
        return f"arn:aws:iam::{self.proxy_account_id}:role/{self.proxy_role_name}"


EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
LATEST = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


class OutOfRange(ValueError):
    """A date-time later than the last moment Python can hold in UTC (year 9999)."""


def parse_datetime(text):
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC. Raises ValueError
    (OutOfRange past 9999-12-31T23:59:59.999999Z).

    A moment before 0001-01-01T00:00:00Z (such as 0001-01-01T00:00:00+05:00) reads as that
    instant: no object in a store is older, so nothing changes for any file (README
    "Configuration").
    """
    if not isinstance(text, str):
        raise ValueError(f"not a string: {text!r}")  # noqa: TRY004 (callers catch ValueError)
    parsed = datetime.datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    try:
        return parsed.astimezone(datetime.timezone.utc)
    except OverflowError:
        if parsed.year == datetime.MINYEAR:
            return EARLIEST
        raise OutOfRange(f"{text.strip()!r} is after 9999-12-31T23:59:59.999999Z, the latest "
                         "date-time the tap can hold") from None


def validate(raw, source="config"):
    """Return a Config for the raw dict, or raise ConfigError listing every problem found."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: must be a JSON object of settings")
    problems = []
    mistyped = set()  # reported once, as the wrong type, never also as missing
    values = _strings(raw, problems, source, mistyped)
    values["start_date"] = _start_date(values["start_date"], problems, source)
    values["storage"] = (values["storage"] or "s3").lower()
    if values["storage"] not in STORAGES:
        problems.append(f"{source}: 'storage' must be s3 or azure, got {values['storage']!r}")
    elif values["storage"] == "azure":
        problems += _azure_problems(values, source, mistyped)
    elif values["bucket"] is None:
        hint = " (or set storage: azure to read 'container')" if values["container"] else ""
        problems.append(f"{source}: 'bucket' is required for storage s3{hint}")
    problems += _bucket_problems(values["bucket"], source)
    if values["company_id"] is not None and "/" in values["company_id"]:
        problems.append(f"{source}: 'company_id' must not contain '/': {values['company_id']!r}")
    values["path"] = (values["path"] or "").strip("/")
    problems += _role_problems(values, source, mistyped)
    problems += [problem for key in URL_KEYS for problem in _url_problems(key, values[key], source)]
    values["lookback_seconds"] = _lookback(raw.get("lookback_seconds"), problems, source)
    values["string_fallback"] = _boolean(raw, "string_fallback", True, problems, source)
    values["delimiter"], values["quotechar"] = _dialect(raw, problems, source)
    values["batch"] = parse_batch_config(raw.get("batch_config"), problems, source)
    values["full_exports"], values["full_export_quiet_seconds"] = _full_exports(
        raw, values["batch"], problems, source)
    if problems:
        raise ConfigError(*problems)
    return Config(**values)


def _strings(raw, problems, source, mistyped):
    values = {}
    for setting in SETTINGS:
        if (setting.kind not in ("string", "date_iso8601") or setting.name in DIALECT_KEYS
                or setting.name in FULL_EXPORT_KEYS):
            continue
        value = raw.get(setting.name)
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and not isinstance(value, str):
            problems.append(f"{source}: '{setting.name}' must be a string, "
                            f"got {type(value).__name__}")
            mistyped.add(setting.name)
            value = None
        elif value is None and setting.required:
            problems.append(f"{source}: '{setting.name}' is required ({setting.description})")
        values[setting.name] = value
    return values


def _start_date(text, problems, source):
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except OutOfRange as exc:
        problems.append(f"{source}: 'start_date' {exc}")
        return None
    except ValueError:
        problems.append(f"{source}: 'start_date' is not an ISO 8601 date or date-time: "
                        f"{text!r} (example: 2024-01-01T00:00:00Z)")
        return None


def _bucket_problems(bucket, source):
    if bucket is None:
        return []
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", bucket):
        return [f"{source}: 'bucket' must be the bucket name only, not an address: {bucket!r}; "
                "put any folder in 'path'"]
    if "/" in bucket:
        return [f"{source}: 'bucket' must be the bucket name only, without slashes: "
                f"{bucket!r}; put any folder in 'path'"]
    if re.search(r"\s", bucket):
        return [f"{source}: 'bucket' must not contain spaces: {bucket!r}"]
    return []


def _azure_problems(values, source, mistyped):
    problems = []
    container = values["container"]
    if container is None:
        problems.append(f"{source}: 'container' is required for storage azure (the container "
                        "Intacct's Data Delivery Service writes to)")
    elif not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", container):
        problems.append(f"{source}: 'container' must be an Azure container name (3 to 63 "
                        f"lowercase letters, digits and single hyphens), got {container!r}")
    if values["azure_account_url"] is None and values["azure_connection_string"] is None:
        problems.append(f"{source}: 'azure_account_url' is required for storage azure (such as "
                        "https://<account>.blob.core.windows.net), unless "
                        "'azure_connection_string' is set")
    url = values["azure_account_url"] or ""
    token_credential = not (values["azure_connection_string"] or values["azure_sas_token"])
    if token_credential and url.lower().startswith("http://"):
        problems.append(f"{source}: 'azure_account_url' must be https:// with a service "
                        "principal or DefaultAzureCredential (Azure sends their tokens over TLS "
                        f"only), got {url!r}; use azure_connection_string or azure_sas_token "
                        "for an http:// emulator")
    ways = [way for way, keys in (("azure_connection_string", ["azure_connection_string"]),
                                  ("azure_sas_token", ["azure_sas_token"]),
                                  ("a service principal", SERVICE_PRINCIPAL_KEYS))
            if any(values[key] for key in keys)]
    if len(ways) > 1:
        problems.append(f"{source}: give one way to authenticate to Azure, not {len(ways)}: "
                        f"{' and '.join(ways)}")
    problems += _check_together(values, SERVICE_PRINCIPAL_KEYS, source, mistyped)
    if values["azure_sas_token"] is not None:
        values["azure_sas_token"] = values["azure_sas_token"].removeprefix("?")
        if "sig=" not in values["azure_sas_token"]:
            problems.append(f"{source}: 'azure_sas_token' is not a SAS token (it has no 'sig=' "
                            "part); copy the whole token")
    missing = [module for module in AZURE_EXTRA if not _importable(module)]
    if missing:
        problems.append(f"{source}: storage azure needs the Azure SDK ({', '.join(missing)} is "
                        "not installed): pip install 'tap-intacct[azure]'")
    return problems


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _role_problems(values, source, mistyped):
    problems = _check_together(values, ROLE_KEYS, source, mistyped)
    problems += _check_together(values, PROXY_KEYS, source, mistyped)
    if any(values[k] for k in PROXY_KEYS) and not any(values[k] for k in ROLE_KEYS):
        problems.append(f"{source}: proxy settings need the customer role settings too: "
                        f"set {', '.join(repr(k) for k in ROLE_KEYS)}")
    for key in ("account_id", "proxy_account_id"):
        if values[key] is not None:
            digits = values[key].replace("-", "")
            if not re.fullmatch(r"[0-9]{12}", digits):
                problems.append(f"{source}: '{key}' must be a 12-digit AWS account ID "
                                f"(dashes allowed), got {values[key]!r}")
            values[key] = digits
    if values["external_id"] is not None and len(values["external_id"]) < 2:
        problems.append(f"{source}: 'external_id' must be at least 2 characters (AWS STS rule)")
    return problems


# a DNS name: dot-separated labels of letters, digits and inner hyphens (what botocore accepts)
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


def _url_problems(key, url, source):
    if url is None:
        return []
    problem = [f"{source}: '{key}' must be an http:// or https:// URL with a host name, "
               f"such as https://s3.eu-west-1.amazonaws.com, got {url!r}"]
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return problem
    if parts.scheme.lower() not in ("http", "https") or not _valid_host(parts.hostname):
        return problem
    return []


def _valid_host(host):
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


MAX_LOOKBACK_SECONDS = 31 * 86400  # a month of exports; the state lists every key in the window


def _lookback(value, problems, source):
    if value in (None, ""):
        return 0
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        value = int(value)
    if (isinstance(value, bool) or not isinstance(value, int)
            or not 0 <= value <= MAX_LOOKBACK_SECONDS):
        problems.append(f"{source}: 'lookback_seconds' must be a whole number of seconds from 0 "
                        f"to {MAX_LOOKBACK_SECONDS} (31 days), got {value!r}")
        return 0
    return value


def _boolean(raw, name, default, problems, source):
    value = raw.get(name)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    problems.append(f"{source}: '{name}' must be true or false, got {value!r}")
    return default


FULL_EXPORTS = ("append", "replace")
FULL_EXPORT_KEYS = ("full_exports",)  # checked by _full_exports
MIN_QUIET_SECONDS, MAX_QUIET_SECONDS = 60, 7 * 86400


def _full_exports(raw, batch, problems, source):
    """(full_exports, full_export_quiet_seconds), checked."""
    mode = raw.get("full_exports")
    mode = mode.strip().lower() if isinstance(mode, str) and mode.strip() else (
        "append" if mode in (None, "") else mode)
    if mode not in FULL_EXPORTS:
        problems.append(f"{source}: 'full_exports' must be append or replace, got {mode!r}")
        mode = "append"
    elif mode == "replace" and batch is not None:
        problems.append(f"{source}: 'full_exports' replace cannot be combined with "
                        "'batch_config': batch files cannot carry the table version a target "
                        "needs to keep or drop rows; use RECORD messages (no batch_config) or "
                        "full_exports append")
    quiet = _whole_number(raw.get("full_export_quiet_seconds"), "full_export_quiet_seconds",
                          (MIN_QUIET_SECONDS, MAX_QUIET_SECONDS), DEFAULT_QUIET_SECONDS,
                          problems=problems, source=source)
    return mode, quiet


def _whole_number(value, name, bounds, default, *, problems, source):
    if value in (None, ""):
        return default
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        value = int(value)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{source}: '{name}' must be a whole number from {low} to {high}, "
                        f"got {value!r}")
        return default
    return value


DIALECT_KEYS = ("delimiter", "quotechar")  # checked by _dialect, never stripped
TAB_NAMES = ("\t", "\\t", "tab")  # a tab, as JSON, YAML or an environment variable may give it


def _dialect(raw, problems, source):
    """(delimiter or None to detect it, quotechar) of the `delimiter` and `quotechar` settings;
    the values are not stripped (a tab is a delimiter)."""
    delimiter, quotechar = raw.get("delimiter"), raw.get("quotechar")
    if delimiter in (None, ""):
        delimiter = None
    elif isinstance(delimiter, str) and delimiter.lower() in TAB_NAMES:
        delimiter = "\t"
    elif delimiter == ".":
        problems.append(f"{source}: 'delimiter' '.' cannot be read losslessly: DDS does not "
                        "enclose numbers, so 12.50 would be split in two; choose ',' or ';' in "
                        "DDS's file settings")
        delimiter = None
    elif delimiter not in DELIMITERS:
        problems.append(f"{source}: 'delimiter' must be one character of , ; | or a tab "
                        f"(\\t), got {delimiter!r}")
        delimiter = None
    if quotechar in (None, ""):
        quotechar = '"'
    elif quotechar not in QUOTECHARS:
        problems.append(f"{source}: 'quotechar' must be \" or ', got {quotechar!r}")
        quotechar = '"'
    return delimiter, quotechar


def _check_together(values, keys, source, mistyped=frozenset()):
    present = [k for k in keys if values.get(k) is not None or k in mistyped]
    if not present or len(present) == len(keys):
        return []
    missing = [k for k in keys if k not in present]
    return [f"{source}: '{k}' is missing; {', '.join(repr(p) for p in present)} "
            f"{'is' if len(present) == 1 else 'are'} set and "
            f"{', '.join(repr(k) for k in keys)} go together" for k in missing]
