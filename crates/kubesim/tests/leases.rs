//! Leader election with kube-lease-manager, which relies on server-side apply conflicts
//! and strategic merge patches of Leases.

mod common;

use common::{client, start};
use kube_lease_manager::LeaseManagerBuilder;
use std::time::Duration;

#[tokio::test]
async fn one_leader_then_handover() {
    let sim = start().await;
    let build = |identity: &str| {
        LeaseManagerBuilder::new(client(&sim), "akguard-leader")
            .with_namespace("default")
            .with_identity(identity)
            .with_duration(4)
            .with_grace(1)
            .build()
    };
    let first = build("replica-a").await.unwrap();
    let second = build("replica-b").await.unwrap();

    let first_leads = tokio::time::timeout(Duration::from_secs(10), first.changed()).await.unwrap().unwrap();
    let second_attempt = tokio::spawn(async move {
        let leads = second.changed().await.unwrap();
        (leads, second)
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second_waited = !second_attempt.is_finished();
    first.release().await.unwrap();
    let (second_leads, _second) = tokio::time::timeout(Duration::from_secs(15), second_attempt).await.unwrap().unwrap();

    assert!(first_leads);
    assert!(second_waited, "the second replica must not lead while the first holds the lease");
    assert!(second_leads);
    sim.shutdown().await;
}
