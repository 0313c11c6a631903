"""The filesystem broker of the embedded defaults (no CELERY_BROKER_URL): kombu's transport, except that a
message becomes visible in the queue folder only once it is whole.

kombu's filesystem transport creates a message's file under its final name and then writes it
(`kombu/transport/filesystem.py` `Channel._put`, kombu 5.7.0); a worker listing the folder in between moves
and reads an empty file, and the JSON error of that read stops the worker (kombu issue #1551), leaving every
later order NEW until a restart. The worker now looks every few tens of milliseconds (settings:
CELERY_FILESYSTEM_POLL_SECONDS), which makes that window easy to hit. Here the message is written under a
name no consumer reads (a leading dot: kombu matches `<stamp>_<uuid>.<queue>.msg`) and renamed into place in
the same folder, which is atomic."""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    """kombu's filesystem channel with whole-message publishing."""

    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]  # as kombu's own
        """Write the message under a hidden name, then rename it to the name consumers read."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    """kombu's filesystem transport with Channel above (CELERY_BROKER_TRANSPORT names it)."""

    Channel = Channel
