"""Scale-out: `medialib serve` publishes jobs to Redis or RabbitMQ and `medialib worker`
processes do the processing; a worker killed in the middle of a video loses nothing."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import free_port
from tests.helpers import eventually, get_media, upload_file, wait_settled
from tests.processes import MEDIALIB, ServeProcess, WorkerProcess, env_for


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    namespace = f"medialib-e2e-{uuid.uuid4().hex[:8]}"
    url = str(request.getfixturevalue(f"{request.param}_url"))
    env = env_for(
        tmp_path,
        f"sqlite:///{tmp_path / 'medialib.db'}",
        MEDIALIB_BROKER_URL=url,
        MEDIALIB_BROKER_NAMESPACE=namespace,
        MEDIALIB_JOB_LEASE_SECONDS="2",
        MEDIALIB_JOB_SWEEP_SECONDS="0.5",
        MEDIALIB_JOB_SWEEP_GRACE_SECONDS="1",
    )
    yield env
    if request.param == "redis":
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)
    else:
        _delete_rabbitmq_queues(url, namespace)


def _delete_rabbitmq_queues(url: str, namespace: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    for queue in ("image", "video", "document", "webhook"):
        for suffix in ("", ".DQ", ".XQ"):
            channel.queue_delete(queue=f"{namespace}-{queue}{suffix}")
    connection.close()


def _client(server: ServeProcess, env: dict[str, str]) -> httpx.Client:
    created = subprocess.run(
        [*MEDIALIB, "keys", "create", "--workspace", "e2e"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"})


def test_workers_process_every_kind_and_serve_alone_does_not(
    broker_env: dict[str, str], files: Path
) -> None:
    apart = [f"127.0.0.1:{free_port()}" for _ in range(3)]  # Prometheus' own listeners
    server = ServeProcess({**broker_env, "MEDIALIB_METRICS_ADDRESS": apart[0]})
    workers: list[WorkerProcess] = []
    try:
        with _client(server, broker_env) as api:
            assert api.get("/readyz").json()["checks"]["jobs"] == "ok"
            assert api.get("/metrics").status_code == 404  # not on the public listener
            video = upload_file(api, files / "clip.mp4")
            time.sleep(1.5)
            assert api.get(f"/v1/media/{video['id']}").json()["status"] == "processing"
            workers = [
                WorkerProcess({**broker_env, "MEDIALIB_METRICS_ADDRESS": address})
                for address in apart[1:]
            ]
            uploads = [video] + [
                upload_file(api, files / name) for name in ("photo.heic", "doc.pdf", "tone.wav")
            ]
            for media in uploads:
                settled = wait_settled(api, media["id"], timeout=60)
                assert settled["status"] == "ready", (media["filename"], settled["error"])
            photo = upload_file(api, files / "photo.jpg")
            eventually(
                lambda: get_media(api, photo["id"]),
                lambda media: media["thumbnail"]["source"] == "generated",
                what="the preview made by a worker",
            )
        # The work was the workers': their counts reach Prometheus from their listeners.
        scraped = [httpx.get(f"http://{address}/metrics").text for address in apart]
        assert "medialib_http_requests_total" in scraped[0]
        done = sum(
            float(value)
            for text in scraped[1:]
            for value in re.findall(
                r'medialib_jobs_total\{outcome="done",queue="\w+"\} (\S+)', text
            )
        )
        assert done >= 5, scraped[1:]
    finally:
        for worker in workers:
            worker.stop()
        server.stop()


def test_killed_worker_mid_video_loses_nothing(broker_env: dict[str, str], files: Path) -> None:
    server = ServeProcess(broker_env)
    slow = WorkerProcess({**broker_env, "MEDIALIB_FAULT_JOB_DELAY_SECONDS": "60"})
    rescuer = None
    try:
        with _client(server, broker_env) as api:
            video = upload_file(api, files / "clip.mov")
            time.sleep(1.5)  # the slow worker has taken the job and sleeps inside it
            slow.kill()
            rescuer = WorkerProcess(broker_env)
            settled = wait_settled(api, video["id"], timeout=60)
            assert settled["status"] == "ready", settled["error"]
            assert settled["thumbnail"]["source"] == "generated"
    finally:
        slow.stop()
        if rescuer:
            rescuer.stop()
        server.stop()
