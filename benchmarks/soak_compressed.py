"""The compressed soak: days of a scheduled show in minutes, with every plugin fault injected at random.

An :class:`~installation.clock.AcceleratedClock` runs show time and the wall instant the schedule
sees ``rate`` times faster than real time.  The show keeps opening hours in Europe/Berlin (daily,
with fades; the default start crosses the end of daylight-saving time) and plays the ``chaos``
generator from ``tests/fault_plugins`` (loaded as ``--plugins-dir`` loads it) in process-isolated
workers with a memory cap.  Each keyframe call faults with a seeded probability, one of: raise,
NaN, wrong shape, hang, native crash (segfault through ctypes), memory exhaustion; none in the
last ``quiet_hours`` (a full opening day by default), so every scene plays again after its last
fault and each fault can be seen to recover.  Plugin
deadlines and back-off stay on the real clock, so a fault costs ``rate`` times more show time than
in a venue.

Measured, every frame read back from the compositor: black frames while the schedule says open
(target 0; the first few percent of a fade-up are legitimately near black and not counted), lit
frames while closed; the final position against the schedule's for the final instant; faults
injected / seen by the runtime / recovered (a later good keyframe from that scene) per kind;
resident memory of the runtime and its long-lived helper processes after warm-up (the first
opening day) against the end (target < 1 %), and of the worker processes; and at the end, against
a baseline taken before the show started, child processes, threads, open file descriptors and
``/dev/shm`` segments.  Run through ``benchmarks/soak.py --compressed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import torch

from installation.app import App
from installation.clock import AcceleratedClock
from installation.engine.frames import PREFIX as RING_PREFIX
from installation.engine.transport import warm_up
from installation.engine.worker import RestartPolicy
from installation.plugins import make_plugin_manager
from installation.render.compositor import Compositor
from installation.render.context import create_headless_context
from installation.show.loader import parse_show
from installation.show.playhead import Playhead
from installation.show.schedule import OpeningHours

FAULT_PLUGINS = Path(__file__).resolve().parents[1] / "tests" / "fault_plugins"
KINDS = ("raise", "nan", "shape", "hang", "segfault", "alloc")
#: the runtime's fault kind for each injected one
SEEN_AS = {
    "raise": "error",
    "nan": "bad_output",
    "shape": "bad_output",
    "hang": "hang",
    "segfault": "crash",
    "alloc": "oom",
}
ZONE = "Europe/Berlin"
START = "2026-10-24T12:00"  # a Saturday noon in Berlin: open; 25 October 03:00 the clocks go back


def compressed_show(size: int, log_dir: Path, seed: int, fault_rate: float, quiet: Path, fade: float) -> str:
    scenes = []
    for name, duration, seeds in (("a", 5400, [1, 2, 3]), ("b", 3600, [4, 5]), ("c", 7200, [6, 7, 8, 9])):
        scenes.append(f"""
[[scenes]]
name = "{name}"
duration = {duration}
keyframe_rate = {1 / 60}
transition = 120
[scenes.generator]
plugin = "chaos"
log = "{log_dir / (name + ".log")}"
key = "{name}"
seed = {seed}
rate = {fault_rate}
quiet = "{quiet}"
[scenes.walk]
type = "slerp"
seeds = {seeds}
transition = 300
""")
    return f"""
[show]
name = "compressed-soak"
[output]
width = {size}
height = {size}
fps = 10
[schedule]
timezone = "{ZONE}"
hours = {{ daily = ["10:00-18:00"] }}
fade = {fade}
{"".join(scenes)}"""


# -- what the process holds ------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def census() -> dict:
    """Child processes, threads, open fds and /dev/shm segments of this process, now."""
    return {
        "children": _descendants(os.getpid()),
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
        # the runtime names its frame rings after its pid (other programs' segments are not ours)
        "shm": {n for n in os.listdir("/dev/shm") if n.startswith(f"{RING_PREFIX}_{os.getpid()}_")},
    }


class _FaultLog(logging.Handler):
    """Counts what the runtime reported: plugin faults by kind, and any error or traceback."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.faults: Counter[str] = Counter()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "plugin_fault":
            self.faults[getattr(record, "kind", "?")] += 1
        elif record.levelno >= logging.ERROR and getattr(record, "event", None) not in ("plugin_failed",):
            if len(self.errors) < 20:
                self.errors.append(f"{record.name}: {record.getMessage()}")


def _injected(log_dir: Path) -> tuple[Counter, Counter, int]:
    """Faults injected per kind, those followed by a good keyframe of the same scene, and calls made."""
    injected: Counter[str] = Counter()
    recovered: Counter[str] = Counter()
    calls = 0
    for path in sorted(log_dir.glob("*.log")):
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
        calls += len(lines)
        last_ok = max((int(n) for n, kind, _ in lines if kind == "ok"), default=-1)
        for n, kind, _ in lines:
            if kind != "ok":
                injected[kind] += 1
                recovered[kind] += int(n) < last_ok
    return injected, recovered, calls


def run_compressed(
    hours: float = 72.0,
    rate: float = 540.0,
    fps: float = 10.0,
    size: int = 32,
    seed: int = 1,
    fault_rate: float = 0.03,
    memory_mb: float = 256.0,
    fade: float = 600.0,
    start: str = START,
    quiet_hours: float = 24.0,
    samples_every_s: float = 5.0,
    progress=None,
) -> dict:
    """Play ``hours`` of show time at ``rate`` × real time, ``fps`` frames per real second."""
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="soak-chaos-"))
    quiet = work / "quiet"
    show = parse_show(compressed_show(size, work, seed, fault_rate, quiet, fade), "<compressed-soak>")
    assert show.schedule is not None  # the soak's show keeps hours
    hours_of = OpeningHours(show.schedule)
    t_start = dt.datetime.fromisoformat(start).replace(tzinfo=hours_of.zone).timestamp()
    t_end = t_start + hours * 3600
    t_quiet = t_end - quiet_hours * 3600

    ctx = create_headless_context()
    compositor = Compositor(ctx, (size, size))
    registry = make_plugin_manager(FAULT_PLUGINS, entry_points_enabled=False)
    warm_up(wait=True)  # the fork server is the runtime's own, started before the show as `run` does
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # shared-memory bookkeeping: one per runtime, also the baseline's
    base = census()
    handler = _FaultLog()
    logging.getLogger().addHandler(handler)
    clock = AcceleratedClock(rate, instant=t_start)
    playhead = Playhead(show, now=clock.instant)
    policy = RestartPolicy(
        deadline=1.0,
        build_deadline=20.0,
        backoff=0.2,
        backoff_limit=2.0,
        isolated=True,
        memory_mb=memory_mb,
        torch_threads=1,
    )
    # preload in real seconds (2 s), as a venue's 3 s of show time would be; hold in real time too
    app = App(show, registry, compositor, clock, preload=2.0 * rate, playhead=playhead, policy=policy, hold_limit=10.0)
    long_lived = base["children"]
    series: list[dict] = []
    frames = black_open = lit_closed = open_frames = 0
    first_close_frame: int | None = None
    was_open = None
    t0 = time.perf_counter()
    next_sample = 0.0
    exceptions: list[str] = []
    black: list[dict] = []
    startup_black, lit_yet = 0, False

    def sample(label: str) -> dict:
        kids = _descendants(os.getpid())
        runtime = _rss_mb(os.getpid()) + sum(_rss_mb(p) for p in kids & long_lived)
        workers = sum(_rss_mb(p) for p in kids - long_lived)
        s = {
            "label": label,
            "show_h": round((clock.instant() - t_start) / 3600, 3),
            "wall_s": round(time.perf_counter() - t0, 1),
            "rss_runtime_mb": round(runtime, 1),
            "rss_workers_mb": round(workers, 1),
            "workers": len(kids - long_lived),
            "threads": threading.active_count(),
        }
        series.append(s)
        if progress:
            progress(s)
        return s

    try:
        while clock.instant() < t_end:
            f0 = time.perf_counter()
            if clock.instant() >= t_quiet and not quiet.exists():
                quiet.touch()
            try:
                app.frame()
                rgb = compositor.read_output()
            except Exception as exc:  # counted; the soak goes on to see whether it recurs
                exceptions.append(f"frame {frames}: {type(exc).__name__}: {exc}")
                frames += 1
                continue
            frames += 1
            pos = app.playhead.position
            if pos is not None and pos.open:
                open_frames += 1
                if pos.fade >= 0.05 and int(rgb.max()) == 0 and not lit_yet:
                    startup_black += 1  # the runtime's first frames, before anything made a keyframe
                elif pos.fade >= 0.05 and int(rgb.max()) == 0:
                    black_open += 1
                    if len(black) < 10:
                        black.append(
                            {
                                "venue_time": str(app.playhead.venue_time),
                                "fade": round(pos.fade, 3),
                                "show_t": round(pos.show_t, 1),
                                "layers": len(app.layers),
                                "drawn": len(app.snapshot.layers),
                            }
                        )
            elif int(rgb.max()) > 0:
                lit_closed += 1
            lit_yet = lit_yet or int(rgb.max()) > 0
            is_open = bool(pos and pos.open)
            if was_open and not is_open and first_close_frame is None:
                first_close_frame = frames
                sample("warm")  # the first opening day is the warm-up
            was_open = is_open
            if time.perf_counter() - t0 >= next_sample:
                next_sample += samples_every_s
                sample("open" if is_open else "closed")
            time.sleep(max(0.0, 1.0 / fps - (time.perf_counter() - f0)))
        final = sample("final")
        final_instant = clock.instant()
        pos = app.playhead.position
        expected = hours_of.position(final_instant)
        app_t = app.t
    finally:
        app.close()
        logging.getLogger().removeHandler(handler)
    time.sleep(0.5)  # children reaped, segments unlinked
    end = census()
    injected, recovered, calls = _injected(work)
    warm = next((s for s in series if s["label"] == "warm"), series[0])
    after = [s for s in series if s["wall_s"] >= warm["wall_s"]]
    mid = after[len(after) // 2]
    return {
        "show_hours": hours,
        "rate": rate,
        "fps_wall": fps,
        "size": size,
        "seed": seed,
        "fault_rate": fault_rate,
        "memory_mb": memory_mb,
        "timezone": ZONE,
        "start": start,
        "fade_s": fade,
        "wall_s": round(time.perf_counter() - t0, 1),
        "frames": frames,
        "open_frames": open_frames,
        "black_open_frames": black_open,
        "black_samples": black,
        "startup_black_frames": startup_black,
        "lit_closed_frames": lit_closed,
        "final_instant": dt.datetime.fromtimestamp(final_instant, hours_of.zone).isoformat(timespec="seconds"),
        "final_overshoot_s": round(final_instant - t_end, 1),
        "frame_step_s": round(rate / fps, 1),
        "final_open": pos.open if pos else None,
        "expected_open": expected.open,
        "final_show_t": round(pos.show_t, 1) if pos else None,
        "expected_show_t": round(expected.show_t, 1),
        "final_app_t": round(app_t, 1),
        "keyframe_calls": calls,
        "faults_injected": dict(injected),
        "faults_recovered": dict(recovered),
        "faults_seen": dict(handler.faults),
        "faults_expected_seen": dict(Counter(SEEN_AS[k] for k in injected.elements())),
        "all_recovered": all(recovered[k] == injected[k] for k in injected),
        "errors_logged": len(handler.errors),
        "error_samples": handler.errors[:10],
        "exceptions": len(exceptions),
        "exception_samples": exceptions[:10],
        "rss_runtime_warm_mb": warm["rss_runtime_mb"],
        "rss_runtime_final_mb": final["rss_runtime_mb"],
        "rss_runtime_max_mb": max(s["rss_runtime_mb"] for s in after),
        "rss_growth_pct": round(100 * (final["rss_runtime_mb"] - warm["rss_runtime_mb"]) / warm["rss_runtime_mb"], 3),
        "rss_growth_second_half_pct": round(
            100 * (final["rss_runtime_mb"] - mid["rss_runtime_mb"]) / mid["rss_runtime_mb"], 3
        ),
        "rss_workers_max_mb": max(s["rss_workers_mb"] for s in series),
        "leaked_children": sorted(end["children"] - base["children"]),
        "threads_base": base["threads"],
        "threads_end": end["threads"],
        "fds_base": base["fds"],
        "fds_end": end["fds"],
        "shm_leaked": sorted(end["shm"] - base["shm"]),
        "series": series,
    }
