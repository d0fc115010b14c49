"""``installation osc``: the address map of a show, and small tools for wiring a venue.

``map`` prints every live parameter with its type and range (the same tree the running show
answers on ``/query``); ``send``, ``query`` and ``monitor`` test a network without a tablet;
``learn`` binds the next MIDI or OSC input to a parameter and prints the ``[[bindings]]`` table.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import typer


def _load(show: Path):
    from ..show.loader import load_show

    return load_show(show)  # problems are printed by the CLI's error boundary


def _parse_arg(text: str):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, (int, float, str, bool)) else text


def register(app: typer.Typer) -> None:
    osc = typer.Typer(help="OSC address map, test sender, monitor and MIDI/OSC learn.", no_args_is_help=True)
    app.add_typer(osc, name="osc")

    @osc.command("map")
    def map_(
        show: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        prefix: str = typer.Option("/", "--prefix", help="Only addresses under this path, e.g. /layer."),
        as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON (same fields as /query replies)."),
    ):
        """Print the show's OSC address tree with types, ranges and defaults, then its bindings."""
        from ..control.check import control_problems
        from ..control.standard import build_registry
        from ..control.system import _tables, layout_from_show
        from ..problems import Problem, ProblemError

        s = _load(show)
        problems = control_problems(s)  # parameters named in bindings, [control.params], [control.combine]
        if problems:
            raise ProblemError(show, problems)
        try:
            # a show without a [control] table keeps the schema's plain default: _tables gives the
            # validated ControlConfig (defaults filled in) and bindings, as a running show uses them
            c, bindings = _tables(s)
            reg = build_registry(layout_from_show(s, c), c)
        except ValueError as exc:
            raise ProblemError(show, Problem(None, "control", str(exc))) from None
        if as_json:
            typer.echo(json.dumps(reg.describe(prefix), indent=1))
            return
        typer.echo(
            f"# {s.show.name}: OSC in on {c.osc.host}:{c.osc.port}"
            + (
                ""
                if c.osc.enabled and ("osc" in s.control.model_fields_set or "enabled" in c.osc.model_fields_set)
                else " (off: the show has no [control.osc] table)"
                if c.osc.enabled
                else " (disabled)"
            )
            + f", allowlist {', '.join(c.osc.allowlist)}, {c.osc.rate_limit:g} msg/s per source"
        )
        typer.echo(f"# query: {c.osc.query_address} [prefix] [reply_port] -> /query/param ..., /query/end N")
        typer.echo(reg.format_tree(prefix))
        if c.osc_out.targets:
            typer.echo(
                f"# state out to {', '.join(c.osc_out.targets)} every {c.osc_out.heartbeat:g} s: "
                + ", ".join(f"{c.osc_out.prefix}/{k}" for k in ("scene", "cue", "fps", "health", "heartbeat"))
            )
        if bindings:
            typer.echo("# bindings")
            for b in bindings:
                lo, hi = b.resolved_in_range()
                extra = f" smoothing {b.smoothing} {b.time:g}s" if b.smoothing != "none" else ""
                typer.echo(
                    f"{b.input}[{b.arg}] [{lo:g}, {hi:g}] -> {b.param} {b.curve}{extra}"
                    + (f" deadband {b.deadband:g}" if b.deadband else "")
                )

    @osc.command("send")
    def send(
        address: str = typer.Argument(..., help="OSC address, e.g. /cue/go."),
        args: list[str] | None = typer.Argument(
            None, help="Arguments; numbers are sent as int/float, the rest as text."
        ),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(9000, "--port"),
    ):
        """Send one OSC message (to try a show's cues and faders without a tablet)."""
        from ..control.osc_out import build_message

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(build_message(address, [_parse_arg(a) for a in args or []]), (host, port))

    @osc.command("query")
    def query(
        prefix: str = typer.Argument("/", help="Address prefix to ask about."),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(9000, "--port"),
        timeout: float = typer.Option(2.0, "--timeout"),
    ):
        """Ask a running show for its parameters (``/query``) and print the reply."""
        from pythonosc.osc_message import OscMessage

        from ..control.osc_out import build_message

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", 0))
            s.settimeout(timeout)
            s.sendto(build_message("/query", [prefix]), (host, port))
            try:
                while True:
                    m = OscMessage(s.recv(65535))
                    if m.address == "/query/end":
                        return
                    if m.address == "/query/param":
                        addr, typ, _tag, lo, hi, choices, _default, value, _desc = m.params
                        rng = f" [{lo:g}, {hi:g}]" if lo != "" else (f" {{{choices}}}" if choices else "")
                        typer.echo(f"{addr}  {typ}{rng} = {value}")
            except TimeoutError:
                typer.echo(
                    f"no reply from {host}:{port} within {timeout:g} s (is the show running, "
                    "and is this machine in its allowlist?)",
                    err=True,
                )
                raise typer.Exit(1) from None

    @osc.command("monitor")
    def monitor(
        port: int = typer.Option(9001, "--port", help="Port to listen on (e.g. a show's osc_out target)."),
        host: str = typer.Option("0.0.0.0", "--host"),
        count: int = typer.Option(0, "--count", help="Stop after this many messages (0 = until Ctrl-C)."),
    ):
        """Print OSC messages arriving on a port (what a show sends, or what a tablet sends)."""
        from pythonosc.osc_packet import OscPacket

        seen = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, port))
            while count == 0 or seen < count:
                data, addr = s.recvfrom(65535)
                try:
                    messages = [m.message for m in OscPacket(data).messages]
                except Exception:
                    typer.echo(f"{addr[0]}:{addr[1]}  <malformed {len(data)} bytes>")
                    continue
                for m in messages:
                    typer.echo(f"{addr[0]}:{addr[1]}  {m.address} {' '.join(map(repr, m.params))}")
                    seen += 1

    @osc.command("learn")
    def learn(
        show: Path = typer.Argument(..., exists=True, dir_okay=False, help="Show file (TOML)."),
        param: str = typer.Argument(..., help="Parameter to bind, e.g. /walk/speed."),
        midi: str | None = typer.Option(None, "--midi", help="Also listen on the MIDI input whose name contains this."),
        timeout: float = typer.Option(30.0, "--timeout"),
    ):
        """Move a fader (OSC or MIDI): print the [[bindings]] table that binds it to PARAM."""
        from ..control.system import Control

        s = _load(show)
        s.control.osc.enabled = True  # learn listens for OSC whether or not the show declares it
        if midi is not None:
            s.control.midi.enabled, s.control.midi.port = True, midi
        control = Control.from_show(s)
        try:
            control.router.learn(param)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        control.start_inputs()
        for name, why in control.input_failures.items():
            typer.echo(f"{name}: {why}", err=True)
        if not control.inputs:
            raise typer.Exit(1)
        typer.echo(f"move the control to bind to {param} ...", err=True)
        end = time.monotonic() + timeout
        try:
            while not control.router.learned and time.monotonic() < end:
                control.events.wait(0.1)
                control.frame(0.0)
        finally:
            control.stop()
        if not control.router.learned:
            typer.echo("nothing moved", err=True)
            raise typer.Exit(1)
        typer.echo(control.router.learned[0].to_toml())

    @osc.command("midi-ports")
    def midi_ports():
        """List MIDI input ports (needs the midi extra)."""
        from ..control.midi import list_ports

        names = list_ports()  # no mido or no ALSA: one line from the error boundary, exit 2
        for name in names:
            typer.echo(name)
        if not names:
            typer.echo("no MIDI input ports", err=True)
