from metrics.cli import cli

cli()
