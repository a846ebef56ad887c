"""A local S3-compatible server for the object-storage tests and benchmark: moto in server
mode on 127.0.0.1, and a proxy in front of it that answers listings slowly."""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 on a free port of 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(endpoint: str, **keys: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys.get("key", "testing"),
        aws_secret_access_key=keys.get("secret", "testing"),
    )


def upload_folder(endpoint: str, folder: Path, bucket: str, prefix: str) -> None:
    """Every file under `folder` to s3://bucket/prefix/<folder name>/..."""
    s3 = client(endpoint)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{folder.name}/{path.relative_to(folder).as_posix()}"
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def limited_user(endpoint: str, bucket: str) -> dict[str, str]:
    """An IAM user allowed to list the bucket but not to read its objects; then moto starts
    checking every request's credentials. Returns the user's key and secret."""
    iam = __import__("boto3").client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    iam.create_user(UserName="lister")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
        ],
    }
    iam.put_user_policy(UserName="lister", PolicyName="list", PolicyDocument=json.dumps(policy))
    made = iam.create_access_key(UserName="lister")["AccessKey"]
    set_auth(endpoint, True)
    return {"key": made["AccessKeyId"], "secret": made["SecretAccessKey"]}


def set_auth(endpoint: str, on: bool) -> None:
    """moto's switch for checking credentials and IAM policies on every request."""
    body = b"0" if on else b"inf"
    urllib.request.urlopen(
        urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain"},  # a form body would be parsed away
        )
    ).read()


@contextmanager
def slow_listings(endpoint: str, delay: float, every_request: bool = False) -> Iterator[str]:
    """A proxy to `endpoint` that holds every listing request (or every request) for `delay`
    seconds: a slow store, or a store's round trip."""
    target = endpoint.removeprefix("http://")

    class Forward(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            listing = "list-type" in self.path or "delimiter" in self.path
            if every_request or (self.command == "GET" and listing):
                time.sleep(delay)
            conn = http.client.HTTPConnection(target, timeout=30)
            conn.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.request_queue_size = 128
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
