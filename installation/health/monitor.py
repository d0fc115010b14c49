"""Health figures of a running show, gathered by the render loop once a frame.

The render loop calls :meth:`HealthMonitor.frame` after each frame (cheap: a few counters and
one pass over the active scenes).  :meth:`HealthMonitor.snapshot` may be called from any thread
(the status server, an OSC reply): it only reads plain attributes.

No module state: whoever needs the figures is handed ``monitor.snapshot`` (the status server,
``App.health`` for OSC replies), so two shows in one process (tests) never see each other's.
"""

from __future__ import annotations

import collections
import os
import resource
import time
from typing import Any

import torch

from ..control.stats import control_health


def idle_snapshot() -> dict[str, Any]:
    """What a snapshot source reports before a show runs (the default of ``App.health``)."""
    return {"status": "idle"}


def health_fields(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's headline figures as flat OSC-friendly values (``/status/uptime`` ...)."""
    if snapshot.get("status") != "running":
        return {}
    return {
        "uptime": int(snapshot["uptime_s"]),
        "dropped": int(snapshot["dropped_frames"]),
        "restarts": int(snapshot["plugin_restarts"]),
        "faults": int(snapshot["plugin_faults"]),
        "memory": float(snapshot["memory"].get("rss_mb", 0.0)),
        "plugins": ", ".join(_plugin_line(name, p) for name, p in snapshot["plugins"].items()),
    }


def _plugin_line(name: str, p: dict[str, Any]) -> str:
    """``calm: ok`` or, while faulted, ``waves: backoff (crash, stylegan2)``: scene, state, fault kind, plugin."""
    line = f"{name}: {p.get('state', '?')}"
    fault = p.get("last_fault")
    if p.get("state") not in ("ok", "stopped") and fault:
        line += f" ({fault['kind']}, {p.get('plugin') or '?'})"
    return line


def memory_figures() -> dict[str, float]:
    """Resident and peak memory of this process (MiB), and CUDA memory when a GPU is in use."""
    out: dict[str, float] = {}
    try:
        with open("/proc/self/statm") as fh:
            out["rss_mb"] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        pass
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda_allocated_mb"] = torch.cuda.memory_allocated() / 2**20
        out["cuda_reserved_mb"] = torch.cuda.memory_reserved() / 2**20
    return {k: round(v, 1) for k, v in out.items()}


def _schedule(app) -> dict[str, Any] | None:
    """The opening-hours position the last frame used (venue time, open, show time, fade), if any."""
    playhead = getattr(app, "playhead", None)
    status = getattr(playhead, "schedule_status", None)
    return status() if status is not None else None


class HealthMonitor:
    """Counts frames, late (dropped) frames and plugin events for one :class:`~installation.app.App`."""

    def __init__(self, app, fps: float, window: float = 2.0):
        self.app = app
        self.fps = float(fps)
        self.started = time.time()
        self._t0 = time.perf_counter()
        self.frames = 0
        self.dropped = 0
        self._last_frame: float | None = None
        self._recent: collections.deque[float] = collections.deque(maxlen=max(2, int(window * fps) + 1))
        self._durations: collections.deque[float] = collections.deque(maxlen=max(2, int(window * fps) + 1))
        # totals of workers that have stopped (scenes come and go): per scene name
        self._retired: dict[str, dict[str, int]] = {}
        self._live: dict[int, tuple[str, Any]] = {}
        #: scene name → why its generator could not be built (a failed or faulted build), ever in this run
        self.load_failures: dict[str, str] = {}
        self.supervisor_restarts = int(os.environ.get("INSTALLATION_SUPERVISOR_RESTARTS", "0") or 0)

    # -- render thread ----------------------------------------------------------------------
    def frame(self, duration: float | None = None) -> None:
        now = time.perf_counter()
        if self._last_frame is not None and not self.app.clock.deterministic:
            missed = round((now - self._last_frame) * self.fps) - 1
            if missed > 0:
                self.dropped += missed
        self._last_frame = now
        self._recent.append(now)
        if duration is not None:
            self._durations.append(duration)
        self.frames += 1
        self._track_workers()

    def _track_workers(self) -> None:
        runtimes = self._runtimes()
        for rt in runtimes:
            w = rt.worker
            if rt.index >= 0 and (w.state == "failed" or w.faults.get("build")) and w.name not in self.load_failures:
                self.load_failures[w.name] = w.last_error or w.state
        workers = {id(rt.worker): rt.worker for rt in runtimes}
        for key in [k for k in self._live if k not in workers]:
            name, worker = self._live.pop(key)
            total = self._retired.setdefault(name, {"produced": 0, "restarts": 0, "faults": 0})
            total["produced"] += worker.produced
            total["restarts"] += worker.restarts
            total["faults"] += sum(worker.faults.values())
        for key, worker in workers.items():
            self._live.setdefault(key, (worker.name, worker))

    def _runtimes(self) -> list:
        app = self.app
        rts = list(app.runtimes.values())
        if getattr(app, "fallback", None) is not None:
            rts.append(app.fallback)
        return rts

    # -- any thread -------------------------------------------------------------------------
    def measured_fps(self) -> float:
        recent = list(self._recent)
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def snapshot(self) -> dict[str, Any]:
        app = self.app
        plugins: dict[str, Any] = {}
        for rt in self._runtimes():
            key = "fallback" if rt.index < 0 else rt.worker.name
            plugins[key] = {"scene_index": rt.index, **rt.worker.status()}
        restarts = sum(p["restarts"] for p in plugins.values()) + sum(t["restarts"] for t in self._retired.values())
        faults = sum(sum(p["faults"].values()) for p in plugins.values()) + sum(
            t["faults"] for t in self._retired.values()
        )
        scene: dict[str, Any] | None = None
        cue: dict[str, Any] | None = None
        try:
            index, local, cue_index = app.timeline.scene_index_at(app.t)
            scene = {"index": index, "name": app.show.scenes[index].name, "local_t": round(local, 3)}
            cue = {"index": cue_index}
            actions = getattr(app.timeline, "actions", None)
            if actions is not None:
                spec = actions[cue_index].cue
                cue["name"] = spec.name or spec.scene or spec.playlist
            playhead = getattr(app, "playhead", None)
            if playhead is not None:
                cue["standby"] = playhead.standing_by()
        except Exception:  # a show being reloaded under us must not break the report
            pass
        durations = list(self._durations)
        return {
            "status": "running",
            "show": app.show.show.name,
            "pid": os.getpid(),
            "uptime_s": round(time.perf_counter() - self._t0, 3),
            "started": self.started,
            "show_time_s": round(app.t, 3),
            "schedule": _schedule(app),
            "scene": scene,
            "cue": cue,
            "layers": [{"index": layer.index, "opacity": round(layer.opacity, 3)} for layer in app.layers],
            "fps": round(self.measured_fps(), 2),
            "target_fps": self.fps,
            "frames": self.frames,
            "dropped_frames": self.dropped,
            "frame_ms": {
                "mean": round(1000 * sum(durations) / len(durations), 2) if durations else None,
                "max": round(1000 * max(durations), 2) if durations else None,
            },
            "plugins": plugins,
            "failed_scenes": {app.show.scenes[i].name: err for i, err in app.failed.items()},
            "plugin_restarts": restarts,
            "plugin_faults": faults,
            "plugin_history": {k: dict(v) for k, v in self._retired.items()},
            "supervisor_restarts": self.supervisor_restarts,
            "memory": memory_figures(),
            **self._control_figures(),
            **self._reload_figures(),
            **self._sync_figures(),
        }

    def _sync_figures(self) -> dict[str, Any]:
        """Under ``[sync]``: Link peers, session tempo, the epoch, messages heard from the other hosts."""
        status = getattr(getattr(self.app, "clock", None), "sync_status", None)
        return {"sync": status()} if callable(status) else {}

    def _control_figures(self) -> dict[str, Any]:
        control = getattr(self.app, "control", None)
        if control is None:
            return {}
        now = time.monotonic()
        inputs: dict[str, str] = {name: f"down: {why}" for name, why in control.input_failures.items()}
        for name, inp in control.inputs.items():
            stalled = getattr(inp, "stalled", None)
            inputs[name] = "stalled" if callable(stalled) and stalled(now) else "ok"
        return {"control": {**control_health(control.counters, now), "inputs": inputs}}

    def _reload_figures(self) -> dict[str, Any]:
        """The show file's state: the rejected edit (file, line, field, problem) while there is one."""
        playhead = getattr(self.app, "playhead", None)
        watcher = getattr(playhead, "watcher", None)
        if watcher is None:
            return {}
        return {"show_file": watcher.status()}

    # -- wiring ----------------------------------------------------------------------------------
    def activate(self) -> HealthMonitor:
        """Hand this monitor's snapshot to its app (``app.health``, sent to OSC controllers)."""
        self.app.health = self.snapshot
        return self

    def deactivate(self) -> None:
        if getattr(self.app, "health", None) == self.snapshot:
            self.app.health = idle_snapshot
