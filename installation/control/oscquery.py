"""OSCQuery: the show's parameters as the Vidvox OSCQuery proposal describes them, found by mDNS.

A controller (TouchOSC, Chataigne, Vezér, a script) browses for ``_oscjson._tcp``, reads
``/?HOST_INFO`` to learn where to send OSC (``OSC_IP``, ``OSC_PORT``, ``OSC_TRANSPORT``), then
the tree: every node has ``FULL_PATH`` and ``ACCESS`` (0 none, 1 read, 2 write, 3 both);
parameters add ``TYPE`` (OSC type tags), ``RANGE`` (``MIN``/``MAX``, or ``VALS`` for a choice),
``DESCRIPTION`` and their current ``VALUE``.  ``GET /walk/speed`` answers one node and
``GET /walk/speed?VALUE`` one attribute of it (204 when the node has no value).  The OSC service
itself is advertised as ``_osc._udp`` too.  LISTEN: a WebSocket on the same port takes
``{"COMMAND": "LISTEN", "DATA": "/walk/speed"}`` (and ``IGNORE``) and then sends each new value
of that address as an OSC message in a binary frame.

Why our own HTTP side rather than python-oscquery 0.4's ``OSCQueryService``: that service binds
its HTTP server to every interface (the show's OSC host is ignored), keeps its own copy of the
address space that would have to be mirrored from the registry after every change, sends no
``RANGE`` and announces ``RANGE: false``, has no LISTEN, answers ``text/json``, and registers an
``atexit`` hook.  The tree here is built on each request from :meth:`ParameterRegistry.describe` (which
takes the registry's lock), so values are always current and a reloaded show's addresses appear
without a rebuild.  mDNS goes through ``zeroconf`` (the ``web`` extra), which python-oscquery
also uses; its client reads this tree (the tests use it).

The server only reads the registry: it never enqueues, and no request reaches the render loop.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from . import ws
from .osc_out import build_message

log = logging.getLogger(__name__)

#: attributes a client may ask for one at a time (``GET /path?ATTR``)
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "VALUE", "ACCESS", "RANGE", "DESCRIPTION", "HOST_INFO")
OSC_TYPE = {"float": "f", "int": "i", "bool": "T", "trigger": "N", "str": "s"}
#: parameters the show writes (state): readable, never written by a controller
READ_ONLY_PREFIX = "/status/"


def _access(row: dict) -> int:
    if row["address"].startswith(READ_ONLY_PREFIX):
        return 1
    if row["type"] == "trigger":
        return 2
    return 3


def method_node(row: dict) -> dict[str, Any]:
    """One parameter (a :meth:`Parameter.describe` row) as an OSCQuery method node."""
    node: dict[str, Any] = {"FULL_PATH": row["address"], "ACCESS": _access(row), "TYPE": OSC_TYPE[row["type"]]}
    if row["description"]:
        node["DESCRIPTION"] = row["description"]
    if row["range"] is not None:
        node["RANGE"] = [{"MIN": row["range"][0], "MAX": row["range"][1]}]
    elif row["choices"] is not None:
        node["RANGE"] = [{"VALS": list(row["choices"])}]
    value = row["value"] if row["value"] is not None else row["default"]
    if row["type"] != "trigger" and value is not None:
        node["VALUE"] = [value]
    return node


def build_tree(rows: list[dict], description: str = "") -> dict[str, Any]:
    """The whole OSCQuery tree from the registry's rows; containers get ``ACCESS`` 0 and ``CONTENTS``."""
    root: dict[str, Any] = {"FULL_PATH": "/", "ACCESS": 0, "CONTENTS": {}}
    if description:
        root["DESCRIPTION"] = description
    for row in rows:
        node, path = root, ""
        for part in row["address"].strip("/").split("/"):
            path += "/" + part
            contents = node.setdefault("CONTENTS", {})
            node = contents.setdefault(part, {"FULL_PATH": path, "ACCESS": 0})
        contents = node.pop("CONTENTS", None)
        node.update(method_node(row))
        if contents is not None:  # an address that is a parameter and a container (/scene, /scene/next)
            node["CONTENTS"] = contents
    return root


def find_node(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    node = tree
    for part in [p for p in path.split("/") if p]:
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            self._websocket()
            return
        url = urlsplit(self.path)
        attrs = [a for a in url.query.split("&") if a]
        attr = attrs[0].split("=", 1)[0].upper() if attrs else None
        if attr is not None and attr not in ATTRIBUTES:
            self._send(400, {"error": f"attribute {attr!r} is not one of {', '.join(ATTRIBUTES)}"})
            return
        if attr == "HOST_INFO":
            self._send(200, self.server.owner.host_info())
            return
        tree = build_tree(self.server.owner.rows(), self.server.owner.name)
        node = find_node(tree, unquote(url.path))
        if node is None:
            self._send(404, {"error": f"no OSC address {url.path!r}"})
        elif attr is None:
            self._send(200, node)
        elif attr not in node:
            self._send(204, None)  # the spec: an attribute the node does not have (a trigger's VALUE)
        else:
            self._send(200, {attr: node[attr]})

    def _websocket(self) -> None:
        """LISTEN: upgrade this connection and hand it to the server's listener loop."""
        key = self.headers.get("Sec-WebSocket-Key")
        owner = self.server.owner
        if not key or not owner.admit():
            self._send(400 if not key else 503, {"error": "bad WebSocket upgrade" if not key else "too many listeners"})
            return
        try:
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", ws.accept_key(key))
            self.end_headers()
            self.close_connection = True
            owner.listen(self.connection)
        finally:
            owner.leave()

    def _send(self, code: int, doc: Any) -> None:
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(code)
        if doc is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("oscquery %s " + fmt, self.client_address[0], *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: OscQueryServer


class OscQueryServer:
    """Serve the registry's tree over HTTP at ``host:port`` and advertise it (and the OSC port) by mDNS.

    ``rows`` returns the registry's :meth:`describe` rows (called per request: always current);
    ``values`` its ``{address: value}`` (LISTEN compares them every ``LISTEN_POLL`` seconds);
    ``osc_host``/``osc_port`` are where the OSC server listens.  ``advertise=False`` skips mDNS.
    """

    LISTEN_POLL = 0.05
    MAX_LISTENERS = 16

    def __init__(
        self,
        rows: Callable[[], list[dict]],
        name: str,
        osc_host: str,
        osc_port: int,
        port: int = 0,
        advertise: bool = True,
        values: Callable[[], dict] | None = None,
    ) -> None:
        self.rows, self.name = rows, name
        self.values = values or (lambda: {r["address"]: r["value"] for r in self.rows()})
        self._listeners = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.osc_host, self.osc_port = osc_host, osc_port
        # the tree is served where OSC is received: a loopback-only OSC server gets a loopback tree
        self.host = osc_host if osc_host not in ("", "::") else "0.0.0.0"
        self._server = _Server((self.host, port), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._advertise = advertise
        self._zeroconf: Any = None  # a zeroconf.Zeroconf once advertised (imported lazily: optional)
        self._infos: list = []
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.25}, name="oscquery-http", daemon=True
        )

    def host_info(self) -> dict[str, Any]:
        return {
            "NAME": self.name,
            "OSC_IP": self._announced_ip(),
            "OSC_PORT": self.osc_port,
            "OSC_TRANSPORT": "UDP",
            "EXTENSIONS": {
                "ACCESS": True,
                "VALUE": True,
                "RANGE": True,
                "DESCRIPTION": True,
                "TAGS": False,
                "CLIPMODE": False,
                "UNIT": False,
                "CRITICAL": False,
                "LISTEN": True,
                "PATH_CHANGED": False,
                "PATH_ADDED": False,
                "PATH_REMOVED": False,
            },
        }

    # -- LISTEN (WebSocket on the HTTP port) ---------------------------------------------------
    def admit(self) -> bool:
        with self._lock:
            if self._listeners >= self.MAX_LISTENERS:
                return False
            self._listeners += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._listeners = max(0, self._listeners - 1)

    def listen(self, sock: socket.socket) -> None:
        """Serve one WebSocket: ``{"COMMAND": "LISTEN"|"IGNORE", "DATA": "/path"}`` text frames in,
        an OSC message (binary frame) out whenever a listened value changes.  Reads values only."""
        listened: set[str] = set()
        sent: dict[str, Any] = {}
        try:
            while not self._closing.is_set():
                readable, _, _ = select.select([sock], [], [], self.LISTEN_POLL)
                if readable:
                    sock.settimeout(5.0)
                    opcode, data = ws.read_frame(sock)
                    sock.settimeout(None)
                    if opcode == ws.CLOSE:
                        ws.send_frame(sock, ws.CLOSE, data[:2])
                        return
                    if opcode == ws.PING:
                        ws.send_frame(sock, ws.PONG, data)
                    elif opcode == ws.TEXT:
                        self._command(data, listened, sent)
                if listened:
                    values = self.values()
                    for address in sorted(listened):
                        value = values.get(address)
                        if value is not None and (address not in sent or sent[address] != value):
                            ws.send_frame(sock, ws.BINARY, build_message(address, [value]))
                            sent[address] = value
        except (ws.WsClosed, OSError, ValueError) as exc:
            log.debug("oscquery listener closed: %s", exc)

    def _command(self, data: bytes, listened: set[str], sent: dict) -> None:
        try:
            doc = json.loads(data)
            command, path = doc["COMMAND"], doc["DATA"]
        except (ValueError, KeyError, TypeError):
            log.debug("oscquery: ignored a WebSocket message that is not a command: %r", data[:80])
            return
        if command == "LISTEN" and isinstance(path, str):
            listened.add(path)
            sent[path] = self.values().get(path)  # changes from now on are sent
        elif command == "IGNORE" and isinstance(path, str):
            listened.discard(path)
            sent.pop(path, None)

    def _announced_ip(self) -> str:
        if self.host != "0.0.0.0":
            return self.host
        try:  # the address other hosts reach us at (no packet is sent by a UDP connect)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))
                return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"

    def start(self) -> OscQueryServer:
        self._thread.start()
        log.info("OSCQuery tree at http://%s:%s/", self.host, self.port, extra={"event": "oscquery", "port": self.port})
        if self._advertise and os.environ.get("INSTALLATION_MDNS", "1") == "0":
            log.info("OSCQuery not advertised: INSTALLATION_MDNS=0")
        elif self._advertise:
            try:
                self._register()
            except ImportError:
                log.error(
                    "OSCQuery is served at port %s but not advertised: zeroconf is not installed "
                    "(pip install 'installation[web]')",
                    self.port,
                )
            except Exception as exc:  # no multicast route, a name clash: the tree still answers
                log.error("OSCQuery could not be advertised by mDNS: %s: %s", type(exc).__name__, exc)
        return self

    def _register(self) -> None:
        from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, Zeroconf

        ip = self._announced_ip()
        loopback = ip.startswith("127.")
        self._zeroconf = Zeroconf(interfaces=[ip] if loopback else InterfaceChoice.All, ip_version=IPVersion.V4Only)
        label = _label(self.name)
        host = f"{label}.local."
        for kind, port in (("_oscjson._tcp.local.", self.port), ("_osc._udp.local.", self.osc_port)):
            info = ServiceInfo(
                kind,
                f"{label}.{kind}",
                port=port,
                properties={"txtvers": "1"},
                server=host,
                addresses=[socket.inet_aton(ip)],
            )
            self._zeroconf.register_service(info, allow_name_change=True)
            self._infos.append(info)
        log.info(
            "OSCQuery advertised as %r (_oscjson._tcp port %s, _osc._udp port %s)", label, self.port, self.osc_port
        )

    def close(self) -> None:
        self._closing.set()
        if self._zeroconf is not None:
            try:
                self._zeroconf.unregister_all_services()
                self._zeroconf.close()
            except Exception:
                pass
            self._zeroconf = None
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _label(name: str) -> str:
    """A DNS-SD instance label from the show name (spaces kept, dots and control characters not)."""
    cleaned = "".join(c if c.isprintable() and c != "." else "-" for c in name).strip() or "installation"
    return cleaned[:60]


def start_for(control: Any, name: str, port: int = 0, advertise: bool = True) -> OscQueryServer | None:
    """Serve and advertise ``control``'s registry when its OSC input is running; None otherwise.

    Reads the port the OSC server actually bound (a show may ask for port 0).  A tree that cannot
    be served (its port taken) is logged and the show goes on without it.
    """
    osc = control.inputs.get("osc")
    if osc is None or not hasattr(osc, "address"):
        return None
    osc_host, osc_port = osc.address
    try:
        return OscQueryServer(
            lambda: control.registry.describe(),
            name,
            osc_host,
            osc_port,
            port,
            advertise,
            values=lambda: control.registry.values(),
        ).start()
    except OSError as exc:
        log.error("OSCQuery could not start on port %s: %s", port, exc)
        return None
