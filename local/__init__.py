"""Everything that runs on a person's machine and is not the product: the user's CLI (`cli/`), the embedded local
stack that plays AWS on 127.0.0.1 (`embedded/`), and the deployer of the real stack (`deployer/`)."""
