"""A stand-in for the ECS agent's task scale-in protection endpoint, on 127.0.0.1 and a free port."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeAgent:
    """Records PUT /task-protection/v1/state bodies like the ECS agent endpoint would receive them."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                agent.calls.append({"path": self.path, **body})
                answer = json.dumps({"protection": {"ProtectionEnabled": body["ProtectionEnabled"]}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
