"""Shared fixtures.  GL tests use a real EGL context (Mesa llvmpipe in CI) and are never skipped:
if no context can be made the test fails, because a skipped GL test proves nothing.

Markers mean what they say.  ``gl``: the test makes a moderngl context, in this process, through
a fixture it uses, or in a child process it starts; a test that does so without the marker fails
(so ``-m "not gl"`` really runs without GL).  ``slow``: the test takes more than
SLOW_SECONDS; that is reported at the end of the run, never asserted, because timings on a shared
CI machine vary."""

from __future__ import annotations

import functools
import os
import textwrap
from pathlib import Path

import moderngl
import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
# shows the tests run send no mDNS announcements (OSCQuery) from the host's namespace; the
# OSCQuery test turns it back on inside a network namespace it makes
os.environ["INSTALLATION_MDNS"] = "0"
# typer draws usage errors in a rich panel as wide as the terminal; where the clone lives (a long
# CI path) would otherwise decide where a message wraps and split the words a test looks for
os.environ.setdefault("TERMINAL_WIDTH", "1000")

SLOW_SECONDS = 5.0
GL_TRACE_DIR = Path(__file__).parent / "gltrace"  # sitecustomize.py for child processes

# --- the gl marker: every moderngl context the suite makes is counted ----------------------------
_gl_calls: list[str] = []  # one entry per context made (or tried) in this process
_gl_fixtures: set = set()  # FixtureDefs that made a context (module/session scoped ones are shared)
_TRACE_KEY = pytest.StashKey[Path]()
_START_KEY = pytest.StashKey[int]()
_DURATION_KEY = pytest.StashKey[float]()
_SKIPPED_KEY = pytest.StashKey[bool]()
_GL_UNUSED_KEY = pytest.StashKey[list]()
_TIMES_KEY = pytest.StashKey[list]()


def _count_gl(name: str, real):
    @functools.wraps(real)
    def counted(*args, **kwargs):
        _gl_calls.append(name)
        return real(*args, **kwargs)

    counted.__wrapped__ = real
    return counted


for _name in ("create_standalone_context", "create_context"):
    setattr(moderngl, _name, _count_gl(f"moderngl.{_name}", getattr(moderngl, _name)))


def _wrap_headless_factory() -> None:
    """installation.render.context.create_headless_context goes through moderngl (counted above);
    wrapped as well so a future backend that does not still counts."""
    from installation.render import context as render_context

    real = render_context.create_headless_context
    if not hasattr(real, "__wrapped__"):
        render_context.create_headless_context = _count_gl("create_headless_context", real)


_wrap_headless_factory()


def _is_gl_fixture(fixturedef) -> bool:
    """A fixture seen making a context, or one whose value is a context (or holds one as .ctx):
    the second catches session-scoped fixtures such as gl_ctx, whose setup hooks run on the
    session node, outside this conftest's reach."""
    if fixturedef in _gl_fixtures:
        return True
    cached = getattr(fixturedef, "cached_result", None)
    value = cached[0] if cached else None
    return isinstance(value, moderngl.Context) or isinstance(getattr(value, "ctx", None), moderngl.Context)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    before = len(_gl_calls)
    yield
    if len(_gl_calls) > before:
        _gl_fixtures.add(fixturedef)


@pytest.fixture(autouse=True)
def _gl_trace(request, tmp_path_factory, monkeypatch):
    """Child processes started by this test record their GL contexts in a file of its own."""
    trace = tmp_path_factory.mktemp("gltrace") / "contexts.txt"
    paths = [str(GL_TRACE_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv("INSTALLATION_TEST_GL_TRACE", str(trace))
    request.node.stash[_TRACE_KEY] = trace
    yield


def _gl_use(item) -> list[str]:
    """How this test made or used a GL context (empty: it did not)."""
    why = []
    made = len(_gl_calls) - item.stash.get(_START_KEY, len(_gl_calls))
    if made:
        why.append(f"{made} context call(s) in this process")
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    shared = sorted(name for name, chain in defs.items() if chain and _is_gl_fixture(chain[-1]))
    if shared:
        why.append(f"fixture(s) {', '.join(shared)}")
    trace = item.stash.get(_TRACE_KEY, None)
    if trace is not None and trace.exists() and trace.read_text().strip():
        why.append(f"{len(trace.read_text().splitlines())} context call(s) in child processes")
    return why


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item.stash[_START_KEY] = len(_gl_calls)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    item.stash[_DURATION_KEY] = item.stash.get(_DURATION_KEY, 0.0) + report.duration
    if report.skipped:
        item.stash[_SKIPPED_KEY] = True
    if call.when == "teardown" and not item.stash.get(_SKIPPED_KEY, False):
        item.config.stash.setdefault(_TIMES_KEY, []).append(
            (item.nodeid, item.stash[_DURATION_KEY], item.get_closest_marker("slow") is not None)
        )
    if call.when != "call" or report.skipped:
        return
    why = _gl_use(item)
    if why and item.get_closest_marker("gl") is None and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} makes an OpenGL context ({'; '.join(why)}) but has no "
            "@pytest.mark.gl marker: add it (or pytestmark = pytest.mark.gl for the module)"
        )
    elif not why and item.get_closest_marker("gl") is not None:
        item.config.stash.setdefault(_GL_UNUSED_KEY, []).append(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The slow marker against measured durations (setup + call + teardown), and gl-marked tests
    that made no context: reported, never failed."""
    times = config.stash.get(_TIMES_KEY, [])
    unmarked = sorted([(d, n) for n, d, slow in times if d > SLOW_SECONDS and not slow], reverse=True)
    fast = sorted([(d, n) for n, d, slow in times if d <= SLOW_SECONDS and slow], reverse=True)
    unused = config.stash.get(_GL_UNUSED_KEY, [])
    if not (unmarked or fast or unused):
        return
    tr = terminalreporter
    tr.section("markers")
    for d, n in unmarked:
        tr.write_line(f"took {d:5.1f} s > {SLOW_SECONDS:g} s without @pytest.mark.slow: {n}")
    for d, n in fast:
        tr.write_line(f"took {d:5.1f} s <= {SLOW_SECONDS:g} s but marked slow: {n}")
    for n in unused:
        tr.write_line(f"marked gl but made no GL context: {n}")


@pytest.fixture(scope="session")
def gl_ctx():
    from installation.render.context import create_headless_context

    ctx = create_headless_context()
    yield ctx
    ctx.release()


SMALL_SHOW = """
[show]
name = "test show"
seed = 3

[output]
width = 96
height = 64
fps = 12

[[scenes]]
name = "one"
duration = 2
keyframe_rate = 4
transition = 0
[scenes.generator]
plugin = "noisefield"
size = 32
[scenes.walk]
type = "slerp"
seeds = [1, 2]
transition = 1

[[scenes]]
name = "two"
duration = 2
keyframe_rate = 3
transition = 0.5
[scenes.generator]
plugin = "noisefield"
size = 48
seed = 5
[scenes.walk]
type = "slerp"
seeds = [7, 8, 9]
transition = 0.7
"""


@pytest.fixture
def small_show(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(textwrap.dedent(SMALL_SHOW))
    return path


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One torch thread for the whole suite: the test models are tiny, and on a shared 2-core CI
    machine two threads contend and make small convolutions many times slower, not faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
