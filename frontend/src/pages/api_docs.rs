//! `/api-docs`: the API's OpenAPI document as a page to read: every operation by tag, with its
//! parameters, body and answers. The document itself is at `/api/openapi.json`.

use leptos::prelude::*;
use serde_json::Value;

use crate::api;
use crate::components::Loaded;

/// One operation of the document, flattened for display.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    tag: String,
    summary: String,
    parameters: Vec<String>,
    body: Option<String>,
    answers: Vec<String>,
}

/// The last part of a `$ref`, or the type of an inline schema.
fn schema_name(schema: &Value) -> String {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference.rsplit('/').next().unwrap_or(reference).to_owned(),
        None => schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("object")
            .to_owned(),
    }
}

fn json_schema(content: &Value) -> Option<String> {
    let (kind, media) = content.as_object()?.iter().next()?;
    let schema = media.get("schema").map(schema_name).unwrap_or_default();
    Some(format!("{schema} ({kind})"))
}

fn operations(document: &Value) -> Vec<Operation> {
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_owned();
    let mut found: Vec<Operation> = paths
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(method, operation)| (path, method, operation))
        })
        .map(|(path, method, operation)| Operation {
            method: method.to_uppercase(),
            path: path.clone(),
            tag: text(operation.pointer("/tags/0")),
            summary: text(operation.get("summary").or(operation.get("description"))),
            parameters: operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|parameter| {
                    let required = parameter.get("required") == Some(&Value::Bool(true));
                    format!(
                        "{} ({}{}): {}",
                        text(parameter.get("name")),
                        text(parameter.get("in")),
                        if required { ", required" } else { "" },
                        text(parameter.get("description"))
                    )
                })
                .collect(),
            body: operation
                .pointer("/requestBody/content")
                .and_then(json_schema),
            answers: operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(status, answer)| {
                    let schema = answer.get("content").and_then(json_schema);
                    format!(
                        "{status}: {}{}",
                        text(answer.get("description")),
                        schema
                            .map(|schema| format!(" — {schema}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        })
        .collect();
    found.sort_unstable_by(|a, b| (&a.tag, &a.path, &a.method).cmp(&(&b.tag, &b.path, &b.method)));
    found
}

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let document = api::resource(api::openapi);
    view! {
        <h1>"API"</h1>
        <p>
            "Scripts send an API token as " <code>"Authorization: Bearer <token>"</code>
            " (" <code>"knit token create --user NAME"</code> "). The machine-readable document: "
            <a href="/api/openapi.json">"/api/openapi.json"</a> "."
        </p>
        <Loaded resource=document reading="the API document" let:document>
            <div class="api-docs" id="api-operations">
                {operations(&document).into_iter().map(|operation| view! {
                    <details class="api-operation" data-tag=operation.tag.clone()>
                        <summary>
                            <span class="chip">{operation.method.clone()}</span>
                            " " <code>{operation.path.clone()}</code>
                            " " <span class="hint">{operation.summary.clone()}</span>
                        </summary>
                        <ul>
                            {operation.parameters.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                            {operation.body.map(|body| view! { <li>"Body: " {body}</li> })}
                            {operation.answers.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
                        </ul>
                    </details>
                }).collect_view()}
            </div>
        </Loaded>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_from_the_document() {
        let document = serde_json::json!({"paths": {"/api/runs": {
            "post": {
                "tags": ["runs"], "description": "Start a run",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/StartRun"}}}},
                "responses": {"201": {"description": "Started"}},
            },
            "get": {"tags": ["runs"], "parameters": [{"name": "status", "in": "query", "description": "Only these"}], "responses": {}},
        }}});
        let found = operations(&document);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].method.as_str(), found[0].path.as_str()),
            ("GET", "/api/runs")
        );
        assert_eq!(found[0].parameters, ["status (query): Only these"]);
        assert_eq!(
            found[1].body.as_deref(),
            Some("StartRun (application/json)")
        );
        assert_eq!(found[1].answers, ["201: Started"]);
    }
}
