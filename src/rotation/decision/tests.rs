use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

fn key(id: &str, active: bool, created: &str, last_used: Option<&str>) -> KeyView {
    KeyView {
        access_key_id: id.to_string(),
        active,
        created: at(created),
        last_used: last_used.map(at),
        marker: None,
    }
}

fn consumer(name: &str, restarted: bool, rollout: RolloutState) -> ConsumerHealth {
    ConsumerHealth {
        name: name.to_string(),
        restarted,
        rollout,
    }
}

fn trigger_input<'a>() -> TriggerInput<'a> {
    TriggerInput {
        now: at("2026-06-01T12:00:00Z"),
        suspended: false,
        scheduled_due: Some(at("2026-07-01T00:00:00Z")),
        window: Window::Unrestricted,
        rotation_request: None,
        handled_request: None,
        emergency: None,
    }
}

#[test]
fn trigger_table() {
    let opens = at("2026-06-02T01:00:00Z");
    let cases: Vec<(&str, TriggerInput, TriggerDecision)> = vec![
        (
            "nothing due",
            trigger_input(),
            TriggerDecision::Idle { until: Some(at("2026-07-01T00:00:00Z")) },
        ),
        (
            "schedule due",
            TriggerInput { scheduled_due: Some(at("2026-06-01T11:00:00Z")), ..trigger_input() },
            TriggerDecision::Rotate(Trigger::Schedule),
        ),
        (
            "schedule due but window closed",
            TriggerInput {
                scheduled_due: Some(at("2026-06-01T11:00:00Z")),
                window: Window::Closed { opens },
                ..trigger_input()
            },
            TriggerDecision::HeldByWindow { opens },
        ),
        (
            "request changed ignores window",
            TriggerInput {
                rotation_request: Some("2"),
                handled_request: Some("1"),
                window: Window::Closed { opens },
                ..trigger_input()
            },
            TriggerDecision::Rotate(Trigger::Request("2".into())),
        ),
        (
            "request unchanged",
            TriggerInput { rotation_request: Some("1"), handled_request: Some("1"), ..trigger_input() },
            TriggerDecision::Idle { until: Some(at("2026-07-01T00:00:00Z")) },
        ),
        (
            "empty request is no request",
            TriggerInput { rotation_request: Some(""), handled_request: None, ..trigger_input() },
            TriggerDecision::Idle { until: Some(at("2026-07-01T00:00:00Z")) },
        ),
        (
            "emergency ignores window",
            TriggerInput { emergency: Some("leak-1"), window: Window::Closed { opens }, ..trigger_input() },
            TriggerDecision::Rotate(Trigger::Emergency("leak-1".into())),
        ),
        (
            "suspended holds due schedule",
            TriggerInput {
                suspended: true,
                scheduled_due: Some(at("2026-06-01T11:00:00Z")),
                ..trigger_input()
            },
            TriggerDecision::Suspended { trigger: Trigger::Schedule },
        ),
        (
            "no schedule and nothing requested",
            TriggerInput { scheduled_due: None, ..trigger_input() },
            TriggerDecision::Idle { until: None },
        ),
    ];

    for (case, input, expected) in cases {
        assert_eq!(decide_trigger(&input), expected, "case {case}");
    }
}

#[test]
fn verification_table() {
    let started = at("2026-06-01T12:00:00Z");
    let timeout = SignedDuration::from_mins(10);
    let before_timeout = at("2026-06-01T12:05:00Z");
    let after_timeout = at("2026-06-01T12:10:00Z");
    let ok = consumer("Deployment/api", true, RolloutState::Complete);
    let moving = consumer("Deployment/api", true, RolloutState::Progressing("1 of 2".into()));
    let not_restarted = consumer("Deployment/api", false, RolloutState::Complete);
    let failed = consumer("Deployment/api", true, RolloutState::Failed("deadline".into()));
    let check_ok = CheckOutcome { name: "ping".into(), passed: true, detail: "200".into() };
    let check_bad = CheckOutcome { name: "ping".into(), passed: false, detail: "503".into() };

    let cases = [
        ("all healthy", vec![ok.clone()], vec![check_ok.clone()], before_timeout, "passed"),
        ("no consumers", vec![], vec![], before_timeout, "passed"),
        ("rollout moving", vec![moving.clone()], vec![], before_timeout, "waiting"),
        ("restart not issued", vec![not_restarted], vec![], before_timeout, "waiting"),
        ("rollout failed", vec![failed], vec![], before_timeout, "failed"),
        ("check failing", vec![ok.clone()], vec![check_bad.clone()], before_timeout, "waiting"),
        ("check failing at timeout", vec![ok], vec![check_bad], after_timeout, "failed"),
        ("moving at timeout", vec![moving], vec![check_ok], after_timeout, "failed"),
    ];

    for (case, consumers, checks, now, expected) in cases {
        let outcome = verification_outcome(&consumers, &checks, started, timeout, now);
        let kind = match outcome {
            Verification::Passed => "passed",
            Verification::Waiting(_) => "waiting",
            Verification::Failed(_) => "failed",
        };
        assert_eq!(kind, expected, "case {case}: {outcome:?}");
    }
}

#[test]
fn idle_table() {
    let switched = at("2026-06-01T12:00:00Z");
    let window = hours(24);
    let quiet = key("OLD", true, "2026-01-01T00:00:00Z", Some("2026-06-01T11:00:00Z"));
    let used_after = key("OLD", true, "2026-01-01T00:00:00Z", Some("2026-06-01T18:00:00Z"));

    assert_eq!(
        idle_outcome(&quiet, switched, window, at("2026-06-02T12:00:00Z")),
        IdleDecision::Ready
    );
    assert_eq!(
        idle_outcome(&quiet, switched, window, at("2026-06-02T11:59:59Z")),
        IdleDecision::Wait { until: at("2026-06-02T12:00:00Z"), in_use_since: None }
    );
    assert_eq!(
        idle_outcome(&used_after, switched, window, at("2026-06-02T12:00:00Z")),
        IdleDecision::Wait {
            until: at("2026-06-02T18:00:00Z"),
            in_use_since: Some(at("2026-06-01T18:00:00Z"))
        }
    );
    assert_eq!(
        idle_outcome(&used_after, switched, window, at("2026-06-02T18:00:00Z")),
        IdleDecision::Ready
    );
}

#[test]
fn soak_table() {
    let disabled = at("2026-06-02T12:00:00Z");
    let soak = hours(72);
    let before_use = Some(at("2026-06-01T11:00:00Z"));
    let still = key("OLD", false, "2026-01-01T00:00:00Z", Some("2026-06-01T11:00:00Z"));
    let tried = key("OLD", false, "2026-01-01T00:00:00Z", Some("2026-06-03T08:00:00Z"));
    let healthy = vec![consumer("Deployment/api", true, RolloutState::Complete)];
    let broken = vec![consumer("Deployment/api", true, RolloutState::Progressing("0 of 2 available".into()))];

    let cases = [
        ("still and healthy, early", &still, &healthy, at("2026-06-03T00:00:00Z"), SoakDecision::Wait { until: at("2026-06-05T12:00:00Z") }),
        ("still and healthy, done", &still, &healthy, at("2026-06-05T12:00:00Z"), SoakDecision::Done),
        ("old key tried", &tried, &healthy, at("2026-06-05T12:00:00Z"), SoakDecision::OldKeyUsed { since: at("2026-06-03T08:00:00Z") }),
        ("consumer broke", &still, &broken, at("2026-06-03T00:00:00Z"), SoakDecision::ConsumerBroken("Deployment/api: 0 of 2 available".into())),
    ];

    for (case, old_key, consumers, now, expected) in cases {
        assert_eq!(
            soak_outcome(disabled, soak, before_use, old_key, consumers, now),
            expected,
            "case {case}"
        );
    }
}

#[test]
fn quota_table() {
    let current = key("CUR", true, "2026-01-01T00:00:00Z", None);
    let spare_inactive = key("SPARE", false, "2026-02-01T00:00:00Z", None);
    let spare_active = key("SPARE", true, "2026-02-01T00:00:00Z", None);
    let none = BTreeSet::new();
    let spare_referenced: BTreeSet<String> = ["SPARE".to_string()].into();

    let cases = [
        ("one key", vec![current.clone()], QuotaPolicy::Wait, &none, "proceed"),
        ("full, wait policy", vec![current.clone(), spare_inactive.clone()], QuotaPolicy::Wait, &none, "blocked"),
        ("full, inactive unreferenced", vec![current.clone(), spare_inactive.clone()], QuotaPolicy::DeleteInactiveUnreferenced, &none, "delete"),
        ("full, inactive but referenced", vec![current.clone(), spare_inactive], QuotaPolicy::DeleteInactiveUnreferenced, &spare_referenced, "blocked"),
        ("full, other key active", vec![current, spare_active], QuotaPolicy::DeleteInactiveUnreferenced, &none, "blocked"),
    ];

    for (case, keys, policy, referenced, expected) in cases {
        let decision = quota_decision(&keys, Some("CUR"), policy, referenced);
        let kind = match &decision {
            QuotaDecision::Proceed => "proceed",
            QuotaDecision::DeleteFirst(id) => {
                assert_eq!(id, "SPARE", "case {case}");
                "delete"
            }
            QuotaDecision::Blocked(message) => {
                assert!(message.contains("CUR"), "case {case}: {message}");
                assert!(message.contains("SPARE"), "case {case}: {message}");
                "blocked"
            }
        };
        assert_eq!(kind, expected, "case {case}");
    }
}

#[test]
fn orphans_are_unheld_unused_own_keys() {
    let own = |id: &str, last_used: Option<&str>| KeyView {
        marker: Some(KeyMarker::new("uid-1", "rot-1")),
        ..key(id, true, "2026-06-01T00:00:00Z", last_used)
    };
    let foreign = KeyView {
        marker: Some(KeyMarker::new("uid-2", "rot-9")),
        ..key("FOREIGN", true, "2026-06-01T00:00:00Z", None)
    };
    let keys = vec![
        own("LOST", Some("2026-06-01T00:00:00Z")),
        own("HELD", None),
        own("USED", Some("2026-06-02T00:00:00Z")),
        own("UNKNOWN", None),
        foreign,
        key("UNMARKED", true, "2026-06-01T00:00:00Z", None),
    ];
    let held: BTreeSet<String> = ["HELD".to_string()].into();

    assert_eq!(orphaned_keys(&keys, "uid-1", &held), vec!["LOST".to_string()]);
}

#[test]
fn retry_delay_doubles_to_cap() {
    assert_eq!(retry_delay(1), SignedDuration::from_mins(5));
    assert_eq!(retry_delay(2), SignedDuration::from_mins(10));
    assert_eq!(retry_delay(3), SignedDuration::from_mins(20));
    assert_eq!(retry_delay(30), SignedDuration::from_mins(60));
}

#[test]
fn namespace_room_table() {
    let cases = [
        (0, 2, Trigger::Schedule, true),
        (1, 2, Trigger::Request("x".into()), true),
        (2, 2, Trigger::Schedule, false),
        (5, 2, Trigger::Emergency("leak".into()), true),
        (0, 0, Trigger::Schedule, true),
    ];
    for (in_flight, limit, trigger, expected) in cases {
        assert_eq!(namespace_has_room(in_flight, limit, &trigger), expected, "{in_flight} of {limit} for {trigger:?}");
    }
}
