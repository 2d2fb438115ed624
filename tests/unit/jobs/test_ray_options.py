"""Where Ray jobs run: joining a cluster passes no local sizes; Ray stays unimported."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer

from traindex.cli.distribution import ray_options
from traindex.jobs import ray as ray_jobs
from traindex.jobs.ray import RayOptions, ray_session


class _FakeRay:
    """Records ``init`` calls (a unit test of the arguments; the integration tests join a
    real two-node cluster)."""

    def __init__(self) -> None:
        self.inits: list[dict[str, Any]] = []
        self.shut = False

    def is_initialized(self) -> bool:
        return bool(self.inits) and not self.shut

    def init(self, **kwargs: Any) -> None:
        self.inits.append(kwargs)

    def shutdown(self) -> None:
        self.shut = True


@pytest.fixture
def fake_ray(monkeypatch: pytest.MonkeyPatch) -> _FakeRay:
    fake = _FakeRay()
    monkeypatch.setattr(ray_jobs, "import_ray", lambda: fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return fake


def test_joining_a_cluster_passes_no_local_sizes(fake_ray: _FakeRay) -> None:
    # Ray refuses num_cpus / object_store_memory when joining (the bug this fixes)
    with ray_session(RayOptions(address="127.0.0.1:6379", num_cpus=4)):
        pass
    [kwargs] = fake_ray.inits
    assert kwargs["address"] == "127.0.0.1:6379"
    assert not {"num_cpus", "object_store_memory", "include_dashboard"} & set(kwargs)
    assert fake_ray.shut


def test_ray_address_from_the_environment(
    fake_ray: _FakeRay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:7000")
    with ray_session(RayOptions(num_cpus=2)):
        pass
    assert fake_ray.inits[0]["address"] == "127.0.0.1:7000"
    assert "num_cpus" not in fake_ray.inits[0]


def test_without_an_address_a_local_runtime_is_sized(fake_ray: _FakeRay) -> None:
    with ray_session(RayOptions(num_cpus=3, object_store_bytes=2**27)):
        pass
    [kwargs] = fake_ray.inits
    assert (kwargs["num_cpus"], kwargs["object_store_memory"]) == (3, 2**27)
    assert kwargs["address"] == "local"  # never a cluster found on this machine


def test_cli_options() -> None:
    assert ray_options("local", None, 2) is None
    assert ray_options("ray", "h:1", 2) == RayOptions(address="h:1", num_cpus=2)
    with pytest.raises(typer.BadParameter, match="--ray-address needs --distributor ray"):
        ray_options("local", "h:1", 2)
    with pytest.raises(typer.BadParameter, match="local or ray"):
        ray_options("dask", None, 2)


def test_commands_that_do_not_use_ray_do_not_import_it() -> None:
    code = (
        "import sys\n"
        "import traindex.cli.main, traindex.jobs.fingerprint, traindex.ingest.pipeline\n"
        "import traindex.ingest.cluster, traindex.filtering.run, traindex.search.fanout\n"
        "print('ray' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"


def test_no_tasks_no_connection(fake_ray: _FakeRay) -> None:
    assert list(ray_jobs.iter_ray([], stage=str, options=RayOptions(address="h:1"))) == []
    assert fake_ray.inits == []
