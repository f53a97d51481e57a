"""The topology's component processes never outlive the test process, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.e2e.topology import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for init's reap counts as gone
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _spawn_parent(body: str) -> tuple[subprocess.Popen[str], int]:
    """A test process that starts a component (a ``sleep``) the way the topology does, prints its pid."""
    script = textwrap.dedent(
        """
        import subprocess, time
        from tests.e2e.topology import die_with_parent_hook
        child = subprocess.Popen(
            ["sleep", "300"], start_new_session=True, preexec_fn=die_with_parent_hook()
        )
        print(child.pid, flush=True)
        """
    ) + textwrap.dedent(body)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    return parent, child_pid


def test_a_component_dies_when_the_test_process_is_killed_outright():
    parent, child_pid = _spawn_parent("time.sleep(300)\n")
    try:
        assert _alive(child_pid)
        parent.kill()  # SIGKILL: no finally, no atexit, no fixture teardown runs
        parent.wait(10)
        wait_until(lambda: not _alive(child_pid) or None, 10, "the orphaned component to exit")
    finally:
        if _alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)


IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(300)"
)


def test_close_kills_what_an_interrupted_stop_left_running(tmp_path):
    from tests.e2e.topology import AirflowTopology, die_with_parent_hook

    topology = AirflowTopology(database_url="postgresql://unused", dags_folder=tmp_path)
    # A component that ignores SIGTERM, and a stop interrupted while waiting for it (Ctrl-C in teardown).
    stubborn = subprocess.Popen(
        [sys.executable, "-c", IGNORES_SIGTERM],
        stdout=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent_hook(),
    )
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # the SIGTERM handler is in place
    topology.processes["scheduler"] = stubborn  # type: ignore[assignment]
    original_wait = stubborn.wait

    def interrupted_wait(timeout: float | None = None) -> int:
        if timeout is not None and timeout > 10:  # the stop's wait for SIGTERM, not the one after SIGKILL
            raise KeyboardInterrupt
        return original_wait(timeout)

    stubborn.wait = interrupted_wait  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        topology.close()
    try:
        wait_until(lambda: stubborn.poll() is not None or None, 10, "the stubborn component to be killed")
        assert topology.processes == {}
        assert not topology.home.exists()
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
