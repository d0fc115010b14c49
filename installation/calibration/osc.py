"""OSC remote for the calibration editor: calibrate from a tablet standing in the room.

Addresses (arguments in brackets are optional)::

    /calibrate/select  [output] [corners|mesh] point     /calibrate/output  i
    /calibrate/mode    corners|mesh                      /calibrate/next    [step]
    /calibrate/nudge   dx dy [coarse]   (steps; coarse=1 uses the coarse step)
    /calibrate/move    x y              (normalised output position, an XY pad)
    /calibrate/pick    x y              (select the nearest point)
    /calibrate/reset   /calibrate/undo   /calibrate/redo   /calibrate/save [path]
    /calibrate/pattern name|content     /calibrate/mesh cols rows (0 0 removes)
    /calibrate/steps   fine coarse      (pixels)
    /calibrate/blend   side [width] [curve] [gamma]     /calibrate/color gamma|brightness|black_level r g b
    /calibrate/reload

The server runs python-osc's blocking UDP server in one thread (the threading server spawns a
thread per message and drops bursts); handlers only queue commands on the editor, which the
render loop applies.  With ``feedback`` the window sends ``/calibrate/status text`` back.
"""

from __future__ import annotations

import threading

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from .editor import _COMMANDS, CalibrationEditor

PREFIX = "/calibrate/"


def make_dispatcher(editor: CalibrationEditor) -> Dispatcher:
    """A dispatcher mapping ``/calibrate/<command>`` to ``editor.post(command, *args)``."""
    dispatcher = Dispatcher()

    def handler(address: str, *args) -> None:
        editor.post(address[len(PREFIX) :], *args)

    for command in _COMMANDS:
        dispatcher.map(PREFIX + command, handler)
    dispatcher.set_default_handler(lambda address, *args: editor.post("unknown:" + address, *args))
    return dispatcher


class CalibrationOSC:
    """Serve the editor's OSC addresses on ``host:port`` from a background thread."""

    def __init__(
        self,
        editor: CalibrationEditor,
        host: str = "0.0.0.0",
        port: int = 9010,
        feedback: tuple[str, int] | None = None,
    ):
        self.editor = editor
        self.server = BlockingOSCUDPServer((host, port), make_dispatcher(editor))
        self.feedback = SimpleUDPClient(*feedback) if feedback else None
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="calibration-osc", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return (host if isinstance(host, str) else host.decode(), port)  # AF_INET: host is a str

    def start(self) -> CalibrationOSC:
        self._thread.start()
        return self

    def send_status(self) -> None:
        """Tell the tablet what is selected (call from the render loop after ``drain``)."""
        if self.feedback is not None:
            x, y = self.editor.selected_position()
            self.feedback.send_message(
                "/calibrate/status",
                [self.editor.status(), self.editor.output, self.editor.target, self.editor.point, x, y],
            )

    def close(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()  # blocks until serve_forever returns, so only when it runs
            self._thread.join(timeout=2)
        self.server.server_close()

    def __enter__(self) -> CalibrationOSC:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
