//! The Huawei Cloud client (`akguard-hwcloud`) against the emulator: access key lifecycle,
//! identity discovery, the two-key quota, retries through injected faults, and the
//! ambiguous create followed by the lookup by description marker.

use std::sync::Arc;
use std::time::Duration;

use akguard_emulator::{
    EmulatorClock, EmulatorConfig, FaultKind, FaultRule, Operation, RunningEmulator, SeedRequest,
    SeedUser, SeededAccount, start,
};
use akguard_hwcloud::retry::Sleeper;
use akguard_hwcloud::{
    AccessKeyStatus, AccessKeyUpdate, Client, ClientConfig, Clock, Credentials, EndpointOverrides, Error,
    ErrorKind, ManualClock, RecordingObserver, RetryPolicy, TraceQuery,
};
use jiff::SignedDuration;

struct World {
    emulator: RunningEmulator,
    clock: Arc<ManualClock>,
    account: SeededAccount,
}

async fn world() -> World {
    let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap());
    let config = EmulatorConfig {
        clock: EmulatorClock::Manual(clock.clone()),
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await.expect("emulator starts");
    let mut owner = SeedUser::new("owner").with_key();
    owner.admin = true;
    let account = emulator
        .seed(SeedRequest {
            domain_name: "acme".into(),
            users: vec![owner, SeedUser::new("app").with_key()],
            ..SeedRequest::default()
        })
        .expect("seed accepted");
    World {
        emulator,
        clock,
        account,
    }
}

fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        multiplier: 2.0,
        // Long enough that a loaded test machine does not time out normal calls; the
        // latency faults below exceed it by far.
        attempt_timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(20),
    }
}

impl World {
    fn user_id(&self, name: &str) -> String {
        self.account.user(name).unwrap().id.clone()
    }

    fn credentials(&self, name: &str) -> Credentials {
        self.account.credentials(name, 0).unwrap()
    }

    fn client_for(&self, credentials: Credentials, region: &str, observer: Option<Arc<RecordingObserver>>) -> Client {
        let mut config = ClientConfig::new(region);
        config.endpoints = EndpointOverrides {
            iam: Some(self.emulator.base_url().to_string()),
            cts: Some(self.emulator.base_url().to_string()),
            bss: None,
        };
        config.domain_id = Some(self.account.domain_id.clone());
        config.retry = retry_policy();
        let no_wait: Sleeper = Arc::new(|_| Box::pin(async {}));
        let mut builder = Client::builder(config, credentials, self.clock.clone()).sleeper(no_wait);
        if let Some(observer) = observer {
            builder = builder.observer(observer);
        }
        builder.build().unwrap()
    }

    fn client(&self, user: &str) -> Client {
        self.client_for(self.credentials(user), "cn-north-4", None)
    }
}

#[tokio::test]
async fn key_lifecycle_on_emulator() {
    let world = world().await;
    let app = world.client("app");
    let user_id = world.user_id("app");

    let created = app.create_access_key(&user_id, "akguard rotation=r1").await.unwrap();
    assert_eq!(created.status, AccessKeyStatus::Active);
    assert_eq!(created.user_id, user_id);
    assert_eq!(created.access_key_id.len(), 20);
    assert_eq!(created.secret_access_key.expose().len(), 40);

    let listed = app.list_access_keys(Some(&user_id)).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|key| key.access_key_id == created.access_key_id));
    let own = app.list_access_keys(None).await.unwrap();
    assert_eq!(own.len(), 2);

    let shown = app.show_access_key(&created.access_key_id).await.unwrap();
    assert_eq!(shown.description, "akguard rotation=r1");
    assert_eq!(shown.never_used(), Some(true));

    // The new key signs a call of its own; IAM then reports a later use.
    world.clock.advance(SignedDuration::from_mins(5));
    let new_client = world.client_for(created.credentials(), "cn-north-4", None);
    new_client.list_access_keys(None).await.unwrap();
    let used = app.show_access_key(&created.access_key_id).await.unwrap();
    assert_eq!(used.never_used(), Some(false));

    let disabled = app
        .update_access_key(&created.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Inactive))
        .await
        .unwrap();
    assert_eq!(disabled.status, AccessKeyStatus::Inactive);
    let inactive_call = new_client.list_access_keys(None).await.unwrap_err();
    assert!(
        matches!(inactive_call.kind(), ErrorKind::KeyInactive | ErrorKind::Unauthorized),
        "{inactive_call}"
    );

    let described = app
        .update_access_key(
            &created.access_key_id,
            &AccessKeyUpdate {
                status: None,
                description: Some("retired".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(described.description, "retired");

    app.delete_access_key(&created.access_key_id).await.unwrap();
    let gone = app.show_access_key(&created.access_key_id).await.unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
    assert_eq!(app.list_access_keys(Some(&user_id)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn identity_discovered_from_key_alone() {
    let world = world().await;
    let mut config = ClientConfig::new("cn-north-4");
    config.endpoints.iam = Some(world.emulator.base_url().to_string());
    let app = Client::new(config, world.credentials("app"), world.clock.clone()).unwrap();

    let identity = app.discover_identity().await.unwrap();
    let project_id = app.project_id("cn-north-4").await.unwrap();
    let wrong = app.project_id("eu-west-101").await.unwrap_err();

    assert_eq!(identity.domain.id, world.account.domain_id);
    assert_eq!(identity.domain.name, "acme");
    assert_eq!(app.domain_id().as_deref(), Some(world.account.domain_id.as_str()));
    assert_eq!(identity.user.id, world.user_id("app"));
    assert_eq!(identity.user.name, "app");
    assert!(identity.user.enabled);
    assert!(!identity.user.is_domain_owner);
    assert_eq!(Some(project_id.as_str()), world.account.project_id("cn-north-4"));
    assert_eq!(wrong.kind(), ErrorKind::WrongRegion, "{wrong}");
}

#[tokio::test]
async fn quota_exceeded_is_typed() {
    let world = world().await;
    let app = world.client("app");
    let user_id = world.user_id("app");
    let observer = RecordingObserver::new();
    let observed = world.client_for(world.credentials("app"), "cn-north-4", Some(observer.clone()));

    app.create_access_key(&user_id, "second").await.unwrap();
    let error = observed.create_access_key(&user_id, "third").await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::QuotaExceeded, "{error}");
    let calls = observer.calls();
    assert_eq!(calls.len(), 1, "quota error was retried");
    assert_eq!(calls[0].operation, "CreatePermanentAccessKey");
    assert_eq!(calls[0].outcome(), "quota_exceeded");
    assert_eq!(calls[0].status, Some(400));
}

#[tokio::test]
async fn transient_faults_retried() {
    let world = world().await;
    let observer = RecordingObserver::new();
    let app = world.client_for(world.credentials("app"), "cn-north-4", Some(observer.clone()));
    let user_id = world.user_id("app");
    let faults = [
        FaultRule::new(FaultKind::Throttle).for_operation(Operation::ListCredentials).on_nth(1),
        FaultRule::status(500).for_operation(Operation::ListCredentials).on_nth(2),
        FaultRule::status(503).for_operation(Operation::ListCredentials).on_nth(3),
    ];
    for fault in faults {
        world.emulator.set_fault(fault).unwrap();
    }

    let keys = app.list_access_keys(Some(&user_id)).await.unwrap();

    assert_eq!(keys.len(), 1);
    let calls = observer.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].attempts, 4);
    assert_eq!(calls[0].outcome(), "ok");
}

#[tokio::test]
async fn timeouts_and_drops_retried_for_reads() {
    let world = world().await;
    let observer = RecordingObserver::new();
    let app = world.client_for(world.credentials("app"), "cn-north-4", Some(observer.clone()));
    let access_key_id = world.credentials("app").access_key_id;
    world
        .emulator
        .set_fault(FaultRule::latency(5_000).for_operation(Operation::ShowCredential).on_nth(1))
        .unwrap();
    world
        .emulator
        .set_fault(FaultRule::new(FaultKind::Drop).for_operation(Operation::ShowCredential).on_nth(2))
        .unwrap();

    let key = app.show_access_key(&access_key_id).await.unwrap();

    assert_eq!(key.access_key_id, access_key_id);
    assert_eq!(observer.calls()[0].attempts, 3);
}

#[tokio::test]
async fn persistent_server_errors_give_up() {
    let world = world().await;
    let app = world.client("app");
    world
        .emulator
        .set_fault(FaultRule::status(500).for_operation(Operation::ListCredentials))
        .unwrap();

    let error = app.list_access_keys(None).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
}

/// Runs the create protocol the operator follows. After an ambiguous failure it looks for
/// the marker and deletes what the lost attempt made, because that key's secret is gone,
/// then creates again.
async fn create_with_marker(client: &Client, user_id: &str, marker: &str) -> (akguard_hwcloud::CreatedAccessKey, usize) {
    let mut ambiguous = 0;
    loop {
        match client.create_access_key(user_id, marker).await {
            Ok(created) => return (created, ambiguous),
            Err(Error::Ambiguous { .. }) => {
                ambiguous += 1;
                assert!(ambiguous < 5, "create stayed ambiguous");
                for orphan in client.find_key_by_marker(user_id, marker).await.unwrap() {
                    client.delete_access_key(&orphan.access_key_id).await.unwrap();
                }
            }
            Err(other) => panic!("create failed: {other}"),
        }
    }
}

#[tokio::test]
async fn ambiguous_create_then_find_by_marker() {
    let world = world().await;
    let app = world.client("app");
    let user_id = world.user_id("app");
    let marker = "akguard uid=3f1c rotation=42";
    for fault in [
        FaultRule::status(500).for_operation(Operation::CreateCredential).on_nth(1),
        FaultRule::new(FaultKind::Drop).for_operation(Operation::CreateCredential).on_nth(2),
        FaultRule::latency(5_000).for_operation(Operation::CreateCredential).on_nth(3),
    ] {
        world.emulator.set_fault(fault).unwrap();
    }

    let (created, ambiguous) = create_with_marker(&app, &user_id, marker).await;

    assert_eq!(ambiguous, 3, "each faulted create must be ambiguous, not retried");
    // A slow create may finish on the server after the client gave up. After a wait, the
    // marker must name exactly one key, the one whose secret the caller has.
    tokio::time::sleep(Duration::from_millis(5_200)).await;
    for orphan in app.find_key_by_marker(&user_id, marker).await.unwrap() {
        if orphan.access_key_id != created.access_key_id {
            app.delete_access_key(&orphan.access_key_id).await.unwrap();
        }
    }
    let found = app.find_key_by_marker(&user_id, marker).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].access_key_id, created.access_key_id);
    let new_client = world.client_for(created.credentials(), "cn-north-4", None);
    new_client.list_access_keys(None).await.unwrap();
}

#[tokio::test]
async fn create_retried_when_throttled() {
    let world = world().await;
    let observer = RecordingObserver::new();
    let app = world.client_for(world.credentials("app"), "cn-north-4", Some(observer.clone()));
    world
        .emulator
        .set_fault(FaultRule::new(FaultKind::Throttle).for_operation(Operation::CreateCredential).on_nth(1))
        .unwrap();

    app.create_access_key(&world.user_id("app"), "m").await.unwrap();

    assert_eq!(observer.calls()[0].attempts, 2);
    assert_eq!(world.emulator.keys().len(), 3);
}

#[tokio::test]
async fn admin_manages_other_users_keys() {
    let world = world().await;
    let owner = world.client("owner");
    let app_user = world.user_id("app");

    let created = owner.create_access_key(&app_user, "by admin").await.unwrap();
    let keys = owner.list_access_keys(Some(&app_user)).await.unwrap();
    owner.delete_access_key(&created.access_key_id).await.unwrap();

    assert_eq!(created.user_id, app_user);
    assert_eq!(keys.len(), 2);
}

#[tokio::test]
async fn bad_secret_rejected_as_unauthorized() {
    let world = world().await;
    let mut credentials = world.credentials("app");
    credentials.secret_access_key = akguard_hwcloud::SecretKey::new("WrongFakeSecretForTheRejectionTest000000");
    let app = world.client_for(credentials, "cn-north-4", None);

    let error = app.list_access_keys(None).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized, "{error}");
    assert_eq!(error.api().unwrap().code.as_deref(), Some("APIGW.0301"));
}

#[tokio::test]
async fn traces_record_key_calls() {
    let world = world().await;
    let app = world.client("app");
    let access_key_id = world.credentials("app").access_key_id;
    app.list_access_keys(None).await.unwrap();

    // IAM traces live in the account's trace region, ap-southeast-1 by default.
    let auditor = world.client_for(world.credentials("owner"), "ap-southeast-1", None);
    let project_id = auditor.project_id("ap-southeast-1").await.unwrap();
    let query = TraceQuery {
        access_key_id: Some(access_key_id.clone()),
        from: Some(world.clock.now() - SignedDuration::from_hours(1)),
        to: Some(world.clock.now() + SignedDuration::from_mins(1)),
        limit: Some(1),
        ..TraceQuery::default()
    };
    let (traces, truncated) = auditor.list_all_traces(&project_id, &query, 10).await.unwrap();

    assert!(!truncated);
    assert!(!traces.is_empty(), "no trace of the key's call");
    assert!(traces.iter().all(|trace| trace.access_key_id() == Some(access_key_id.as_str())));
    assert!(traces.iter().any(|trace| trace.trace_name.as_deref() == Some("listCredentials")));
}
