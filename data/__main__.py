from data.cli import cli

cli()
