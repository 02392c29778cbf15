"""`python -m tap_intacct`: the same command as `tap-intacct`."""

from tap_intacct import cli

cli()
