//! Watch responses: newline-delimited JSON events over a chunked HTTP body, as
//! kube-apiserver streams them.

use super::json_response;
use crate::error::{ApiError, ApiResult};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::{Sim, Target, to_version};
use crate::watch::{EventType, WatchFilter};
use axum::body::{Body, Bytes};
use axum::response::Response;
use futures::SinkExt;
use futures::channel::mpsc;
use http::{StatusCode, header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Watches without `timeoutSeconds` end after this long; kube-apiserver picks a random
/// time between its minimum request timeout (1800 s by default) and twice that.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(kind: &str, object: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn bookmark(target: &Target, rv: u64, initial_events_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line("BOOKMARK", &json!({"kind": target.rt.kind, "apiVersion": target.rt.api_version(&target.version), "metadata": metadata}))
}

/// Encodes watch events as plain objects or, for kubectl's `get -w`, as one-row Tables whose
/// first carries the column definitions.
struct Encoder {
    target: Target,
    /// `includeObject` when the client requested the Table format.
    table: Option<String>,
    columns_sent: bool,
    /// The client requested PartialObjectMetadata.
    metadata_only: bool,
    /// Converts stored objects to the form the watched API serves (events.k8s.io Events).
    convert: Option<fn(Value) -> Value>,
}

impl Encoder {
    fn event(&mut self, kind: EventType, object: Value) -> Bytes {
        let mut object = to_version(&self.target.rt, &self.target.version, object);
        if let Some(convert) = self.convert {
            object = convert(object);
        }
        if self.metadata_only {
            return line(kind.as_str(), &crate::partial::object(&object));
        }
        let Some(include) = &self.table else {
            return line(kind.as_str(), &object);
        };
        let metadata = json!({"resourceVersion": crate::meta::resource_version_of(&object)});
        let table = crate::table::table(&self.target.rt, &self.target.version, &[object], metadata, include, !self.columns_sent);
        self.columns_sent = true;
        line(kind.as_str(), &table)
    }
}

/// Starts a watch. Events before the response are computed under the store lock together
/// with the subscription, so no write falls between replay and live events.
pub fn respond(
    sim: Arc<Sim>,
    target: Target,
    query: &HashMap<String, String>,
    table: Option<String>,
    metadata_only: bool,
    convert: Option<fn(Value) -> Value>,
) -> ApiResult<Response> {
    let labels = LabelSelector::parse(query.get("labelSelector").map(String::as_str).unwrap_or_default())
        .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let fields = FieldSelector::parse(query.get("fieldSelector").map(String::as_str).unwrap_or_default(), &target.rt.kind)
        .map_err(ApiError::bad_request)?;
    let flag = |name: &str| query.get(name).is_some_and(|v| v == "true" || v == "1");
    let bookmarks = flag("allowWatchBookmarks");
    let send_initial = flag("sendInitialEvents");
    let timeout = match query.get("timeoutSeconds") {
        Some(t) => Duration::from_secs(t.parse().map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {t:?}")))?),
        None => DEFAULT_TIMEOUT,
    };
    if send_initial && (!bookmarks || query.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan")) {
        return Err(ApiError::invalid(
            "sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan",
        ));
    }
    let filter = WatchFilter {
        group: target.rt.group.clone(),
        resource: target.rt.plural.clone(),
        namespace: if target.rt.namespaced { target.namespace.clone() } else { None },
        labels,
        fields,
    };
    let requested_rv = query.get("resourceVersion").filter(|rv| !rv.is_empty() && *rv != "0");
    let mut encoder = Encoder { target: target.clone(), table, columns_sent: false, metadata_only, convert };

    let (initial, mut receiver, start_rv) = {
        let state = sim.lock();
        let mut initial = Vec::new();
        match requested_rv {
            Some(rv) if !send_initial => {
                let rv: u64 = rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
                match state.history.since(rv) {
                    Some(events) => {
                        for event in events {
                            if let Some(kind) = filter.translate(&event) {
                                initial.push(encoder.event(kind, (*event.object).clone()));
                            }
                        }
                    }
                    None => {
                        // A watch from a compacted resourceVersion gets one ERROR event.
                        let error = ApiError::gone(format!("too old resource version: {rv} ({})", state.history.compacted_rv()));
                        return Ok(stream_response(vec![line("ERROR", &error.to_status())], None));
                    }
                }
            }
            _ => {
                let namespace = filter.namespace.as_deref();
                for (_, object) in state.range(&target.rt.group, &target.rt.plural, namespace) {
                    if filter.labels.matches(object) && filter.fields.matches(object) {
                        initial.push(encoder.event(EventType::Added, object.clone()));
                    }
                }
                if send_initial {
                    initial.push(bookmark(&target, state.rv, true));
                }
            }
        }
        (initial, sim.events.subscribe(), state.rv)
    };

    let (mut sender, body) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    let mut shutdown = sim.shutdown.clone();
    let interval = sim.bookmark_interval;
    tokio::spawn(async move {
        for bytes in initial {
            if sender.send(Ok(bytes)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        let mut last_rv = start_rv;
        loop {
            let bytes = tokio::select! {
                _ = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = ticker.tick(), if bookmarks => bookmark(&target, last_rv, false),
                received = receiver.recv() => match received {
                    Ok(event) => {
                        last_rv = last_rv.max(event.rv);
                        match filter.translate(&event) {
                            Some(kind) => encoder.event(kind, (*event.object).clone()),
                            None => continue,
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        // This watcher fell behind the broadcast buffer; like a watch cache
                        // that dropped a slow client, end with 410 so the client relists.
                        let error = ApiError::gone("the watch fell too far behind; relist and watch again");
                        let _ = sender.send(Ok(line("ERROR", &error.to_status()))).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
            };
            if sender.send(Ok(bytes)).await.is_err() {
                return;
            }
        }
    });
    Ok(stream_response(Vec::new(), Some(body)))
}

fn stream_response(lines: Vec<Bytes>, body: Option<mpsc::Receiver<Result<Bytes, Infallible>>>) -> Response {
    let body = match body {
        Some(stream) => Body::from_stream(stream),
        None => Body::from_stream(futures::stream::iter(lines.into_iter().map(Ok::<_, Infallible>))),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_else(|_| json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({})))
}
