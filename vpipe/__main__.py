from vpipe.cli.app import app

app()
