"""Shared fixtures: every device test runs on the CPU, and on CUDA too when a GPU is present; a real
PostgreSQL server for the gradebook tests (``tests/postgres.py``), skipped with the reason where none
can be started."""

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def rng() -> torch.Generator:
    """A CPU generator with a fixed seed: draw on the CPU, then move, so data match across devices."""
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on a loopback port for the whole session, stopped and removed after it."""
    from tests.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer.start()
    except PostgresUnavailable as err:
        pytest.skip(f"no PostgreSQL server: {err}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """The URL of an empty database on the session's server (``postgresql://postgres@127.0.0.1:PORT/…``)."""
    return postgres_server.create_database("session")


@pytest.fixture
def postgres_db(postgres_server, request) -> str:
    """The URL of a new empty database of this test's own (named after it) on the session's server."""
    return postgres_server.create_database(f"t_{request.node.name}")
