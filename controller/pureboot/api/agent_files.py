"""GET /boot/agent/<file>: the built deploy agent (vmlinuz, initrd.img, manifest.json).

Open like every boot file (a booting node has no credentials); only these three names
are served, from ``<data_dir>/agent`` where ``pureboot agent build`` puts them.
"""

from __future__ import annotations

from flask import current_app, send_file
from flask.views import MethodView

from ..agent.builder import FILES, agent_dir
from ..errors import NotFound
from .blueprint import Blueprint

blp = Blueprint("agent_files", __name__, url_prefix="/boot/agent",
                description="The deploy agent's kernel, initramfs and manifest")
MIMETYPES = {"manifest.json": "application/json"}


@blp.route("/<string:name>")
class AgentFile(MethodView):
    @blp.response(200, description="the file; supports Range requests", content_type="application/octet-stream")
    @blp.alt_response(404, description="unknown name, or no agent built yet (`pureboot agent build`)")
    def get(self, name):
        """Download a file of the built agent"""
        if name not in FILES:
            raise NotFound(f"no agent file {name!r}; files: {', '.join(FILES)}")
        path = agent_dir(current_app.config["PUREBOOT"].data_dir) / name
        if not path.is_file():
            raise NotFound("the agent has not been built: run `pureboot agent build`")
        return send_file(path, mimetype=MIMETYPES.get(name, "application/octet-stream"),
                         conditional=True, max_age=0)
