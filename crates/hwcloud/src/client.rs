//! The Huawei Cloud client: configuration, construction and shared state. The API calls
//! live in `iam`, `identity`, `cts` and `bss`; sending and retrying in `transport`.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::clock::SharedClock;
use crate::endpoints::{BillingSite, EndpointOverrides, Endpoints, IamScope, Region};
use crate::error::Error;
use crate::metrics::CallObserver;
use crate::rate::RateLimiter;
use crate::retry::{RetryPolicy, Sleeper, tokio_sleeper};
use crate::secret::Credentials;

/// Installs rustls' `ring` provider as the process-wide default, which reqwest's
/// `rustls-no-provider` build needs before any HTTPS client exists. A provider installed
/// earlier, by this call or by anyone else, is left in place.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed (rustls 0.23),
    // which is the state this function is after.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Client configuration: region, endpoints, account id and retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Region id such as `cn-north-4`; derives the CTS host and the project to look up.
    pub region: String,
    pub iam_scope: IamScope,
    pub billing_site: BillingSite,
    pub endpoints: EndpointOverrides,
    /// Account (domain) id, sent as `X-Domain-Id` to IAM and BSS. When `None`,
    /// [`Client::discover_domain`] finds and remembers it.
    pub domain_id: Option<String>,
    pub retry: RetryPolicy,
    /// Time limit for opening a TCP (and TLS) connection.
    pub connect_timeout: Duration,
}

impl ClientConfig {
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            iam_scope: IamScope::default(),
            billing_site: BillingSite::default(),
            endpoints: EndpointOverrides::default(),
            domain_id: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Builds a [`Client`] with optional test and metrics hooks.
pub struct ClientBuilder {
    config: ClientConfig,
    credentials: Credentials,
    clock: SharedClock,
    sleeper: Sleeper,
    observer: Option<Arc<dyn CallObserver>>,
    rate_limiter: Option<Arc<RateLimiter>>,
    http: Option<reqwest::Client>,
}

/// Builds the HTTP client that [`Client`] uses: no environment proxy, no retries of its
/// own, the given connect timeout. Share one between clients to reuse connections.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("akguard/", env!("CARGO_PKG_VERSION")))
        // The operator talks to fixed endpoints only. An environment proxy would see every
        // signed request.
        .no_proxy()
        // Every retry is decided by `RetryPolicy`, which knows which calls create
        // something. reqwest's own default retries protocol-level refusals only.
        .retry(reqwest::retry::never())
        .build()
        .map_err(|error| Error::Config {
            field: "http_client",
            message: format!("failed to build the HTTP client: {error}"),
        })
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("has_observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Replaces the sleep between retries (tests pass one that returns at once).
    pub fn sleeper(mut self, sleeper: Sleeper) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Sets the hook that receives one record per call.
    /// Shares a request rate limit with other clients; every attempt, retries included,
    /// waits for a slot.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    pub fn observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Uses an HTTP client from [`http_client`] instead of building a new one, so clients
    /// built per reconcile share one connection pool. `ClientConfig::connect_timeout` is
    /// then ignored.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Validates the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let region = Region::new(&self.config.region)?;
        let endpoints = Endpoints::resolve(
            &region,
            self.config.iam_scope,
            self.config.billing_site,
            &self.config.endpoints,
        )?;
        if self.credentials.access_key_id.trim().is_empty() {
            return Err(Error::Config {
                field: "access_key_id",
                message: "the access key ID is empty; put the AK in the credentials Secret".into(),
            });
        }
        if self.credentials.secret_access_key.is_empty() {
            return Err(Error::Config {
                field: "secret_access_key",
                message: "the secret access key is empty; put the SK in the credentials Secret"
                    .into(),
            });
        }
        if self.config.retry.max_attempts == 0 {
            return Err(Error::Config {
                field: "retry.max_attempts",
                message: "must be at least 1 (1 disables retries)".into(),
            });
        }

        let http = match self.http {
            Some(http) => http,
            None => http_client(self.config.connect_timeout)?,
        };

        Ok(Client {
            inner: Arc::new(Inner {
                region,
                endpoints,
                credentials: self.credentials,
                clock: self.clock,
                http,
                retry: self.config.retry,
                sleeper: self.sleeper,
                observer: self.observer,
                rate_limiter: self.rate_limiter,
                domain_id: RwLock::new(self.config.domain_id.filter(|id| !id.is_empty())),
            }),
        })
    }
}

/// A Huawei Cloud client for IAM access keys, identity discovery, CTS traces and BSS
/// bills, signing every request with one access key. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) region: Region,
    pub(crate) endpoints: Endpoints,
    pub(crate) credentials: Credentials,
    pub(crate) clock: SharedClock,
    pub(crate) http: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) sleeper: Sleeper,
    pub(crate) observer: Option<Arc<dyn CallObserver>>,
    pub(crate) rate_limiter: Option<Arc<RateLimiter>>,
    pub(crate) domain_id: RwLock<Option<String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("region", &self.inner.region)
            .field("endpoints", &self.inner.endpoints)
            .field("access_key_id", &self.inner.credentials.access_key_id)
            .field("domain_id", &self.domain_id())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a builder with the default sleep (`tokio::time::sleep`) and no observer.
    pub fn builder(config: ClientConfig, credentials: Credentials, clock: SharedClock) -> ClientBuilder {
        ClientBuilder {
            config,
            credentials,
            clock,
            sleeper: tokio_sleeper(),
            observer: None,
            rate_limiter: None,
            http: None,
        }
    }

    pub fn new(config: ClientConfig, credentials: Credentials, clock: SharedClock) -> Result<Self, Error> {
        Self::builder(config, credentials, clock).build()
    }

    pub fn region(&self) -> &Region {
        &self.inner.region
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// Returns the access key ID this client signs with.
    pub fn access_key_id(&self) -> &str {
        &self.inner.credentials.access_key_id
    }

    /// Returns the account id sent as `X-Domain-Id`, if configured or discovered.
    pub fn domain_id(&self) -> Option<String> {
        self.inner
            .domain_id
            .read()
            .expect("domain id lock poisoned")
            .clone()
    }

    /// Sets the account id sent as `X-Domain-Id` from now on.
    pub fn set_domain_id(&self, domain_id: impl Into<String>) {
        *self.inner.domain_id.write().expect("domain id lock poisoned") = Some(domain_id.into());
    }
}
