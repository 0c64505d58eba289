"""The control plane with the Python `portkey-ai` SDK: a virtual key (the SDK sends `resourceName`-style camelCase)
and a saved config created through the admin API, then a chat completion routed by the config's ID.

Process handling is test_smoke.py's (MOCK_PROVIDER_BIN, SWITCHBOARD_BIN).
"""

import shutil
import tempfile

import pytest
from portkey_ai import Portkey

from test_smoke import ADMIN_KEY, MESSAGES, Mock, binary, launch, stop

SECRET = "sk-ant-py-vault-000042"


@pytest.fixture(scope="module")
def stack():
    mock_bin = binary("MOCK_PROVIDER_BIN", "target/release/mock-provider")
    gateway_bin = binary("SWITCHBOARD_BIN", "target/release/switchboard")
    procs = []
    data_dir = tempfile.mkdtemp(prefix="switchboard-py-cp-")
    try:
        proc, mock_url, _ = launch([mock_bin, "--port", "0", "--name", "anthropic"])
        procs.append(proc)
        args = [gateway_bin, "serve", "--port", "0", "--data-dir", data_dir]
        proc, url, _ = launch(args, {"SWITCHBOARD_ADMIN_KEY": ADMIN_KEY})
        procs.append(proc)
        yield {"gateway": url, "mock": Mock("anthropic", mock_url)}
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_virtual_key_and_config_through_the_sdk_then_chat_by_config_id(stack):
    admin = Portkey(api_key=ADMIN_KEY, base_url=f"{stack['gateway']}/v1")
    mock = stack["mock"]

    azure = admin.virtual_keys.create(
        name="Azure", provider="azure-openai", key="az-py-key-0000001",
        resourceName="res", deploymentName="gpt-35", apiVersion="2024-02-01",
    )
    # `model_config` is a reserved name on the SDK's pydantic models: read it from the dump.
    assert admin.virtual_keys.retrieve(slug=azure.slug).model_dump()["model_config"] == {
        "resource_name": "res", "deployment_id": "gpt-35", "api_version": "2024-02-01",
    }

    key = admin.virtual_keys.create(
        name="Claude", provider="anthropic", key=SECRET, note="python", customHost=f"{mock.url}/v1",
    )
    assert key.slug.startswith("claude-")
    listed = admin.virtual_keys.list()
    assert {k["slug"] for k in listed.data} == {azure.slug, key.slug}
    assert SECRET not in str(listed.model_dump())

    config = {"virtual_key": key.slug, "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}}
    saved = admin.configs.create(name="python", config=config, is_default=0)
    assert saved.slug.startswith("pc-python-")
    got = admin.configs.retrieve(slug=saved.slug)
    assert got.config == config and got.status == "active"

    client = Portkey(api_key=ADMIN_KEY, base_url=f"{stack['gateway']}/v1", config=saved.slug)
    response = client.chat.completions.create(messages=MESSAGES, model="gpt-3.5-turbo")

    assert response.choices[0].message.content == "Hello from anthropic serving claude-3-opus-20240229"
    (hit,) = mock.hits()
    assert hit["headers"]["x-api-key"] == SECRET
    assert hit["body"]["max_tokens"] == 200
