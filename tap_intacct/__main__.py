from tap_intacct import cli

cli()
