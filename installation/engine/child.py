"""The worker process: builds one scene's source from its recipe and answers keyframe requests.

Started by :class:`~installation.engine.transport.ProcessTransport` (``forkserver``: a clean
interpreter with torch preloaded, never a fork of the GL/torch-threaded runtime).  It

* dies with its parent (``PR_SET_PDEATHSIG``), ignores Ctrl-C (the parent decides when it ends);
* limits torch to a few threads, so several workers share the host's cores;
* with a memory cap, limits its address space to what it uses once built plus the cap, so an
  allocation past it fails as an out-of-memory error inside the plugin (degrade, then restart);
* writes keyframes into the parent's shared-memory ring (CUDA frames travel as CUDA tensors:
  torch shares the device memory between the processes, nothing is copied to the host).

Messages in (a pipe): ``("make", k)``, ``("control", walk, post)``, ``("restart",)``,
``("ring", name, slot_bytes, slots)``, ``("stop",)``.  Out: ``("built", info)``,
``("build_failed", permanent, kind, message)``, ``("frame", k, slot, shape, payload, seconds, notes)``,
``("fault", k, kind, message, notes)``.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import resource
import signal
import time

import torch

from .build import SceneLoadError, SourceRecipe, degrade_source
from .faults import classify, is_out_of_memory
from .frames import FrameRing

PR_SET_PDEATHSIG = 1
MAX_DEGRADE = 8


def die_with_parent(runtime_pid: int) -> None:
    """SIGKILL this process when its parent goes (a kill -9 of the runtime takes its workers along).

    Under ``forkserver`` the parent is the fork server, which exits when the runtime does.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent still kills us on stop
        return
    try:
        os.kill(runtime_pid, 0)
    except ProcessLookupError:
        os._exit(1)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def vm_size_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cap_memory(megabytes: float) -> None:
    """Address space = what the built process maps now + the cap; beyond it allocations fail."""
    limit = vm_size_bytes() + int(megabytes * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))


def child_main(conn, recipe: SourceRecipe, options: dict) -> None:
    die_with_parent(options["parent_pid"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable()  # a native crash prints its Python stack to the runtime's stderr
    threads = options.get("torch_threads")
    if threads:
        torch.set_num_threads(int(threads))
    try:
        source, notes = recipe.build()
    except SceneLoadError as exc:
        conn.send(("build_failed", True, "build", str(exc)))
        return
    except BaseException as exc:  # noqa: BLE001 - everything a plugin can throw is a fault report
        kind = "oom" if is_out_of_memory(exc) else "build"
        conn.send(("build_failed", False, kind, f"{type(exc).__name__}: {exc}"))
        return
    memory = options.get("memory_mb")
    if memory and not str(recipe.device).startswith("cuda"):  # CUDA maps huge address ranges: parent watches RSS
        cap_memory(memory)
    conn.send(("built", {"pid": os.getpid(), "notes": notes, "rss_mb": rss_mb()}))
    serve(conn, source)


def serve(conn, source) -> None:
    ring: FrameRing | None = None
    sent = 0
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the runtime is gone
            break
        op = msg[0]
        if op == "stop":
            break
        if op == "control":
            source.control, source.post.control = msg[1], msg[2]
        elif op == "restart":
            source.restart()
        elif op == "ring":
            if ring is not None:
                ring.close()
            try:
                ring = FrameRing.attach(msg[1], msg[2], msg[3])
            except OSError:  # keyframes keep coming through the pipe
                ring = None
        elif op == "make":
            index = msg[1]
            t0 = time.perf_counter()
            frame, notes, error = make(source, index)
            if error is not None:
                conn.send(("fault", index, error[0], error[1], notes))
                continue
            seconds = time.perf_counter() - t0
            if frame.is_cuda:  # shared through CUDA IPC; the parent clones it into its own memory
                conn.send(("frame", index, "cuda", tuple(frame.shape), frame, seconds, notes))
                continue
            frame = frame.to(torch.float32).contiguous()
            if ring is not None and ring.fits(frame):
                slot = sent % ring.slots
                ring.write(slot, frame)
                conn.send(("frame", index, slot, tuple(frame.shape), None, seconds, notes))
            else:  # first frame, or it grew: through the pipe once; the parent sizes a ring for the next
                conn.send(("frame", index, None, tuple(frame.shape), frame.numpy().tobytes(), seconds, notes))
            sent += 1
    if ring is not None:
        ring.close()
    conn.close()


def make(source, index: int):
    """``(frame, degrade notes, None)`` or ``(None, notes, (kind, message))``."""
    notes: list[str] = []
    for _ in range(MAX_DEGRADE):
        try:
            return source.make(index), notes, None
        except BaseException as exc:  # noqa: BLE001
            kind = classify(exc)
            message = f"{type(exc).__name__}: {exc}"
            del exc  # drop the traceback (and what the plugin allocated) before degrading
            if kind == "oom":
                note = degrade_source(source)
                if note is not None:
                    notes.append(note)
                    continue
            return None, notes, (kind, message)
    return None, notes, ("oom", "still out of memory after degrading")
