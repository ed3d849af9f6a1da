"""A real S3 API on 127.0.0.1 (moto's standalone server) and the environment that points
boto, s3fs and fupin's workers at it."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach the bucket (credentials moto accepts as any)."""
        return {"AWS_ACCESS_KEY_ID": "fupin-test", "AWS_SECRET_ACCESS_KEY": "fupin-test",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint}

    def url(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])


@contextmanager
def s3_server() -> Iterator[S3]:
    """Serve S3 on a free port with one empty bucket; this process's environment points at
    it meanwhile (and its children's, when they inherit it)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = S3(f"http://{host}:{port}", f"fupin-{uuid.uuid4().hex[:8]}")
    saved = {k: os.environ.get(k) for k in s3.env}
    os.environ.update(s3.env)
    from fupin.tasks.pipeline import storage

    storage._filesystem.cache_clear()  # an s3fs made before keeps its endpoint
    try:
        fs, _ = storage.filesystem(s3.url())
        fs.mkdir(s3.bucket)
        yield s3
    finally:
        storage._filesystem.cache_clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
