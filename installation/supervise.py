"""``installation run --supervise``: keep a show running for weeks.

The supervisor starts the runtime as a child process (``python -m installation run ...``) with
a heartbeat file, and restarts it when it exits with an error, is killed, or stops beating for
``watchdog`` seconds (a stalled render loop, a driver hang).  The child resumes the schedule
where it should be: a live show at the show time the wall clock has reached, a recording at the
last frame written.  Restarts back off (1 s doubling to 60 s, reset after a child has run for 10
minutes).  SIGTERM/SIGINT to the supervisor are passed on to the child, which finalises its
outputs; the supervisor then exits.

A live show's position comes from one fixed anchor — the wall instant at which show time 0 fell,
set when the first child starts — and is read off it at the moment each child is spawned (after
the back-off), never accumulated from beats or back-off sleeps: after any number of restarts the
show is where the wall clock says, the downtime skipped.  (Shows with opening hours place
themselves from the schedule and get no ``--from`` at all.)

Each child runs in its own process group and asks the kernel (``PR_SET_PDEATHSIG``) to SIGKILL
it when the supervisor dies, so a ``kill -9`` of the supervisor takes the runtime with it and the
next start finds its ports free.

A child that exits 0 ended on purpose (``--duration`` reached, Esc, SIGTERM): not restarted.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .health.heartbeat import Beat, read_heartbeat
from .output.base import EXIT_RECORDING

log = logging.getLogger(__name__)


@dataclass
class SuperviseOptions:
    child_args: list[str]  # `run` arguments, without --from/--duration/--record/--heartbeat
    heartbeat: Path
    start: float = 0.0
    duration: float | None = None
    record: Path | None = None  # recordings resume into numbered segments: out.mp4, out.1.mp4, ... (out.ffconcat)
    watchdog: float = 30.0  # seconds without a beat before the child is killed
    startup_grace: float = 180.0  # the first beat may take longer (imports, GL, first weights)
    backoff: float = 1.0
    backoff_limit: float = 60.0
    stable_after: float = 600.0
    max_restarts: int | None = None
    resume: bool = True  # pass --from; False for shows that place themselves by opening hours
    poll: float = 0.5
    python: list[str] = field(default_factory=lambda: [sys.executable, "-m", "installation"])


@dataclass
class SuperviseResult:
    restarts: int
    exit_code: int
    positions: list[float]  # show time each child started from


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int | None = None) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGKILL when the process that spawned it dies.

    Checks the parent afterwards: a supervisor that died between fork and prctl would otherwise
    leave the child running with no one to signal it.
    """
    parent = os.getpid() if parent is None else parent
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not between fork and exec
    except (OSError, AttributeError):  # not Linux: the process group still lets a clean exit take it
        prctl = None

    def _preexec() -> None:
        if prctl is None:
            return
        prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return _preexec


def segment_path(record: Path, n: int) -> Path:
    return record if n == 0 else record.with_name(f"{record.stem}.{n}{record.suffix}")


class Supervisor:
    def __init__(self, opts: SuperviseOptions, sleep: Callable[[float], None] = time.sleep):
        self.opts = opts
        self.sleep = sleep
        self.child: subprocess.Popen | None = None
        self.stopping = False
        self.restarts = 0
        self.positions: list[float] = []
        # live shows: show time = wall - anchor, the anchor fixed when the first child starts
        self._anchor: float | None = None
        self._position = opts.start

    # -- signals ----------------------------------------------------------------------------
    def request_stop(self, signum: int | None = None, frame=None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def _resume_position(self, beat: Beat | None, segment_start: float | None = None) -> float:
        """Where a recording resumes: right after the last frame of the segment that decodes.

        A killed child leaves its segment cut at the last complete fragment (see
        :func:`~.output.video.salvage`); the next segment starts at the frame after it, so the
        segments join without a gap or a repeat.  Without a readable segment: the last beat.
        """
        if self.opts.record is not None and segment_start is not None:
            from .output.video import recorded_fps, salvage

            segment = segment_path(self.opts.record, self.restarts)
            frames = salvage(segment)
            if frames == 0:
                return segment_start
            fps = recorded_fps(segment) if frames else None
            if frames and fps:  # frames None: nothing readable
                return segment_start + frames / float(fps)
        return beat.t if beat is not None else self._position

    def _list_segments(self) -> None:
        """Keep ``out.ffconcat`` beside the recording: ``ffmpeg -i out.ffconcat -c copy whole.mp4`` joins them."""
        record = self.opts.record
        if record is None:
            return
        earlier = [segment_path(record, n) for n in range(self.restarts)]
        # a child that died before its first frame left nothing (or an empty file) to join
        names = [p.name for p in earlier if p.exists() and p.stat().st_size > 0]
        names.append(segment_path(record, self.restarts).name)
        listing = record.with_suffix(".ffconcat")
        try:
            listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{n}'\n" for n in names))
        except OSError as exc:
            log.error("cannot write the segment list %s: %s", listing, exc)
            return
        log.info(
            "recording into %s (segments so far: %s; listed in %s)",
            segment_path(record, self.restarts),
            ", ".join(names),
            listing,
            extra={"event": "recording_segment", "segments": names, "list": str(listing)},
        )

    def live_position(self, wall: float) -> float:
        """The show time a live show is at when the wall clock reads ``wall`` (fixes the anchor on first use)."""
        if self._anchor is None:
            self._anchor = wall - self.opts.start
        return max(0.0, wall - self._anchor)

    def _argv(self, position: float) -> list[str] | None:
        argv = [*self.opts.python, "run", *self.opts.child_args, "--heartbeat", str(self.opts.heartbeat)]
        if self.opts.resume:
            argv += ["--from", f"{position:.6f}"]
        if self.opts.duration is not None:
            remaining = self.opts.start + self.opts.duration - position
            if remaining <= 1e-6:
                return None
            argv += ["--duration", f"{remaining:.6f}"]
        if self.opts.record is not None:
            argv += ["--record", str(segment_path(self.opts.record, self.restarts))]
        return argv

    def _kill(self, child: subprocess.Popen, grace: float = 10.0) -> None:
        """SIGTERM (so a recording is finalised if the loop still runs), then SIGKILL after ``grace`` s."""
        child.send_signal(signal.SIGTERM)
        child.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        self._reap_group(child)

    @staticmethod
    def _reap_group(child: subprocess.Popen) -> None:
        """SIGKILL whatever is left in the child's process group (its own helper processes)."""
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def run(self) -> SuperviseResult:
        backoff = self.opts.backoff
        while True:
            env = dict(os.environ, INSTALLATION_SUPERVISOR_RESTARTS=str(self.restarts))
            started = time.time()
            if self.opts.resume and self.opts.record is None:
                # read off the fixed anchor now, after any back-off: --from and the wall instant it
                # belongs to travel together, and the child adds its own start-up time
                self._position = self.live_position(started)
            if self.opts.resume:
                env["INSTALLATION_FROM_WALL"] = repr(started)
            argv = self._argv(self._position)
            if argv is None:
                return SuperviseResult(self.restarts, 0, self.positions)
            self.positions.append(self._position)
            self.opts.heartbeat.unlink(missing_ok=True)
            log.info(
                "starting runtime at show time %.2f s",
                self._position,
                extra={"event": "runtime_start", "from_s": self._position, "restarts": self.restarts},
            )
            if self.opts.record is not None:
                self._list_segments()
            segment_start = self._position
            self.child = subprocess.Popen(argv, env=env, process_group=0, preexec_fn=die_with_parent())
            reason, beat = self._watch(self.child, started)
            code = self.child.returncode
            self._reap_group(self.child)
            # a recording stopped by a full disk: the run ended, a restart would only fail again
            if self.stopping or reason == "exit" and code in (0, EXIT_RECORDING):
                return SuperviseResult(self.restarts, code or 0, self.positions)
            if self.opts.record is not None:
                self._position = self._resume_position(beat, segment_start)
            ran = time.time() - started
            backoff = self.opts.backoff if ran > self.opts.stable_after else backoff
            resume_at = (
                self._position
                if self.opts.record is not None or not self.opts.resume
                else self.live_position(time.time() + backoff)
            )
            log.error(
                "runtime %s (exit code %s) after %.1f s; restarting at show time %.2f s in %.1f s",
                reason,
                code,
                ran,
                resume_at,
                backoff,
                extra={
                    "event": "runtime_restart",
                    "reason": reason,
                    "exit_code": code,
                    "ran_s": ran,
                    "from_s": resume_at,
                    "backoff_s": backoff,
                },
            )
            self.restarts += 1
            if self.opts.max_restarts is not None and self.restarts > self.opts.max_restarts:
                log.error("giving up after %d restarts", self.restarts - 1)
                return SuperviseResult(self.restarts - 1, code if code else 1, self.positions)
            self.sleep(backoff)
            backoff = min(backoff * 2, self.opts.backoff_limit)
            if self.stopping:
                return SuperviseResult(self.restarts, 0, self.positions)

    def _watch(self, child: subprocess.Popen, started: float) -> tuple[str, Beat | None]:
        last: Beat | None = None
        while True:
            code = child.poll()
            beat = read_heartbeat(self.opts.heartbeat)
            if beat is not None and beat.pid == child.pid:
                last = beat
            if code is not None:
                return ("exit" if code >= 0 else f"killed by signal {-code}"), last
            since = time.time() - (last.wall if last else started)
            limit = self.opts.watchdog if last else self.opts.startup_grace
            if since > limit and not self.stopping:
                log.error(
                    "runtime stalled: no frame for %.1f s; killing pid %d",
                    since,
                    child.pid,
                    extra={"event": "runtime_stalled", "silent_s": since},
                )
                self._kill(child, grace=3.0)
                return "stalled", last
            time.sleep(self.opts.poll)


def supervise(opts: SuperviseOptions) -> SuperviseResult:
    """Run the supervisor in this process until the show ends or a signal stops it."""
    sup = Supervisor(opts)
    old = {s: signal.signal(s, sup.request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return sup.run()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if sup.child is not None and sup.child.poll() is None:
            sup._kill(sup.child)
