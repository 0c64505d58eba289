//! The mock provider seen from the wire: each provider's auth checks, Anthropic's body checks, scripted failures,
//! stream shapes and a cut stream. Each test starts its own mock on port 0.

mod support;

use serde_json::{json, Value};
use support::{send, Raw, TestResult};
use switchboard_testkit::{MockProvider, Script};

const BEARER: (&str, &str) = ("authorization", "Bearer sk-test");
const ANTHROPIC_KEY: (&str, &str) = ("x-api-key", "sk-ant-test");
const ANTHROPIC_VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

fn chat_body() -> Value {
    json!({"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": "You are a very helpful assistant."},
        {"role": "user", "content": "What are 7 wonders in the world?"}]})
}

fn anthropic_body() -> Value {
    json!({"model": "claude-3-opus-20240229", "max_tokens": 200, "system": "You are a very helpful assistant.",
           "messages": [{"role": "user", "content": "What are 7 wonders in the world?"}]})
}

async fn chat(mock: &MockProvider, headers: &[(&str, &str)], body: &Value) -> TestResult<Raw> {
    send(mock.addr(), "POST", "/v1/chat/completions", headers, Some(body)).await
}

async fn messages(mock: &MockProvider, headers: &[(&str, &str)], body: &Value) -> TestResult<Raw> {
    send(mock.addr(), "POST", "/v1/messages", headers, Some(body)).await
}

fn error_type(raw: &Raw) -> TestResult<Value> {
    let body = raw.json()?;
    Ok(body.pointer("/error/type").cloned().unwrap_or(Value::Null))
}

#[tokio::test]
async fn openai_answers_with_its_name_and_the_model() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let raw = chat(&mock, &[BEARER], &chat_body()).await?;
    assert_eq!(raw.status, 200);
    let body = raw.json()?;
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from openai-a serving gpt-4o-mini");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 5);
    Ok(())
}

#[tokio::test]
async fn openai_requires_a_bearer_key() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    for headers in [vec![], vec![("authorization", "Bearer ")], vec![("authorization", "sk-test")]] {
        let raw = chat(&mock, &headers, &chat_body()).await?;
        assert_eq!(raw.status, 401);
        assert_eq!(error_type(&raw)?, "invalid_request_error");
    }
    let raw = send(mock.addr(), "GET", "/v1/models", &[], None).await?;
    assert_eq!(raw.status, 401);
    Ok(())
}

#[tokio::test]
async fn openai_requires_model_and_messages() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let no_model = chat(&mock, &[BEARER], &json!({"messages": [{"role": "user", "content": "hi"}]})).await?;
    assert_eq!(no_model.status, 400);
    let empty = chat(&mock, &[BEARER], &json!({"model": "gpt-4o", "messages": []})).await?;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.json()?["error"]["param"], "messages");
    let no_input = send(mock.addr(), "POST", "/v1/embeddings", &[BEARER], Some(&json!({"model": "m"}))).await?;
    assert_eq!(no_input.status, 400);
    Ok(())
}

#[tokio::test]
async fn azure_requires_api_key_and_api_version() -> TestResult {
    let mock = MockProvider::start("azure").await?;
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let path = "/openai/deployments/gpt35/chat/completions";
    let versioned = format!("{path}?api-version=2024-02-01");
    let no_key = send(mock.addr(), "POST", &versioned, &[BEARER], Some(&body)).await?;
    assert_eq!(no_key.status, 401);
    let no_version = send(mock.addr(), "POST", path, &[("api-key", "az")], Some(&body)).await?;
    assert_eq!(no_version.status, 404);
    let ok = send(mock.addr(), "POST", &versioned, &[("api-key", "az")], Some(&body)).await?;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()?["choices"][0]["message"]["content"], "Hello from azure serving gpt35");
    Ok(())
}

#[tokio::test]
async fn anthropic_requires_api_key_and_version_header() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    let no_key = messages(&mock, &[ANTHROPIC_VERSION, BEARER], &anthropic_body()).await?;
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.json()?["type"], "error");
    assert_eq!(error_type(&no_key)?, "authentication_error");
    let no_version = messages(&mock, &[ANTHROPIC_KEY], &anthropic_body()).await?;
    assert_eq!(no_version.status, 400);
    assert_eq!(error_type(&no_version)?, "invalid_request_error");
    Ok(())
}

#[tokio::test]
async fn anthropic_answers_a_message() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    let raw = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &anthropic_body()).await?;
    assert_eq!(raw.status, 200);
    let body = raw.json()?;
    assert_eq!(body["type"], "message");
    assert_eq!(body["content"][0]["text"], "Hello from anthropic serving claude-3-opus-20240229");
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["output_tokens"], 5);
    Ok(())
}

#[tokio::test]
async fn anthropic_rejects_a_system_role_inside_messages() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    let mut body = anthropic_body();
    body["messages"] = chat_body()["messages"].clone();
    let raw = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &body).await?;
    assert_eq!(raw.status, 400);
    let message = raw.json()?["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("top-level `system` parameter"), "{message}");
    Ok(())
}

#[tokio::test]
async fn anthropic_requires_max_tokens() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    let mut body = anthropic_body();
    body.as_object_mut().map(|b| b.remove("max_tokens"));
    let raw = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &body).await?;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.json()?["error"]["message"], "max_tokens: Field required");
    Ok(())
}

#[tokio::test]
async fn scripted_failures_run_out_then_the_mock_answers() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    mock.script(Script { status: Some(503), count: 2, retry_after: Some(7), ..Script::default() });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let raw = chat(&mock, &[BEARER], &chat_body()).await?;
        statuses.push((raw.status, raw.header("retry-after").map(str::to_string)));
    }
    let seven = Some("7".to_string());
    assert_eq!(statuses, vec![(503, seven.clone()), (503, seven), (200, None)]);
    assert_eq!(mock.hits().len(), 3, "failed requests are recorded too");
    Ok(())
}

#[tokio::test]
async fn scripted_failures_on_anthropic_use_its_error_shape() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    mock.script(Script { status: Some(529), count: -1, ..Script::default() });
    let raw = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &anthropic_body()).await?;
    assert_eq!(raw.status, 529);
    assert_eq!(raw.json()?["type"], "error");
    assert_eq!(error_type(&raw)?, "overloaded_error");
    Ok(())
}

#[tokio::test]
async fn hits_record_path_query_lowercase_headers_and_body() -> TestResult {
    let mock = MockProvider::start("azure").await?;
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let target = "/openai/deployments/gpt35/embeddings?api-version=2024-02-01";
    send(mock.addr(), "POST", target, &[("Api-Key", "az"), ("X-Trace", "t1")], Some(&body)).await?;
    let hits = mock.hits();
    let hit = hits.first().ok_or("no hit")?;
    assert_eq!(hit["path"], "/openai/deployments/gpt35/embeddings");
    assert_eq!(hit["query"], "api-version=2024-02-01");
    assert_eq!(hit["headers"]["api-key"], "az");
    assert_eq!(hit["headers"]["x-trace"], "t1");
    assert_eq!(hit["body"], body);
    mock.clear();
    assert!(mock.hits().is_empty());
    Ok(())
}

#[tokio::test]
async fn control_endpoints_script_and_clear_over_http() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let script = json!({"status": 429, "count": 1});
    let set = send(mock.addr(), "POST", "/_script", &[], Some(&script)).await?;
    assert_eq!(set.status, 200);
    assert_eq!(chat(&mock, &[BEARER], &chat_body()).await?.status, 429);
    let hits = send(mock.addr(), "GET", "/_hits", &[], None).await?;
    assert_eq!(hits.json()?.as_array().map(Vec::len), Some(1));
    let typo = send(mock.addr(), "POST", "/_script", &[], Some(&json!({"stauts": 500}))).await?;
    assert_eq!(typo.status, 400);
    mock.script(Script { status: Some(500), count: -1, ..Script::default() });
    assert_eq!(send(mock.addr(), "DELETE", "/_hits", &[], None).await?.status, 200);
    assert!(mock.hits().is_empty());
    assert_eq!(chat(&mock, &[BEARER], &chat_body()).await?.status, 200, "clearing resets the script");
    assert_eq!(send(mock.addr(), "GET", "/_health", &[], None).await?.status, 200);
    Ok(())
}

fn stream_body() -> Value {
    let mut body = chat_body();
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body
}

#[tokio::test]
async fn openai_stream_has_role_content_finish_usage_and_done() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let raw = chat(&mock, &[BEARER], &stream_body()).await?;
    assert!(raw.complete);
    let data = raw.sse_data();
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> =
        data.iter().filter(|d| *d != "[DONE]").map(|d| serde_json::from_str(d)).collect::<Result<_, _>>()?;
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello from openai-a serving gpt-4o-mini");
    let usage = chunks.last().ok_or("no chunks")?;
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 5);
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "stop");
    Ok(())
}

#[tokio::test]
async fn anthropic_stream_follows_the_real_event_sequence() -> TestResult {
    let mock = MockProvider::start("anthropic").await?;
    let mut body = anthropic_body();
    body["stream"] = json!(true);
    let raw = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &body).await?;
    let events = raw.sse_events();
    let deltas = events.iter().filter(|e| *e == "content_block_delta").count();
    assert_eq!(deltas, 5);
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", deltas));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(events, expected);
    let data: Vec<Value> = raw.sse_data().iter().map(|d| serde_json::from_str(d)).collect::<Result<_, _>>()?;
    let delta = data.iter().find(|d| d["type"] == "message_delta").ok_or("no message_delta")?;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 5);
    Ok(())
}

#[tokio::test]
async fn a_cut_stream_never_ends_cleanly() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    mock.script(Script { cut_after: Some(2), ..Script::default() });
    let raw = chat(&mock, &[BEARER], &stream_body()).await?;
    assert_eq!(raw.status, 200);
    assert!(!raw.complete, "a cut stream must not send the last chunk");
    let data = raw.sse_data();
    assert_eq!(data.len(), 2, "the events before the cut arrive: {data:?}");
    assert!(!data.iter().any(|d| d == "[DONE]"));
    Ok(())
}

#[tokio::test]
async fn tools_get_a_tool_call_from_openai_and_anthropic() -> TestResult {
    let mock = MockProvider::start("both").await?;
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let mut body = chat_body();
    body["tools"] = json!([{"type": "function", "function": {"name": "get_weather", "parameters": schema}}]);
    let openai = chat(&mock, &[BEARER], &body).await?.json()?;
    let call = &openai["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap_or(""))?,
        json!({"city": "mock"})
    );
    assert_eq!(openai["choices"][0]["finish_reason"], "tool_calls");
    let mut body = anthropic_body();
    body["tools"] = json!([{"name": "get_weather", "input_schema": schema}]);
    let anthropic = messages(&mock, &[ANTHROPIC_KEY, ANTHROPIC_VERSION], &body).await?.json()?;
    assert_eq!(anthropic["content"][0]["type"], "tool_use");
    assert_eq!(anthropic["content"][0]["input"], json!({"city": "mock"}));
    assert_eq!(anthropic["stop_reason"], "tool_use");
    Ok(())
}

#[tokio::test]
async fn a_hanging_mock_never_answers() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    mock.script(Script { hang: true, ..Script::default() });
    let waited = std::time::Duration::from_millis(300);
    let outcome = tokio::time::timeout(waited, chat(&mock, &[BEARER], &chat_body())).await;
    assert!(outcome.is_err(), "the mock answered while scripted to hang");
    assert_eq!(mock.hits().len(), 1);
    Ok(())
}

#[tokio::test]
async fn embeddings_come_as_floats_or_base64() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let mut body = json!({"model": "text-embedding-3-small", "input": ["a", "b"]});
    let floats = send(mock.addr(), "POST", "/v1/embeddings", &[BEARER], Some(&body)).await?.json()?;
    assert_eq!(floats["data"].as_array().map(Vec::len), Some(2));
    assert!(floats["data"][0]["embedding"].is_array());
    body["encoding_format"] = json!("base64");
    let packed = send(mock.addr(), "POST", "/v1/embeddings", &[BEARER], Some(&body)).await?.json()?;
    assert_eq!(packed["data"][1]["embedding"].as_str().map(str::len), Some(24), "4 f32 = 16 bytes = 24 chars");
    Ok(())
}
