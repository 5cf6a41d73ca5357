"""The deployer: `osls package`/deploy of infra/serverless.yml (`deploy.py`), the render image (`image.py`), the
Slack secrets (`secrets.py`), the presence document (`documents.py`) and `studiobot doctor`'s preflight
(`doctor.py`)."""
