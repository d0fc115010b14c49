"""``installation calibrate PROFILE``: set projectors up on site, live or headless.

Live (needs a display): the outputs open as the profile says, showing a test pattern or the
running content; keys, mouse and OSC from a tablet move corners and mesh points, Ctrl+S saves.
Headless: ``--check`` validates and summarises, ``--snapshot DIR`` renders each output to PNG.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT, got {text!r}", param_hint="--init") from None
    return w, h


def _parse_hostport(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, got {text!r}", param_hint="--feedback")
    return host, int(port)


def summary(profile) -> str:
    lines = [
        f"profile {profile.name or '(unnamed)'}: canvas {profile.canvas[0]}x{profile.canvas[1]}, "
        f"{len(profile.outputs)} output(s), window {profile.window}"
    ]
    for i, o in enumerate(profile.outputs):
        blends = ", ".join(f"{side} {e.width:g}px" for side, e in o.blend.sides().items() if e.width > 0) or "none"
        mesh = f"{o.mesh.cols}x{o.mesh.rows}" if o.mesh else "none"
        lines.append(
            f"  [{i}] {o.name or '-'}: display {o.display} {o.resolution[0]}x{o.resolution[1]} at "
            f"{tuple(o.position)}, region {tuple(o.region)}, mesh {mesh}, blend {blends}, masks {len(o.masks)}"
        )
    return "\n".join(lines)


def snapshot(profile, pattern: str, out_dir: Path, image: Path | None = None) -> list[Path]:
    """Render every output of ``profile`` headless (EGL) to ``out_dir/output-N.png``."""
    import cv2
    import numpy as np

    from ..calibration.glpass import CalibrationPass
    from ..render.context import create_headless_context
    from ..render.patterns import make_pattern, to_texture

    cw, ch = profile.canvas
    if image is not None:
        img = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if img is None:
            raise typer.BadParameter(f"{image}: cannot read image", param_hint="--image")
        img = cv2.cvtColor(cv2.resize(img, (cw, ch), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGBA)
    else:
        img = make_pattern(pattern, cw, ch, profile)
    ctx = create_headless_context()
    canvas = to_texture(ctx, img)
    cal = CalibrationPass(ctx, profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, out in enumerate(profile.outputs):
        w, h = out.resolution
        fbo = ctx.simple_framebuffer((w, h), components=4)
        cal.render(canvas, i, fbo)
        px = np.frombuffer(fbo.read(components=3), np.uint8).reshape(h, w, 3)[::-1]
        path = out_dir / f"output-{i + 1}.png"
        cv2.imwrite(str(path), cv2.cvtColor(px, cv2.COLOR_RGB2BGR))
        written.append(path)
        fbo.release()
    cal.release()
    ctx.release()
    return written


def register(app: typer.Typer) -> None:
    @app.command("calibrate")
    def calibrate(
        profile_path: Path = typer.Argument(
            ..., metavar="PROFILE", help="Calibration profile (TOML), e.g. calibration/venue.toml."
        ),
        init: str | None = typer.Option(None, help="Create PROFILE first: WIDTHxHEIGHT of each output."),
        outputs: int = typer.Option(1, help="With --init: projectors side by side."),
        overlap: int = typer.Option(
            0, help="With --init: overlap between neighbours in canvas pixels (soft-edge width)."
        ),
        check: bool = typer.Option(False, "--check", help="Validate the profile, print a summary and exit."),
        snapshot_dir: Path | None = typer.Option(
            None, "--snapshot", help="Render each output headless to DIR/output-N.png and exit."
        ),
        pattern: str | None = typer.Option(
            None,
            help="Test pattern to start with: grid, crosshair, bars, ramps, ids, white, black, or content "
            "(default: content with --show or --image, else grid).",
        ),
        show: Path | None = typer.Option(None, help="Calibrate over this show running live as the content."),
        image: Path | None = typer.Option(None, help="A still image to use as the content."),
        device: str = typer.Option("auto", help="Where the show's models run (with --show): auto | cpu | cuda."),
        output: int | None = typer.Option(
            None, help="Open only this output (0-based) in its own window: one process per display."
        ),
        osc_port: int = typer.Option(9010, help="UDP port for the OSC remote (/calibrate/...); 0 turns it off."),
        osc_host: str = typer.Option("0.0.0.0", help="Address the OSC remote listens on."),
        feedback: str | None = typer.Option(None, help="HOST:PORT to send /calibrate/status to (the tablet)."),
        windowed: bool = typer.Option(False, help="Framed window instead of borderless."),
    ):
        """Calibrate projectors: corner pin, mesh warp, soft-edge blend, colour; saves to PROFILE."""
        from ..calibration import CalibrationProfile, load_profile, save_profile

        if init:
            if profile_path.exists():
                raise typer.BadParameter(f"{profile_path} exists; remove it or drop --init", param_hint="--init")
            w, h = _parse_size(init)
            if outputs > 1:
                profile = CalibrationProfile.span(outputs, w, h, overlap, name=profile_path.stem)
            else:
                profile = CalibrationProfile.identity(w, h, name=profile_path.stem)
            save_profile(profile, profile_path)
            typer.echo(f"created {profile_path}")
        profile = load_profile(profile_path)  # problems are printed by the CLI's error boundary
        if output is not None and not 0 <= output < len(profile.outputs):
            raise typer.BadParameter(f"the profile has outputs 0..{len(profile.outputs) - 1}", param_hint="--output")
        if check:
            typer.echo(summary(profile))
            return
        if pattern is None:
            pattern = "content" if (show or image) else "grid"
        if snapshot_dir is not None:
            for path in snapshot(profile, "grid" if pattern == "content" else pattern, snapshot_dir, image):
                typer.echo(f"wrote {path}")
            return
        if show is not None:
            from .common import resolve_device

            content = _show_content(show, profile, str(resolve_device(device)))
        elif image is not None:
            content = _image_content(image, profile)
        else:
            content = None
        _live(
            profile_path, profile, pattern, content, output, osc_host, osc_port, _parse_hostport(feedback), not windowed
        )


def _live(profile_path, profile, pattern, content, output, osc_host, osc_port, feedback, fullscreen) -> None:
    from ..calibration.editor import CalibrationEditor
    from ..calibration.osc import CalibrationOSC
    from ..calibration.window import run_live
    from ..render.context import NoDisplayError, has_display

    if not has_display():  # before the OSC remote opens its port; printed by the error boundary (exit 2)
        raise NoDisplayError(
            "no display: live calibration needs a screen (or Xvfb); use --snapshot DIR to render "
            "the outputs to images headless, --check to validate"
        )
    editor = CalibrationEditor(profile, profile_path, only_output=output)
    if not editor.set_pattern(pattern):
        raise typer.BadParameter(editor.message, param_hint="--pattern")
    osc = CalibrationOSC(editor, osc_host, osc_port, feedback).start() if osc_port else None
    if osc is not None:
        typer.echo(f"OSC remote on {osc_host}:{osc.address[1]} (/calibrate/select, /calibrate/nudge, ...)")
    try:  # a display that goes away raises NoDisplayError: one line from the error boundary
        run_live(profile_path, editor, content=content, osc=osc, only_output=output, fullscreen=fullscreen)
    finally:
        if osc is not None:
            osc.close()


def _show_content(show_path: Path, profile, device: str):
    """Content callable running ``show_path`` live at the profile's canvas size (same GL context)."""
    from ..show.loader import load_show

    show = load_show(show_path)
    state = {}

    def content(ctx):
        if "app" not in state:
            from ..app import App
            from ..clock import RealClock
            from ..plugins import make_plugin_manager
            from ..render.compositor import Compositor

            compositor = Compositor(ctx, tuple(profile.canvas))
            state["app"] = App(show, make_plugin_manager(), compositor, RealClock(), device=device)
        state["app"].frame()
        return state["app"].compositor.canvas

    content.close = lambda: state["app"].close() if "app" in state else None  # type: ignore[attr-defined]  # a function carrying its cleanup
    return content


def _image_content(image: Path, profile):
    """Content callable showing a still image stretched over the canvas."""
    import cv2

    from ..render.patterns import to_texture

    img = cv2.imread(str(image), cv2.IMREAD_COLOR)
    if img is None:
        raise typer.BadParameter(f"{image}: cannot read image", param_hint="--image")
    img = cv2.cvtColor(cv2.resize(img, tuple(profile.canvas), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGBA)
    cache = {}

    def content(ctx):
        if "tex" not in cache:
            cache["tex"] = to_texture(ctx, img)
        return cache["tex"]

    return content
