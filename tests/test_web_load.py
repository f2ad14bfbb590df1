"""The web page's load and fault test (benchmarks/web_load.py), short: a few clients for
a few seconds, the refused uploads, a worker killed mid-job, SIGTERM at the end."""

import pytest

pytest.importorskip("flask")

from benchmarks import web_load  # noqa: E402


@pytest.mark.slow
def test_short_load_and_fault_run_passes():
    plan = web_load.Plan(seconds=6, clients=3, slow=5, flat=10, warmup=False, big=False,
                         kill_mid_step=False)
    figures = web_load.run(plan)
    failed = [name for name, ok in figures["checks"].items() if not ok]
    assert not failed, figures
    assert figures["uploads"]["empty queue: flat x8: 413"]["count"] == 10
    assert [z["status"] for z in figures["zssr_2000"][:2]] == [413, 413]  # empty queue
    assert "ZSSR trains on and runs over the whole image" in figures["zssr_2000"][1]["error"]
    assert figures["kill"]["error"].endswith("killed by SIGKILL (out of memory?)")
    assert figures["slow"]["reconnects"] == 0
