"""nginx in front of the bench's web and stream processes, as production runs them (docs/deploy.md): the push
stream to the ASGI stream process, unbuffered, every other route to gunicorn. Used when nginx is on PATH
(Debian: `apt-get install -y nginx-light`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from _common import start_process

CONFIG = """
daemon off;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    # A poll's query names every row the page shows (orders_table.rows_token).
    large_client_header_buffers 4 16k;
    proxy_buffer_size 64k;
    proxy_buffers 16 64k;
    upstream web {{ server 127.0.0.1:{web_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location = /live-trade/stream {{
            proxy_pass http://127.0.0.1:{stream_port};
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
        }}
        location / {{
            proxy_pass http://web;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def nginx_path() -> str | None:
    """nginx's executable (also where Debian puts it, outside a non-root PATH), or None."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def start_nginx(
    nginx: str, *, port: int, web_port: int, stream_port: int, tmp: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """nginx on `port` in front of gunicorn (`web_port`) and the stream process (`stream_port`)."""
    # As root nginx's workers would run as nobody, who cannot write the temp folders under tmp.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(CONFIG.format(user=user, tmp=tmp, port=port, web_port=web_port, stream_port=stream_port))
    return start_process(
        "nginx", [nginx, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"), "-c", str(conf)], env, tmp
    )
