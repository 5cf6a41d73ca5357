"""`studiobot`, the user's CLI: the Typer app (`main.py`), `render`/`upload` (`render.py`, `ship.py`), the one
adapter from a desk's Reply to the terminal (`desk.py`) and what every command shares (`terminal.py`)."""
