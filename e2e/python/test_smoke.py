"""Python smoke test: the `portkey-ai` and `openai` PyPI SDKs (chat, and the Responses API) against the real gateway and mock providers.

The fixture starts the binaries itself, like e2e/harness.mjs: MOCK_PROVIDER_BIN and SWITCHBOARD_BIN (defaults
target/release/mock-provider and target/release/switchboard, relative to the repository root).
"""

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path

import openai
import pytest
from portkey_ai import Portkey

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "sb-test-admin"
LISTENING = re.compile(r"listening on (http://\S+)")
STARTUP_TIMEOUT_S = 20
MESSAGES = [
    {"role": "system", "content": "You are a very helpful assistant."},
    {"role": "user", "content": "What are 7 wonders in the world?"},
]


def binary(env_name: str, default: str) -> Path:
    path = (REPO_ROOT / os.environ.get(env_name, default)).resolve()
    if not path.exists():
        pytest.fail(f"{env_name}: {path} does not exist; build it with `cargo build --release --workspace`")
    return path


def pump(stream, lines: "queue.Queue[str]", log: list) -> None:
    for line in iter(stream.readline, ""):
        log.append(line)
        lines.put(line)


def launch(args: list, env: dict | None = None) -> tuple[subprocess.Popen, str, list]:
    """Starts a process; returns it with the URL from its "listening on" line (stdout or stderr) and its log."""
    proc = subprocess.Popen(
        [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: "queue.Queue[str]" = queue.Queue()
    log: list = []
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=pump, args=(stream, lines, log), daemon=True).start()
    try:
        while True:
            found = LISTENING.search(lines.get(timeout=STARTUP_TIMEOUT_S))
            if found:
                return proc, found.group(1).rstrip("/"), log
    except queue.Empty:
        stop(proc)
        pytest.fail(f"{args[0]}: no 'listening on' line in {STARTUP_TIMEOUT_S}s:\n{''.join(log)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Mock:
    def __init__(self, name: str, url: str):
        self.name, self.url = name, url

    def _control(self, method: str, path: str):
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def hits(self) -> list:
        return self._control("GET", "/_hits")

    def clear(self) -> None:
        self._control("DELETE", "/_hits")


@pytest.fixture(scope="module")
def stack():
    mock_bin = binary("MOCK_PROVIDER_BIN", "target/release/mock-provider")
    gateway_bin = binary("SWITCHBOARD_BIN", "target/release/switchboard")
    procs, mocks = [], {}
    data_dir = tempfile.mkdtemp(prefix="switchboard-py-")
    try:
        for name in ("openai", "anthropic"):
            proc, url, _ = launch([mock_bin, "--port", "0", "--name", name])
            procs.append(proc)
            mocks[name] = Mock(name, url)
        args = [gateway_bin, "serve", "--port", "0", "--data-dir", data_dir]
        proc, url, log = launch(args, {"SWITCHBOARD_ADMIN_KEY": ADMIN_KEY})
        procs.append(proc)
        yield {"gateway": url, "mocks": mocks, "log": log}
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def mocks(stack):
    for mock in stack["mocks"].values():
        mock.clear()
    return stack["mocks"]


def openai_target(mock: Mock) -> dict:
    return {"provider": "openai", "api_key": "sk-a", "custom_host": f"{mock.url}/v1"}


def anthropic_target(mock: Mock) -> dict:
    return {
        "provider": "anthropic",
        "api_key": "sk-ant",
        "custom_host": f"{mock.url}/v1",
        "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"},
    }


def test_portkey_sdk_chat_through_a_loadbalance_config(stack, mocks):
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            {**anthropic_target(mocks["anthropic"]), "weight": 0.5},
            {**openai_target(mocks["openai"]), "weight": 0.5},
        ],
    }
    client = Portkey(api_key=ADMIN_KEY, base_url=f"{stack['gateway']}/v1", config=config)
    response = client.chat.completions.create(messages=MESSAGES, model="gpt-3.5-turbo")

    assert re.match(r"^Hello from (anthropic|openai) serving ", response.choices[0].message.content)
    assert response.choices[0].finish_reason == "stop"
    served = [name for name, mock in mocks.items() if mock.hits()]
    assert len(served) == 1
    assert response.choices[0].message.content.startswith(f"Hello from {served[0]} ")


def test_openai_sdk_chat_with_a_config_header(stack, mocks):
    client = openai.OpenAI(
        base_url=f"{stack['gateway']}/v1",
        api_key="sk-not-used",
        max_retries=0,
        default_headers={
            "x-portkey-api-key": ADMIN_KEY,
            "x-portkey-config": json.dumps(anthropic_target(mocks["anthropic"])),
        },
    )
    response = client.chat.completions.create(messages=MESSAGES, model="gpt-3.5-turbo")

    assert response.choices[0].message.content == "Hello from anthropic serving claude-3-opus-20240229"
    assert response.choices[0].finish_reason == "stop"
    (hit,) = mocks["anthropic"].hits()
    assert hit["body"]["max_tokens"] == 200
    assert all(m["role"] != "system" for m in hit["body"]["messages"])


def test_portkey_sdk_stream(stack, mocks):
    client = Portkey(api_key=ADMIN_KEY, base_url=f"{stack['gateway']}/v1", config=openai_target(mocks["openai"]))
    stream = client.chat.completions.create(messages=MESSAGES, model="gpt-4o-mini", stream=True)
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from openai serving gpt-4o-mini"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    (hit,) = mocks["openai"].hits()
    assert hit["body"]["stream"] is True


def test_metrics_parse_as_openmetrics_and_count_the_request(stack, mocks):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    client = openai.OpenAI(
        base_url=f"{stack['gateway']}/v1",
        api_key="unused",
        default_headers={"x-portkey-api-key": ADMIN_KEY, "x-portkey-config": json.dumps(openai_target(mocks["openai"]))},
    )
    client.chat.completions.create(model="gpt-3.5-turbo", messages=MESSAGES)
    with urllib.request.urlopen(f"{stack['gateway']}/metrics", timeout=10) as response:
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = [s for s in families["switchboard_requests"].samples if s.labels.get("provider") == "openai"]
    assert requests and sum(s.value for s in requests) >= 1
    assert families["switchboard_request_duration_seconds"].type == "histogram"
    assert "switchboard_log_records_dropped" in families


def test_provider_keys_never_reach_the_gateway_log(stack, mocks):
    secret = "sk-py-secret-0f9e8d7c6b5a"
    target = {**openai_target(mocks["openai"]), "api_key": secret}
    client = openai.OpenAI(
        base_url=f"{stack['gateway']}/v1",
        api_key="unused",
        default_headers={"x-portkey-api-key": ADMIN_KEY, "x-portkey-config": json.dumps(target)},
    )
    client.chat.completions.create(model="gpt-3.5-turbo", messages=MESSAGES)
    bad = {**target, "custom_host": "http://127.0.0.1:9/v1"}
    failing = openai.OpenAI(
        base_url=f"{stack['gateway']}/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"x-portkey-api-key": ADMIN_KEY, "x-portkey-config": json.dumps(bad)},
    )
    with pytest.raises(openai.APIStatusError):
        failing.chat.completions.create(model="gpt-3.5-turbo", messages=MESSAGES)
    assert mocks["openai"].hits()[0]["headers"]["authorization"] == f"Bearer {secret}"
    assert secret not in "".join(stack["log"])


def test_openai_sdk_responses_create_plain_and_streamed_through_translation_and_passthrough(stack, mocks):
    """responses.create against an Anthropic target (translated through chat) and an OpenAI one (passed through)."""
    for target, text in (
        (anthropic_target(mocks["anthropic"]), "Hello from anthropic serving claude-3-opus-20240229"),
        (openai_target(mocks["openai"]), "Hello from openai serving gpt-4o-mini"),
    ):
        client = openai.OpenAI(
            base_url=f"{stack['gateway']}/v1",
            api_key="sk-not-used",
            max_retries=0,
            default_headers={"x-portkey-api-key": ADMIN_KEY, "x-portkey-config": json.dumps(target)},
        )
        response = client.responses.create(model="gpt-4o-mini", instructions=MESSAGES[0]["content"], input=MESSAGES[1]["content"])
        assert response.object == "response"
        assert response.status == "completed"
        assert response.output_text == text
        assert response.usage.output_tokens > 0

        events = list(client.responses.create(model="gpt-4o-mini", input=MESSAGES[1]["content"], stream=True))
        assert events[0].type == "response.created"
        assert events[-1].type == "response.completed"
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == text
        assert [e.sequence_number for e in events] == list(range(len(events)))
    assert [h["path"] for h in mocks["anthropic"].hits()] == ["/v1/messages", "/v1/messages"]
    assert [h["path"] for h in mocks["openai"].hits()] == ["/v1/responses", "/v1/responses"]
