//! Resource requests: the URL's namespace, type, name and subresource, the verb, query
//! options and body, then authorization and the verb itself.

use super::{App, json_response};
use crate::auth::RequestAttributes;
use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::{DeleteOptions, ListOptions, PatchType, Target, WriteOptions};
use axum::body::Bytes;
use axum::extract::Query;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The parts of a resource path after `/api/v1` or `/apis/<group>/<version>`.
#[derive(Debug, PartialEq)]
struct ResourcePath<'a> {
    namespace: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

fn parse_path<'a>(rest: &[&'a str]) -> Option<ResourcePath<'a>> {
    let path = |namespace, plural, name, subresource| Some(ResourcePath { namespace, plural, name, subresource });
    match rest {
        ["namespaces", ns, sub @ ("status" | "finalize")] => path(None, "namespaces", Some(*ns), Some(*sub)),
        ["namespaces", ns, plural] => path(Some(*ns), plural, None, None),
        ["namespaces", ns, plural, name] => path(Some(*ns), plural, Some(*name), None),
        ["namespaces", ns, plural, name, sub] => path(Some(*ns), plural, Some(*name), Some(*sub)),
        [plural] => path(None, plural, None, None),
        [plural, name] => path(None, plural, Some(*name), None),
        [plural, name, sub] => path(None, plural, Some(*name), Some(*sub)),
        _ => None,
    }
}

fn query_map(uri: &Uri) -> HashMap<String, String> {
    Query::<Vec<(String, String)>>::try_from_uri(uri).map(|q| q.0.into_iter().collect()).unwrap_or_default()
}

fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query.get(name).is_some_and(|v| v == "true" || v == "1")
}

pub(super) fn list_options(query: &HashMap<String, String>, kind: &str) -> ApiResult<ListOptions> {
    let labels = LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map(String::as_str).unwrap_or_default(), kind)
        .map_err(ApiError::bad_request)?;
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        Some(Ok(0)) | None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Err(ApiError::bad_request("limit must be a non-negative integer")),
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_token: query.get("continue").filter(|c| !c.is_empty()).cloned(),
        resource_version: query.get("resourceVersion").cloned(),
        resource_version_match: query.get("resourceVersionMatch").filter(|m| !m.is_empty()).cloned(),
    })
}

/// Picks the field manager of a write: the `fieldManager` parameter, or the User-Agent up to
/// the first `/` as kube-apiserver derives it.
fn field_manager(query: &HashMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return manager.clone();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .filter(|ua| !ua.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

pub(super) fn write_options(query: &HashMap<String, String>, headers: &HeaderMap) -> ApiResult<WriteOptions> {
    if let Some(validation) = query.get("fieldValidation")
        && !matches!(validation.as_str(), "" | "Ignore" | "Warn" | "Strict")
    {
        return Err(ApiError::bad_request(format!("invalid fieldValidation {validation:?}: use Ignore, Warn or Strict")));
    }
    Ok(WriteOptions {
        field_manager: field_manager(query, headers),
        field_manager_given: query.get("fieldManager").is_some_and(|m| !m.is_empty()),
        dry_run: query.get("dryRun").is_some_and(|d| d == "All"),
        force: flag(query, "force"),
        strict: query.get("fieldValidation").is_some_and(|v| v == "Strict"),
    })
}

pub(super) fn delete_options(query: &HashMap<String, String>, body: &Bytes) -> ApiResult<DeleteOptions> {
    // client-go sends DeleteOptions as protobuf when it sends objects that way (Helm's
    // uninstall does), so the magic prefix picks the decoder.
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else if body.starts_with(b"k8s\0") {
        crate::protobuf::decode_delete_options(body)?
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions body: {e}")))?
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let orphan = parsed.get("orphanDependents").and_then(Value::as_bool).map(|o| if o { "Orphan" } else { "Background" }.to_string());
    let dry_run = parsed.get("dryRun").and_then(Value::as_array).is_some_and(|d| d.iter().any(|v| v == "All"));
    Ok(DeleteOptions {
        propagation: text(parsed.get("propagationPolicy")).or_else(|| query.get("propagationPolicy").cloned()).or(orphan),
        precondition_uid: text(parsed.pointer("/preconditions/uid")),
        precondition_rv: text(parsed.pointer("/preconditions/resourceVersion")),
        dry_run: dry_run || query.get("dryRun").is_some_and(|d| d == "All"),
    })
}

pub(super) fn parse_body(headers: &HeaderMap, body: &Bytes) -> ApiResult<Value> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or("application/json");
    if crate::protobuf::is_protobuf(content_type) {
        return crate::protobuf::decode(body);
    }
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(format!(
            "the simulator accepts JSON, YAML and, for a few built-in kinds, {} request bodies, not {content_type}",
            crate::protobuf::MEDIA_TYPE
        )));
    }
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("request body is not UTF-8"))?;
        return serde_saphyr::from_str(text).map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

#[allow(clippy::too_many_arguments)]
pub async fn handle(app: &App, group: &str, version: &str, rest: &[&str], method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> ApiResult<Response> {
    if rest.first() == Some(&"watch") {
        return Err(ApiError::not_implemented("the deprecated /watch/ path prefix; use ?watch=true"));
    }
    let not_found = || ApiError::new(404, "NotFound", "the server could not find the requested resource");
    let path = parse_path(rest).ok_or_else(not_found)?;
    let rt = app.sim.lock().registry.lookup(group, version, path.plural).cloned().ok_or_else(not_found)?;
    if path.namespace.is_some() && !rt.namespaced {
        return Err(not_found());
    }
    // A namespaced type has no objects outside namespaces: its all-namespaces path serves
    // list, watch and deletecollection only.
    if path.namespace.is_none() && rt.namespaced {
        if path.name.is_some() {
            return Err(not_found());
        }
        if method == Method::POST {
            return Err(ApiError::method_not_allowed(format!("create of {} requires a namespace in the path", rt.group_resource())));
        }
    }
    if rt.group.is_empty() && rt.plural == "serviceaccounts" && path.subresource == Some("token") {
        return token_request(app, &rt, &path, method, headers, &body);
    }
    if path.subresource == Some("scale") && super::scale::has_scale(&rt.group, &rt.plural) {
        return scale_request(app, &rt, version, &path, method, uri, headers, &body);
    }
    let scope = match path.subresource {
        None => Scope::Main,
        Some("status") if rt.status_subresource => Scope::Status,
        Some("status") => return Err(not_found()),
        Some(other) => return Err(ApiError::not_implemented(format!("the {other} subresource of {}", rt.group_resource()))),
    };
    let target = Target {
        rt: rt.clone(),
        version: version.to_string(),
        namespace: path.namespace.map(str::to_string),
        name: path.name.map(str::to_string),
        scope,
    };
    let query = query_map(uri);
    let watching = flag(&query, "watch");
    let verb: &'static str = match (method.as_str(), path.name.is_some()) {
        ("GET", _) if watching => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return Err(ApiError::method_not_allowed(format!("{method} is not supported on this path"))),
    };
    if scope == Scope::Status && !matches!(verb, "get" | "update" | "patch") {
        return Err(ApiError::method_not_allowed(format!("{verb} is not supported on the status subresource")));
    }

    let user = app.authorizer.authenticate(headers)?;
    app.authorizer.authorize(&RequestAttributes {
        user,
        verb,
        group: group.to_string(),
        version: version.to_string(),
        resource: rt.plural.clone(),
        subresource: path.subresource.unwrap_or_default().to_string(),
        // RBAC treats a namespace object as living in itself, as kube-apiserver does.
        namespace: match (rt.group.is_empty() && rt.plural == "namespaces", path.name) {
            (true, Some(name)) => name.to_string(),
            _ => path.namespace.unwrap_or_default().to_string(),
        },
        name: path.name.unwrap_or_default().to_string(),
    })?;

    run_verb(app, &rt, version, target, verb, &query, headers, body)
}

/// Runs an authorized verb and encodes the result as the client's Accept header requests:
/// plain objects, a Table, or PartialObjectMetadata.
#[allow(clippy::too_many_arguments)]
fn run_verb(app: &App, rt: &crate::registry::ResourceType, version: &str, target: Target, verb: &'static str, query: &HashMap<String, String>, headers: &HeaderMap, body: Bytes) -> ApiResult<Response> {
    let sim = &app.sim;
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or_default();
    let table_mode = crate::table::wants_table(accept).then(|| query.get("includeObject").cloned().unwrap_or_else(|| "Metadata".into()));
    let metadata_only = crate::partial::wants_metadata(accept);
    let events_view = super::events_view::is_view(&rt.group, &rt.plural);
    if verb == "watch" {
        let (watched, watch_query, convert) = if events_view {
            let core = super::events_view::core_target(sim, &target)?;
            (core, super::events_view::core_query(query), Some(super::events_view::from_core as fn(Value) -> Value))
        } else {
            (target, query.clone(), None)
        };
        return super::watch::respond(app.sim.clone(), watched, &watch_query, table_mode, metadata_only, convert);
    }
    let (code, object) = match verb {
        _ if events_view => super::events_view::serve(sim, &target, verb, query, headers, &body)?,
        "get" => (StatusCode::OK, sim.get(&target)?),
        "list" => (StatusCode::OK, sim.list(&target, &list_options(query, &rt.kind)?)?),
        "create" => (StatusCode::CREATED, sim.create(&target, parse_body(headers, &body)?, &write_options(query, headers)?)?),
        "update" => (StatusCode::OK, sim.update(&target, parse_body(headers, &body)?, &write_options(query, headers)?)?),
        "patch" => {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default();
            let patch_type = PatchType::from_content_type(content_type)
                .ok_or_else(|| ApiError::unsupported_media_type(format!("the patch Content-Type {content_type:?} is not supported")))?;
            let existed = patch_type == PatchType::Apply && sim.get(&target).is_ok();
            let object = sim.patch(&target, patch_type, &body, &write_options(query, headers)?)?;
            let code = if patch_type == PatchType::Apply && !existed { StatusCode::CREATED } else { StatusCode::OK };
            (code, object)
        }
        "delete" => (StatusCode::OK, sim.delete(&target, &delete_options(query, &body)?)?),
        "deletecollection" => (StatusCode::OK, sim.delete_collection(&target, &list_options(query, &rt.kind)?, &delete_options(query, &body)?)?),
        _ => unreachable!("verbs are matched above"),
    };
    if let Some(include) = table_mode.as_deref()
        && matches!(verb, "get" | "list")
    {
        let table = if verb == "get" {
            let metadata = json!({"resourceVersion": crate::meta::resource_version_of(&object)});
            crate::table::table(rt, version, &[object], metadata, include, true)
        } else {
            let items = object["items"].as_array().cloned().unwrap_or_default();
            crate::table::table(rt, version, &items, object["metadata"].clone(), include, true)
        };
        return Ok(json_response(code, &table));
    }
    let object = match (metadata_only, verb) {
        (false, _) => object,
        (true, "list" | "deletecollection") => crate::partial::list(&object),
        (true, _) => crate::partial::object(&object),
    };
    Ok(json_response(code, &object))
}

/// Serves the scale subresource after authorization.
#[allow(clippy::too_many_arguments)]
fn scale_request(app: &App, rt: &crate::registry::ResourceType, version: &str, path: &ResourcePath, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> ApiResult<Response> {
    let (Some(namespace), Some(name)) = (path.namespace, path.name) else {
        return Err(ApiError::new(404, "NotFound", "the server could not find the requested resource"));
    };
    let verb = match method.as_str() {
        "GET" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        other => return Err(ApiError::method_not_allowed(format!("{other} is not supported on the scale subresource"))),
    };
    let user = app.authorizer.authenticate(headers)?;
    app.authorizer.authorize(&RequestAttributes {
        user,
        verb,
        group: rt.group.clone(),
        version: version.to_string(),
        resource: rt.plural.clone(),
        subresource: "scale".into(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    })?;
    let target = Target { rt: rt.clone(), version: version.to_string(), namespace: Some(namespace.to_string()), name: Some(name.to_string()), scope: Scope::Main };
    let query = query_map(uri);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or("application/json");
    super::scale::handle(&app.sim, &target, method, content_type, body, &write_options(&query, headers)?)
}

/// Serves `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`.
fn token_request(app: &App, rt: &crate::registry::ResourceType, path: &ResourcePath, method: &Method, headers: &HeaderMap, body: &Bytes) -> ApiResult<Response> {
    if method != Method::POST {
        return Err(ApiError::method_not_allowed("only POST (create) is supported on serviceaccounts/token"));
    }
    let (Some(namespace), Some(name)) = (path.namespace, path.name) else {
        return Err(ApiError::new(404, "NotFound", "the server could not find the requested resource"));
    };
    let user = app.authorizer.authenticate(headers)?;
    app.authorizer.authorize(&RequestAttributes {
        user,
        verb: "create",
        group: String::new(),
        version: "v1".into(),
        resource: rt.plural.clone(),
        subresource: "token".into(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    })?;
    let request: Value = if body.is_empty() { Value::Null } else { parse_body(headers, body)? };
    Ok(json_response(StatusCode::CREATED, &app.sim.token_request(namespace, name, &request)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_table() {
        let cases: [(&[&str], Option<(Option<&str>, &str, Option<&str>, Option<&str>)>); 7] = [
            (&["namespaces", "ns", "status"], Some((None, "namespaces", Some("ns"), Some("status")))),
            (&["namespaces"], Some((None, "namespaces", None, None))),
            (&["namespaces", "ns"], Some((None, "namespaces", Some("ns"), None))),
            (&["namespaces", "ns", "secrets"], Some((Some("ns"), "secrets", None, None))),
            (&["namespaces", "ns", "deployments", "web", "status"], Some((Some("ns"), "deployments", Some("web"), Some("status")))),
            (&["secrets"], Some((None, "secrets", None, None))),
            (&["a", "b", "c", "d"], None),
        ];
        for (segments, expected) in cases {
            let parsed = parse_path(segments).map(|p| (p.namespace, p.plural, p.name, p.subresource));
            assert_eq!(parsed, expected, "{segments:?}");
        }
    }
}
