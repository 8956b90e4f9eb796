//! Cloud Trace Service v3 `ListTraces` (`GET /v3/{project_id}/traces`), which the leak
//! response reads to audit what a key did. CTS keeps management traces for 7 days.

use jiff::Timestamp;
use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::iam::require_id;
use crate::lenient;
use crate::metrics::Service;
use crate::timestamps;
use crate::transport::ApiRequest;

/// Largest page CTS serves.
pub const MAX_PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceType {
    /// Management traces (API calls and console actions).
    #[default]
    System,
    /// Data traces of an OBS data tracker.
    Data,
}

impl TraceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Data => "data",
        }
    }
}

/// Filters of one `ListTraces` page. `from` and `to` bound the trace time, both exclusive;
/// CTS defaults to the last hour when they are unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceQuery {
    pub trace_type: TraceType,
    /// Page size, 1 to 200 (CTS default 10).
    pub limit: Option<u32>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// The `marker` of the previous page, to continue toward older traces.
    pub next: Option<String>,
    pub tracker_name: Option<String>,
    /// Service acronym such as `IAM` or `ECS`.
    pub service_type: Option<String>,
    /// User name (not id).
    pub user: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub resource_type: Option<String>,
    pub trace_id: Option<String>,
    pub trace_name: Option<String>,
    /// `normal`, `warning` or `incident`.
    pub trace_rating: Option<String>,
    /// Access key ID that made the calls, permanent or temporary.
    pub access_key_id: Option<String>,
}

impl TraceQuery {
    fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![("trace_type".to_string(), self.trace_type.as_str().to_string())];
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name.to_string(), value));
            }
        };
        push("limit", self.limit.map(|limit| limit.clamp(1, MAX_PAGE_SIZE).to_string()));
        push("from", self.from.map(|t| t.as_millisecond().to_string()));
        push("to", self.to.map(|t| t.as_millisecond().to_string()));
        push("next", self.next.clone());
        push("tracker_name", self.tracker_name.clone());
        push("service_type", self.service_type.clone());
        push("user", self.user.clone());
        push("resource_id", self.resource_id.clone());
        push("resource_name", self.resource_name.clone());
        push("resource_type", self.resource_type.clone());
        push("trace_id", self.trace_id.clone());
        push("trace_name", self.trace_name.clone());
        push("trace_rating", self.trace_rating.clone());
        push("access_key_id", self.access_key_id.clone());
        pairs
    }
}

/// The account of a trace's caller.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TraceDomain {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Caller of a traced call; `null` on the wire for system actions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TraceUser {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub domain: Option<TraceDomain>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub principal_id: Option<String>,
    #[serde(default)]
    pub principal_urn: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub principal_is_root_user: Option<bool>,
    #[serde(default, rename = "type")]
    pub user_type: Option<String>,
    #[serde(default)]
    pub invoked_by: Vec<String>,
}

/// One trace. `code`, `request`, `response` and `message` are kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Trace {
    pub trace_id: String,
    #[serde(default)]
    pub trace_name: Option<String>,
    #[serde(default)]
    pub trace_rating: Option<String>,
    /// `ApiCall`, `ConsoleAction` or `SystemAction` (data traces: `ObsSDK`, `ObsAPI`).
    #[serde(default)]
    pub trace_type: Option<String>,
    #[serde(default)]
    pub service_type: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub source_ip: Option<String>,
    /// When the call happened (epoch milliseconds on the wire).
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub time: Option<Timestamp>,
    /// When CTS recorded the trace.
    #[serde(default, deserialize_with = "timestamps::deserialize_option")]
    pub record_time: Option<Timestamp>,
    // NOTE: CTS's schema types `code`, `request` and `response` as strings, but its own
    // example sends `"code": 200` and `response` as an object. The live service's form is
    // not known, so every form is accepted and kept as text.
    /// HTTP status of the call, as text.
    #[serde(default, deserialize_with = "lenient::text")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub request: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub response: Option<String>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub message: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub resource_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub read_only: Option<bool>,
    #[serde(default)]
    pub user: Option<TraceUser>,
}

impl Trace {
    /// Returns the HTTP status of the traced call, when `code` is a number.
    pub fn status_code(&self) -> Option<u16> {
        self.code.as_deref().and_then(|code| code.trim().parse().ok())
    }

    /// Returns the access key ID that made the call, when CTS recorded one.
    pub fn access_key_id(&self) -> Option<&str> {
        self.user.as_ref().and_then(|user| user.access_key_id.as_deref())
    }
}

/// One page of traces, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracePage {
    pub traces: Vec<Trace>,
    /// Pass as [`TraceQuery::next`] for the next, older page; `None` on the last page.
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
struct TraceResponse {
    #[serde(default)]
    traces: Vec<Trace>,
    #[serde(default)]
    meta_data: Option<MetaData>,
}

#[derive(Deserialize)]
struct MetaData {
    #[serde(default, deserialize_with = "lenient::text")]
    marker: Option<String>,
}

impl Client {
    /// Lists one page of traces (`ListTraces`) in the project of this client's region.
    pub async fn list_traces(&self, project_id: &str, query: &TraceQuery) -> Result<TracePage, Error> {
        require_id("project_id", project_id)?;
        let mut request = ApiRequest::new(
            Service::Cts,
            "ListTraces",
            Method::GET,
            &["v3", project_id, "traces"],
        );
        request.query = query.to_pairs();
        request.project_id = Some(project_id.to_string());
        let response: TraceResponse = self.send_json(&request).await?;
        let next_marker = response
            .meta_data
            .and_then(|meta| meta.marker)
            .filter(|marker| !marker.is_empty());
        Ok(TracePage {
            traces: response.traces,
            next_marker,
        })
    }

    /// Lists traces page by page until the last page or `max_pages` pages. Returns the
    /// traces and whether more pages were left unread.
    pub async fn list_all_traces(
        &self,
        project_id: &str,
        query: &TraceQuery,
        max_pages: usize,
    ) -> Result<(Vec<Trace>, bool), Error> {
        let mut query = query.clone();
        let mut traces = Vec::new();
        for _ in 0..max_pages {
            let page = self.list_traces(project_id, &query).await?;
            traces.extend(page.traces);
            match page.next_marker {
                // A server that hands back the marker it was given would loop forever.
                Some(marker) if query.next.as_deref() != Some(marker.as_str()) => {
                    query.next = Some(marker);
                }
                _ => return Ok((traces, false)),
            }
        }
        Ok((traces, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_fields_tolerate_both_types() {
        let body = r#"{"traces":[
            {"trace_id":"t1","code":200,"response":{"code":"VPC.0514","message":"Update port fail."},"request":"{\"a\":1}","time":1700000000000,"user":{"access_key_id":"AK1","principal_is_root_user":"false","domain":{"id":"d1","name":"acme"}}},
            {"trace_id":"t2","code":"404","response":null,"user":null,"source_ip":null,"read_only":true}
        ],"meta_data":{"count":2,"marker":"t2"}}"#;

        let response: TraceResponse = serde_json::from_str(body).unwrap();
        let first = &response.traces[0];
        let second = &response.traces[1];

        assert_eq!(first.status_code(), Some(200));
        assert_eq!(first.response.as_deref(), Some(r#"{"code":"VPC.0514","message":"Update port fail."}"#));
        assert_eq!(first.request.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(first.access_key_id(), Some("AK1"));
        assert_eq!(first.user.as_ref().unwrap().principal_is_root_user, Some(false));
        assert_eq!(first.time.unwrap().as_millisecond(), 1_700_000_000_000);
        assert_eq!(second.status_code(), Some(404));
        assert_eq!(second.access_key_id(), None);
        assert_eq!(response.meta_data.unwrap().marker.as_deref(), Some("t2"));
    }

    #[test]
    fn trace_query_encodes_filters() {
        let query = TraceQuery {
            limit: Some(500),
            from: Some(Timestamp::from_millisecond(1_700_000_000_000).unwrap()),
            access_key_id: Some("AK1".into()),
            ..Default::default()
        };

        assert_eq!(
            query.to_pairs(),
            vec![
                ("trace_type".to_string(), "system".to_string()),
                ("limit".to_string(), "200".to_string()),
                ("from".to_string(), "1700000000000".to_string()),
                ("access_key_id".to_string(), "AK1".to_string()),
            ]
        );
    }
}
