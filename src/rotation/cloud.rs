//! Huawei Cloud access for rotations: one client per acting access key and provider
//! settings, kept between reconciles so domain discovery runs once per key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use akguard_hwcloud::{
    AccessKey, AccessKeyStatus, CallObserver, CallRecord, Client, ClientConfig, Credentials,
    EndpointOverrides, RateLimiter, SharedClock, TraceQuery,
};
use jiff::{SignedDuration, Timestamp};

use super::decision::KeyView;
use super::marker::KeyMarker;
use crate::api::common::{BillingSite, IamScope, ProviderSpec};
use crate::runtime::metrics::{CloudCallLabels, Metrics};

/// Counts every cloud call in the operator's metrics.
struct MetricsObserver(Metrics);

impl CallObserver for MetricsObserver {
    fn record(&self, call: &CallRecord) {
        self.0
            .cloud_calls
            .get_or_create(&CloudCallLabels {
                operation: call.operation.to_string(),
                outcome: call.outcome().to_string(),
            })
            .inc();
    }
}

/// Builds and caches clients. The cache key contains the access key ID and the provider
/// settings, never the secret access key; a rotated-away key's client is dropped when the
/// cache is pruned.
#[derive(Clone)]
pub struct CloudClients {
    clock: SharedClock,
    metrics: Metrics,
    limiter: Arc<RateLimiter>,
    cache: Arc<Mutex<HashMap<String, Client>>>,
    /// Project IDs by access key ID, endpoints and region: an account's project of a
    /// region never changes, and the idle window and soak need it on every poll.
    projects: Arc<Mutex<HashMap<String, String>>>,
}

/// Most cached clients before the cache is cleared; each resource uses one or two keys.
const CACHE_LIMIT: usize = 1024;

impl CloudClients {
    /// `requests_per_second` limits every client's calls together; 0 means no limit.
    pub fn new(clock: SharedClock, metrics: Metrics, requests_per_second: u32) -> Self {
        Self {
            clock,
            metrics,
            limiter: Arc::new(RateLimiter::per_second(requests_per_second)),
            cache: Arc::new(Mutex::new(HashMap::new())),
            projects: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Returns the ID of the project named after `region` in the account of `client`'s
    /// key, looked up once per key and region.
    pub async fn project_id(&self, client: &Client, region: &str) -> Result<String, akguard_hwcloud::Error> {
        let cache_key = format!("{}|{:?}|{region}", client.access_key_id(), client.endpoints());
        if let Some(id) = self.projects.lock().expect("project cache poisoned").get(&cache_key) {
            return Ok(id.clone());
        }
        let id = client.project_id(region).await?;
        let mut projects = self.projects.lock().expect("project cache poisoned");
        if projects.len() >= CACHE_LIMIT {
            projects.clear();
        }
        projects.insert(cache_key, id.clone());
        Ok(id)
    }

    pub fn client(&self, provider: &ProviderSpec, credentials: Credentials) -> Result<Client, akguard_hwcloud::Error> {
        let cache_key = format!(
            "{}|{}|{:?}|{:?}|{:?}",
            credentials.access_key_id, provider.region, provider.iam_scope, provider.billing_site, provider.endpoints
        );
        let mut cache = self.cache.lock().expect("cloud client cache poisoned");
        if let Some(client) = cache.get(&cache_key) {
            return Ok(client.clone());
        }

        let mut config = ClientConfig::new(provider.region.clone());
        config.iam_scope = match provider.iam_scope {
            IamScope::Global => akguard_hwcloud::IamScope::Global,
            IamScope::Regional => akguard_hwcloud::IamScope::Regional,
        };
        config.billing_site = match provider.billing_site {
            BillingSite::China => akguard_hwcloud::BillingSite::China,
            BillingSite::International => akguard_hwcloud::BillingSite::International,
        };
        if let Some(endpoints) = &provider.endpoints {
            config.endpoints = EndpointOverrides {
                iam: endpoints.iam.clone(),
                cts: endpoints.cts.clone(),
                bss: endpoints.bss.clone(),
            };
        }
        let client = Client::builder(config, credentials, self.clock.clone())
            .observer(Arc::new(MetricsObserver(self.metrics.clone())))
            .rate_limiter(self.limiter.clone())
            .build()?;

        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(cache_key, client.clone());
        Ok(client)
    }
}

/// Converts an IAM key into the decisions' view of it.
pub fn key_view(key: &AccessKey) -> KeyView {
    KeyView {
        access_key_id: key.access_key_id.clone(),
        active: key.status == AccessKeyStatus::Active,
        created: key.create_time,
        last_used: key.last_use_time,
        marker: KeyMarker::parse(&key.description),
    }
}

/// Time of the latest call signed with `access_key_id` after `since` that CTS recorded in
/// the project `project_id`, rejected calls included. IAM moves `last_use_time` only for accepted calls,
/// so a call with a disabled key shows up here and not there.
// NOTE: CTS delivers a trace minutes after the call and records it in the region of the
// service called (IAM calls in the account's IAM trace region), so this misses calls of
// the last few minutes and calls to services in other regions.
pub async fn traced_use_since(
    client: &Client,
    project_id: &str,
    access_key_id: &str,
    since: Timestamp,
    now: Timestamp,
) -> Result<Option<Timestamp>, akguard_hwcloud::Error> {
    let query = TraceQuery {
        access_key_id: Some(access_key_id.to_string()),
        from: Some(since),
        // `to` is exclusive, so a second past `now` includes calls made at `now`.
        to: Some(now + SignedDuration::from_secs(1)),
        limit: Some(1),
        ..TraceQuery::default()
    };
    let page = client.list_traces(project_id, &query).await?;
    Ok(page.traces.iter().filter_map(|trace| trace.time).max())
}
