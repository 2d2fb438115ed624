"""How bulk ``check --urls`` is cut into Ray tasks: every target once, one host per task;
and the CLI refuses a cluster address without ``--distributor ray``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.jobs.checks import check_tasks

_HOSTS = ["a.example", "b.example:8080", "c.example", "B.EXAMPLE:8080", "d.example"]
_TARGETS = st.one_of(
    st.builds(lambda h, p: f"https://{h}/{p}", st.sampled_from(_HOSTS), st.integers(0, 50)),
    st.builds(lambda n: f"/no/such/dir/file-{n}.jpg", st.integers(0, 50)),
)


@given(st.lists(_TARGETS, max_size=60), st.integers(1, 8))
def test_every_target_once_and_each_host_in_one_task(targets: list[str], chunk: int) -> None:
    tasks = check_tasks(targets, chunk)
    positions = [p for t in tasks for p in t.positions]
    assert sorted(positions) == list(range(len(targets)))
    for task in tasks:
        assert list(task.targets) == [targets[p] for p in task.positions]
        hosts = {urlsplit(t).netloc.lower() for t in task.targets if "://" in t}
        for host in hosts:  # a host's targets keep their input order
            mine = [p for p in task.positions if host in targets[p].lower()]
            assert mine == sorted(mine)
        files = [t for t in task.targets if "://" not in t]
        assert not (hosts and files)  # files are never packed with URLs
        assert len(task.targets) <= chunk or len(hosts) == 1  # only one big host overflows
    owners: dict[str, int] = {}
    for number, task in enumerate(tasks):
        for target in task.targets:
            if "://" in target:
                host = urlsplit(target).netloc.lower()
                assert owners.setdefault(host, number) == number


def test_small_hosts_share_a_task_and_a_big_one_has_its_own() -> None:
    targets = [f"https://big.example/{i}" for i in range(5)]
    targets += ["https://s1.example/x", "https://s2.example/y"]
    tasks = check_tasks(targets, chunk=3)
    assert [t.positions for t in tasks] == [(0, 1, 2, 3, 4), (5, 6)]


@pytest.mark.parametrize(
    "command", [["check", "https://a.example/x.jpg"], ["nearcopy-index", "-d", "x"]]
)
def test_ray_address_needs_the_ray_distributor(command: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--home", str(tmp_path), *command, "--ray-address", "h:1"])
    assert result.exit_code == 2
    assert "--ray-address needs --distributor ray" in result.output
