"""tap-intacct: a Singer tap for Sage Intacct Data Delivery Service (DDS) exports in Amazon S3
or Azure Blob Storage. The command line lives in cli.py; docs/ARCHITECTURE.md maps the package.
"""

__version__ = "2.0.0"
NAME = "tap-intacct"

from tap_intacct.cli import CAPABILITIES, about, cli, main  # noqa: E402 (needs the names above)

__all__ = ["CAPABILITIES", "NAME", "__version__", "about", "cli", "main"]
