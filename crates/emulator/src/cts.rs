//! Cloud Trace Service: the traces the emulator records and the `ListTraces` query.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// One recorded API call, in the shape of a CTS v3 trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// UUID.
    pub trace_id: String,
    pub trace_name: String,
    /// `normal` (2xx), `warning` (4xx) or `incident` (5xx).
    pub trace_rating: String,
    /// Always `ApiCall`: every call the emulator serves is an API call.
    pub trace_type: String,
    pub service_type: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub source_ip: String,
    /// When the call happened, epoch milliseconds.
    pub time: i64,
    /// When the trace was recorded, epoch milliseconds.
    pub record_time: i64,
    /// HTTP status as a string: CTS's schema types `code` as a string.
    // NOTE: the official response example shows a number here; a client must accept both.
    pub code: String,
    /// The error code of a failed call, else empty.
    pub message: String,
    pub request_id: String,
    pub api_version: String,
    pub resource_url: String,
    pub read_only: bool,
    /// `None` when the call did not name a known key.
    pub user: Option<TraceUser>,
    /// Region whose CTS stores the trace. Not a CTS field: the query filters on it.
    #[serde(skip)]
    pub region: String,
    /// Account that owns the trace. Not a CTS field: the query filters on it.
    #[serde(skip)]
    pub domain_id: String,
}

/// The calling identity of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceUser {
    pub id: String,
    pub name: String,
    pub user_name: String,
    pub domain: TraceDomain,
    pub account_id: String,
    pub access_key_id: String,
    pub principal_id: String,
    pub principal_urn: String,
    /// `"true"` or `"false"`: CTS sends this flag as a string.
    pub principal_is_root_user: String,
    /// `User` for IAM users, `Root` for the account's master identity.
    #[serde(rename = "type")]
    pub user_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceDomain {
    pub id: String,
    pub name: String,
}

/// Maximum `limit` of one `ListTraces` page.
pub const MAX_LIMIT: usize = 200;
const DEFAULT_LIMIT: usize = 10;
/// CTS keeps traces queryable for 7 days.
pub const RETENTION: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Query parameters of `GET /v3/{project_id}/traces`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TraceQuery {
    pub trace_type: Option<String>,
    pub limit: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub next: Option<String>,
    pub tracker_name: Option<String>,
    pub service_type: Option<String>,
    pub user: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub resource_type: Option<String>,
    pub trace_id: Option<String>,
    pub trace_name: Option<String>,
    pub trace_rating: Option<String>,
    pub access_key_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

/// One page of traces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracePage {
    pub traces: Vec<Trace>,
    pub meta_data: MetaData,
}

/// Paging data of a [`TracePage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetaData {
    /// Number of traces in this page.
    pub count: usize,
    /// The last trace ID of this page when more traces match, else `null`.
    pub marker: Option<String>,
}

fn parse_number<T: std::str::FromStr>(name: &str, value: &Option<String>) -> Result<Option<T>, String> {
    value
        .as_deref()
        .map(|v| v.parse::<T>().map_err(|_| format!("{name} must be a number, got {v:?}")))
        .transpose()
}

/// Runs a query over the traces one region of one account holds. Traces come newest first;
/// `from` and `to` are exclusive epoch milliseconds, defaulting to the last hour.
pub fn list_traces(traces: &[&Trace], query: &TraceQuery, now: Timestamp) -> Result<TracePage, String> {
    let trace_type = query.trace_type.as_deref().unwrap_or("system");
    if trace_type != "system" && trace_type != "data" {
        return Err(format!("trace_type must be system or data, got {trace_type:?}"));
    }
    let limit = parse_number::<usize>("limit", &query.limit)?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!("limit must be between 1 and {MAX_LIMIT}, got {limit}"));
    }
    let now_ms = now.as_millisecond();
    let to = parse_number::<i64>("to", &query.to)?.unwrap_or(now_ms + 1);
    let from = parse_number::<i64>("from", &query.from)?
        .unwrap_or(now_ms - SignedDuration::from_hours(1).as_millis() as i64);
    if from >= to {
        return Err(format!("from ({from}) must be earlier than to ({to})"));
    }
    let oldest = now_ms - RETENTION.as_millis() as i64;

    // The emulator records management calls only, which CTS lists under the system
    // tracker, so a data tracker contains no traces here.
    if trace_type == "data" || query.tracker_name.as_deref().is_some_and(|t| t != "system") {
        return Ok(empty_page());
    }

    let mut matching: Vec<&Trace> = traces
        .iter()
        .copied()
        .filter(|trace| trace.time > from && trace.time < to && trace.time >= oldest)
        .filter(|trace| matches_filters(trace, query))
        .collect();
    if let Some(id) = &query.trace_id {
        // CTS ignores every other filter when a trace ID is given.
        matching = traces.iter().copied().filter(|t| &t.trace_id == id).collect();
    }
    matching.sort_by(|a, b| b.time.cmp(&a.time));

    let start = match &query.next {
        Some(marker) => match matching.iter().position(|t| &t.trace_id == marker) {
            Some(position) => position + 1,
            None => return Err(format!("next {marker:?} is not a trace marker of this query")),
        },
        None => 0,
    };
    let rest = &matching[start.min(matching.len())..];
    let page: Vec<Trace> = rest.iter().take(limit).map(|t| (*t).clone()).collect();
    let marker = if rest.len() > limit {
        page.last().map(|t| t.trace_id.clone())
    } else {
        None
    };
    Ok(TracePage {
        meta_data: MetaData {
            count: page.len(),
            marker,
        },
        traces: page,
    })
}

fn empty_page() -> TracePage {
    TracePage {
        traces: Vec::new(),
        meta_data: MetaData {
            count: 0,
            marker: None,
        },
    }
}

fn matches_filters(trace: &Trace, query: &TraceQuery) -> bool {
    let equal = |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
    let user_name = trace.user.as_ref().map(|u| u.name.as_str()).unwrap_or("");
    let access_key = trace
        .user
        .as_ref()
        .map(|u| u.access_key_id.as_str())
        .unwrap_or("");
    equal(&query.service_type, &trace.service_type)
        && equal(&query.user, user_name)
        && equal(&query.resource_id, &trace.resource_id)
        && equal(&query.resource_name, &trace.resource_name)
        && equal(&query.resource_type, &trace.resource_type)
        && equal(&query.trace_name, &trace.trace_name)
        && equal(&query.trace_rating, &trace.trace_rating)
        && equal(&query.access_key_id, access_key)
}

/// Returns the CTS rating of a call that ended with HTTP `status`.
pub fn rating_for(status: u16) -> &'static str {
    match status {
        500.. => "incident",
        400.. => "warning",
        _ => "normal",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn trace(id: &str, time: i64, name: &str, access_key: &str) -> Trace {
        Trace {
            trace_id: id.into(),
            trace_name: name.into(),
            trace_rating: "normal".into(),
            trace_type: "ApiCall".into(),
            service_type: "IAM".into(),
            resource_type: "credential".into(),
            resource_id: access_key.into(),
            resource_name: access_key.into(),
            source_ip: "127.0.0.1".into(),
            time,
            record_time: time,
            code: "200".into(),
            message: String::new(),
            request_id: String::new(),
            api_version: "3.0".into(),
            resource_url: String::new(),
            read_only: true,
            user: Some(TraceUser {
                id: "u".into(),
                name: "app".into(),
                user_name: "app".into(),
                domain: TraceDomain {
                    id: "d".into(),
                    name: "acme".into(),
                },
                account_id: "d".into(),
                access_key_id: access_key.into(),
                principal_id: "u".into(),
                principal_urn: "iam::d:user:app".into(),
                principal_is_root_user: "false".into(),
                user_type: "User".into(),
            }),
            region: "ap-southeast-1".into(),
            domain_id: "d".into(),
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_millisecond(10_000_000).unwrap()
    }

    fn sample() -> Vec<Trace> {
        (1..=5)
            .map(|i| {
                let key = if i % 2 == 0 { "AKEVEN" } else { "AKODD" };
                trace(&format!("t{i}"), 10_000_000 - 1000 * (6 - i), "listCredentials", key)
            })
            .collect()
    }

    fn query() -> TraceQuery {
        TraceQuery {
            trace_type: Some("system".into()),
            ..TraceQuery::default()
        }
    }

    #[test]
    fn newest_first() {
        let traces = sample();
        let refs: Vec<&Trace> = traces.iter().collect();

        let page = list_traces(&refs, &query(), now()).unwrap();

        let ids: Vec<&str> = page.traces.iter().map(|t| t.trace_id.as_str()).collect();
        assert_eq!(ids, ["t5", "t4", "t3", "t2", "t1"]);
    }

    #[test]
    fn pages_follow_marker() {
        let traces = sample();
        let refs: Vec<&Trace> = traces.iter().collect();
        let mut first_query = query();
        first_query.limit = Some("2".into());

        let first = list_traces(&refs, &first_query, now()).unwrap();
        let mut second_query = first_query.clone();
        second_query.next = first.meta_data.marker.clone();
        let second = list_traces(&refs, &second_query, now()).unwrap();
        let mut last_query = first_query.clone();
        last_query.next = Some("t2".into());
        let last = list_traces(&refs, &last_query, now()).unwrap();

        assert_eq!(first.meta_data.marker.as_deref(), Some("t4"));
        assert_eq!(second.traces[0].trace_id, "t3");
        assert_eq!(second.meta_data.marker.as_deref(), Some("t2"));
        assert_eq!(last.meta_data.count, 1);
        assert_eq!(last.meta_data.marker, None);
    }

    #[test]
    fn access_key_filter() {
        let traces = sample();
        let refs: Vec<&Trace> = traces.iter().collect();
        let mut q = query();
        q.access_key_id = Some("AKEVEN".into());

        let page = list_traces(&refs, &q, now()).unwrap();

        assert_eq!(page.meta_data.count, 2);
    }

    #[test]
    fn window_is_exclusive() {
        let traces = sample();
        let refs: Vec<&Trace> = traces.iter().collect();
        let mut q = query();
        q.from = Some("9995000".into());
        q.to = Some("9998000".into());

        let page = list_traces(&refs, &q, now()).unwrap();

        let ids: Vec<&str> = page.traces.iter().map(|t| t.trace_id.as_str()).collect();
        assert_eq!(ids, ["t3", "t2"]);
    }

    #[test]
    fn invalid_queries() {
        let cases = [
            TraceQuery {
                limit: Some("201".into()),
                ..query()
            },
            TraceQuery {
                limit: Some("0".into()),
                ..query()
            },
            TraceQuery {
                trace_type: Some("other".into()),
                ..query()
            },
            TraceQuery {
                from: Some("5".into()),
                to: Some("5".into()),
                ..query()
            },
            TraceQuery {
                next: Some("missing".into()),
                ..query()
            },
        ];
        for case in cases {
            assert!(list_traces(&[], &case, now()).is_err(), "{case:?}");
        }
    }

    #[test]
    fn old_traces_expire() {
        let traces = vec![trace("old", 1000, "createCredential", "AK")];
        let refs: Vec<&Trace> = traces.iter().collect();
        let mut q = query();
        q.from = Some("0".into());
        let late = Timestamp::from_millisecond(1000 + RETENTION.as_millis() as i64 + 1).unwrap();

        let page = list_traces(&refs, &q, late).unwrap();

        assert_eq!(page.meta_data.count, 0);
    }

    #[test]
    fn ratings() {
        assert_eq!(rating_for(201), "normal");
        assert_eq!(rating_for(403), "warning");
        assert_eq!(rating_for(503), "incident");
    }
}
