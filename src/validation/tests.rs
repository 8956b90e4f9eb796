use super::*;
use crate::api::common::{CredentialsSecretRef, DurationString, EndpointOverrides, ProviderSpec};
use crate::api::leak::{
    DenyPolicySpec, EvidenceRef, HighRiskActionGroup, LeakIncidentSpec, LeakProviderSpec,
};
use crate::api::rotation::{
    AccessKeyRotationSpec, HttpCheck, MaintenanceWindowSpec, RenderedKey, RestartMethod,
    SecretFormat, SecretTarget, WorkloadKind, WorkloadRef,
};

fn valid_rotation() -> AccessKeyRotationSpec {
    AccessKeyRotationSpec {
        provider: ProviderSpec {
            region: "cn-north-4".to_string(),
            iam_scope: Default::default(),
            billing_site: Default::default(),
            endpoints: None,
            credentials_secret_ref: None,
        },
        user_id: None,
        targets: vec![SecretTarget::new("app-credentials")],
        workloads: Default::default(),
        verification: Default::default(),
        retirement: Default::default(),
        schedule: Default::default(),
    }
}

fn valid_leak() -> LeakIncidentSpec {
    LeakIncidentSpec {
        access_key_id: "P83EVBZJMXCYTMUII6IS".to_string(),
        provider: LeakProviderSpec {
            region: "cn-north-4".to_string(),
            iam_scope: Default::default(),
            billing_site: Default::default(),
            endpoints: None,
            credentials_secret_ref: CredentialsSecretRef::new("security-admin"),
        },
        source: Default::default(),
        detected_at: None,
        evidence: Vec::new(),
        mode: Default::default(),
        approved: false,
        deny_policy: Default::default(),
        audit_window: DurationString::from("7d"),
        cost_threshold: Default::default(),
        allow_deletion: true,
    }
}

/// Returns the `(field, reason)` pairs of `errors`, for one comparison per case.
fn fields(errors: &[FieldError]) -> Vec<(String, FieldReason)> {
    errors
        .iter()
        .map(|error| (error.field.clone(), error.reason))
        .collect()
}

fn one(field: &str, reason: FieldReason) -> Vec<(String, FieldReason)> {
    vec![(field.to_string(), reason)]
}

#[test]
fn rotation_minimal_spec_valid() {
    assert_eq!(validate_rotation(&valid_rotation()), vec![]);
}

#[test]
fn rotation_full_spec_valid() {
    let mut spec = valid_rotation();
    spec.provider.endpoints = Some(EndpointOverrides {
        iam: Some("http://127.0.0.1:18080".to_string()),
        cts: Some("https://cts.example.com/prefix".to_string()),
        bss: None,
    });
    spec.provider.credentials_secret_ref = Some(CredentialsSecretRef::new("iam-admin"));
    spec.user_id = Some("0123456789abcdef0123456789abcdef".to_string());
    spec.targets.push(SecretTarget {
        format: SecretFormat::EverestObs,
        extra_keys: vec![RenderedKey {
            key: "credentials".to_string(),
            template: "ak={{accessKeyId}}\nsk={{ secretAccessKey }}\n".to_string(),
        }],
        ..SecretTarget::new("obs-secret")
    });
    spec.workloads.refs.push(WorkloadRef {
        kind: WorkloadKind::Deployment,
        name: "billing".to_string(),
        restart_method: Some(RestartMethod::None),
    });
    spec.verification.http_checks.push(HttpCheck {
        name: Some("health".to_string()),
        url: "http://billing.default.svc:8080/healthz?deep=1".to_string(),
        expected_status: 204,
        timeout: DurationString::from("5s"),
    });
    spec.retirement.idle_window = DurationString::from("0s");
    spec.schedule.cron = Some("0 3 * * SAT".to_string());
    spec.schedule.time_zone = "Europe/Berlin".to_string();
    spec.schedule.maintenance_window = Some(MaintenanceWindowSpec {
        days: vec![crate::api::rotation::Weekday::Saturday],
        start: "02:00".to_string(),
        duration: DurationString::from("4h"),
    });
    spec.schedule.rotation_request = Some("2026-12-04 ticket SEC-1".to_string());

    assert_eq!(validate_rotation(&spec), vec![]);
}

#[test]
fn rotation_invalid_fields_table() {
    type Mutate = fn(&mut AccessKeyRotationSpec);
    let cases: Vec<(&str, Mutate, &str, FieldReason)> = vec![
        ("bad region", |s| s.provider.region = "North China".into(), "spec.provider.region", FieldReason::InvalidRegion),
        ("region without number", |s| s.provider.region = "cn-north".into(), "spec.provider.region", FieldReason::InvalidRegion),
        (
            "endpoint with ftp scheme",
            |s| s.provider.endpoints = Some(EndpointOverrides { iam: Some("ftp://iam.example.com".into()), ..Default::default() }),
            "spec.provider.endpoints.iam",
            FieldReason::InvalidEndpoint,
        ),
        (
            "endpoint with query",
            |s| s.provider.endpoints = Some(EndpointOverrides { bss: Some("https://bss.example.com/?a=b".into()), ..Default::default() }),
            "spec.provider.endpoints.bss",
            FieldReason::InvalidEndpoint,
        ),
        (
            "endpoint not a URL",
            |s| s.provider.endpoints = Some(EndpointOverrides { cts: Some("cts.example.com".into()), ..Default::default() }),
            "spec.provider.endpoints.cts",
            FieldReason::InvalidEndpoint,
        ),
        (
            "credentials Secret name invalid",
            |s| s.provider.credentials_secret_ref = Some(CredentialsSecretRef::new("Admin_Key")),
            "spec.provider.credentialsSecretRef.name",
            FieldReason::InvalidName,
        ),
        (
            "credentials Secret is a target",
            |s| s.provider.credentials_secret_ref = Some(CredentialsSecretRef::new("app-credentials")),
            "spec.provider.credentialsSecretRef.name",
            FieldReason::DuplicateTarget,
        ),
        ("user ID with spaces", |s| s.user_id = Some("user 1".into()), "spec.userId", FieldReason::InvalidUserId),
        ("user ID empty", |s| s.user_id = Some(String::new()), "spec.userId", FieldReason::InvalidUserId),
        ("user ID leading hyphen", |s| s.user_id = Some("-abc".into()), "spec.userId", FieldReason::InvalidUserId),
        (
            "OBS target without restarts",
            |s| {
                s.targets[0].format = SecretFormat::EverestObs;
                s.workloads.restart_method = RestartMethod::None;
            },
            "spec.workloads.restartMethod",
            FieldReason::InvalidRestartMethod,
        ),
        ("no targets", |s| s.targets.clear(), "spec.targets", FieldReason::MissingTarget),
        (
            "too many targets",
            |s| s.targets = (0..17).map(|i| SecretTarget::new(format!("secret-{i}"))).collect(),
            "spec.targets",
            FieldReason::TooManyItems,
        ),
        ("target name invalid", |s| s.targets[0].name = "App".into(), "spec.targets[0].name", FieldReason::InvalidName),
        (
            "target listed twice",
            |s| s.targets.push(SecretTarget::new("app-credentials")),
            "spec.targets[1].name",
            FieldReason::DuplicateTarget,
        ),
        (
            "data key invalid",
            |s| s.targets[0].access_key_id_key = Some("AK/ID".into()),
            "spec.targets[0].accessKeyIdKey",
            FieldReason::InvalidDataKey,
        ),
        (
            "same data key for both",
            |s| s.targets[0].secret_access_key_key = Some("HUAWEICLOUD_SDK_AK".into()),
            "spec.targets[0].secretAccessKeyKey",
            FieldReason::DuplicateDataKey,
        ),
        (
            "extra key collides",
            |s| s.targets[0].extra_keys = vec![RenderedKey { key: "HUAWEICLOUD_SDK_SK".into(), template: "x".into() }],
            "spec.targets[0].extraKeys[0].key",
            FieldReason::DuplicateDataKey,
        ),
        (
            "template with unknown placeholder",
            |s| s.targets[0].extra_keys = vec![RenderedKey { key: "config".into(), template: "{{secretKey}}".into() }],
            "spec.targets[0].extraKeys[0].template",
            FieldReason::InvalidTemplate,
        ),
        (
            "workload name invalid",
            |s| s.workloads.refs = vec![WorkloadRef { kind: WorkloadKind::StatefulSet, name: "-db".into(), restart_method: None }],
            "spec.workloads.refs[0].name",
            FieldReason::InvalidName,
        ),
        (
            "workload listed twice",
            |s| {
                let reference = WorkloadRef { kind: WorkloadKind::DaemonSet, name: "agent".into(), restart_method: None };
                s.workloads.refs = vec![reference.clone(), reference];
            },
            "spec.workloads.refs[1]",
            FieldReason::DuplicateWorkloadRef,
        ),
        (
            "rollout timeout zero",
            |s| s.verification.rollout_timeout = "0s".into(),
            "spec.verification.rolloutTimeout",
            FieldReason::InvalidDuration,
        ),
        (
            "new key use timeout garbage",
            |s| s.verification.new_key_use_timeout = "soon".into(),
            "spec.verification.newKeyUseTimeout",
            FieldReason::InvalidDuration,
        ),
        (
            "HTTP check without host",
            |s| s.verification.http_checks = vec![HttpCheck { name: None, url: "http://".into(), expected_status: 200, timeout: "10s".into() }],
            "spec.verification.httpChecks[0].url",
            FieldReason::InvalidHttpCheck,
        ),
        (
            "HTTP check status out of range",
            |s| s.verification.http_checks = vec![HttpCheck { name: None, url: "http://app/healthz".into(), expected_status: 700, timeout: "10s".into() }],
            "spec.verification.httpChecks[0].expectedStatus",
            FieldReason::InvalidHttpCheck,
        ),
        (
            "HTTP check timeout invalid",
            |s| s.verification.http_checks = vec![HttpCheck { name: None, url: "http://app/healthz".into(), expected_status: 200, timeout: "10".into() }],
            "spec.verification.httpChecks[0].timeout",
            FieldReason::InvalidDuration,
        ),
        ("idle window negative", |s| s.retirement.idle_window = "-1h".into(), "spec.retirement.idleWindow", FieldReason::InvalidDuration),
        ("soak fractional", |s| s.retirement.disabled_soak = "1.5d".into(), "spec.retirement.disabledSoak", FieldReason::InvalidDuration),
        ("interval zero", |s| s.schedule.interval = Some("0d".into()), "spec.schedule.interval", FieldReason::InvalidDuration),
        ("interval garbage", |s| s.schedule.interval = Some("quarterly".into()), "spec.schedule.interval", FieldReason::InvalidDuration),
        ("cron invalid", |s| s.schedule.cron = Some("0 3 * *".into()), "spec.schedule.cron", FieldReason::InvalidSchedule),
        (
            "interval and cron",
            |s| {
                s.schedule.interval = Some("90d".into());
                s.schedule.cron = Some("0 3 * * *".into());
            },
            "spec.schedule",
            FieldReason::InvalidSchedule,
        ),
        ("time zone unknown", |s| s.schedule.time_zone = "Berlin".into(), "spec.schedule.timeZone", FieldReason::UnknownTimeZone),
        (
            "window start invalid",
            |s| s.schedule.maintenance_window = Some(MaintenanceWindowSpec { days: vec![crate::api::rotation::Weekday::Monday], start: "2am".into(), duration: "4h".into() }),
            "spec.schedule.maintenanceWindow.start",
            FieldReason::InvalidMaintenanceWindow,
        ),
        (
            "rotation request multi-line",
            |s| s.schedule.rotation_request = Some("a\nb".into()),
            "spec.schedule.rotationRequest",
            FieldReason::InvalidRotationRequest,
        ),
    ];

    for (name, mutate, field, reason) in cases {
        let mut spec = valid_rotation();
        mutate(&mut spec);

        let errors = validate_rotation(&spec);

        assert_eq!(fields(&errors), one(field, reason), "{name}: {errors:?}");
    }
}

#[test]
fn rotation_messages_say_how_to_fix() {
    let cases: Vec<(fn(&mut AccessKeyRotationSpec), &str)> = vec![
        (|s| s.targets.clear(), "add at least one"),
        (|s| s.schedule.time_zone = "Berlin".into(), "such as UTC, Europe/Berlin"),
        (|s| s.schedule.cron = Some("0 3 * *".into()), "five fields"),
        (|s| s.schedule.interval = Some("3 months".into()), "such as 90d"),
        (|s| s.provider.region = "north".into(), "such as cn-north-4"),
    ];
    for (mutate, fix) in cases {
        let mut spec = valid_rotation();
        mutate(&mut spec);

        let errors = validate_rotation(&spec);

        assert!(errors[0].message.contains(fix), "{}", errors[0].message);
    }
}

#[test]
fn rotation_reports_every_error() {
    let mut spec = valid_rotation();
    spec.provider.region = "bad".into();
    spec.targets.clear();
    spec.schedule.time_zone = "Nowhere/Town".into();

    let errors = validate_rotation(&spec);

    assert_eq!(
        fields(&errors),
        vec![
            ("spec.provider.region".to_string(), FieldReason::InvalidRegion),
            ("spec.targets".to_string(), FieldReason::MissingTarget),
            ("spec.schedule.timeZone".to_string(), FieldReason::UnknownTimeZone),
        ]
    );
}

#[test]
fn leak_minimal_spec_valid() {
    assert_eq!(validate_leak(&valid_leak()), vec![]);
}

#[test]
fn leak_invalid_fields_table() {
    type Mutate = fn(&mut LeakIncidentSpec);
    let cases: Vec<(&str, Mutate, &str, FieldReason)> = vec![
        ("access key ID lower case", |s| s.access_key_id = "p83evbzjmxcytmuii6is".into(), "spec.accessKeyId", FieldReason::InvalidAccessKeyId),
        ("access key ID short", |s| s.access_key_id = "ABC".into(), "spec.accessKeyId", FieldReason::InvalidAccessKeyId),
        ("access key ID empty", |s| s.access_key_id = String::new(), "spec.accessKeyId", FieldReason::InvalidAccessKeyId),
        ("region invalid", |s| s.provider.region = "cn_north_4".into(), "spec.provider.region", FieldReason::InvalidRegion),
        (
            "endpoint with user info",
            |s| s.provider.endpoints = Some(EndpointOverrides { iam: Some("https://user:pw@iam.example.com".into()), ..Default::default() }),
            "spec.provider.endpoints.iam",
            FieldReason::InvalidEndpoint,
        ),
        (
            "credentials Secret name empty",
            |s| s.provider.credentials_secret_ref.name = String::new(),
            "spec.provider.credentialsSecretRef.name",
            FieldReason::InvalidName,
        ),
        (
            "credentials data keys equal",
            |s| s.provider.credentials_secret_ref.secret_access_key_key = "HUAWEICLOUD_SDK_AK".into(),
            "spec.provider.credentialsSecretRef.secretAccessKeyKey",
            FieldReason::DuplicateDataKey,
        ),
        (
            "evidence without description",
            |s| s.evidence = vec![EvidenceRef { description: " ".into(), url: None }],
            "spec.evidence[0].description",
            FieldReason::InvalidEvidence,
        ),
        (
            "deny policy empty",
            |s| s.deny_policy = DenyPolicySpec { groups: vec![], extra_actions: vec![] },
            "spec.denyPolicy",
            FieldReason::InvalidDenyPolicy,
        ),
        (
            "deny group twice",
            |s| s.deny_policy.groups = vec![HighRiskActionGroup::LogDeletion, HighRiskActionGroup::LogDeletion],
            "spec.denyPolicy.groups[1]",
            FieldReason::InvalidDenyPolicy,
        ),
        (
            "extra action malformed",
            |s| s.deny_policy.extra_actions = vec!["delete everything".into()],
            "spec.denyPolicy.extraActions[0]",
            FieldReason::InvalidDenyPolicy,
        ),
        ("audit window over 7d", |s| s.audit_window = "8d".into(), "spec.auditWindow", FieldReason::InvalidAuditWindow),
        ("audit window zero", |s| s.audit_window = "0s".into(), "spec.auditWindow", FieldReason::InvalidDuration),
        (
            "cost percent zero",
            |s| s.cost_threshold.increase_percent = 0,
            "spec.costThreshold.increasePercent",
            FieldReason::InvalidCostThreshold,
        ),
        (
            "cost minimum with three decimals",
            |s| s.cost_threshold.minimum_increase = "1.005".into(),
            "spec.costThreshold.minimumIncrease",
            FieldReason::InvalidCostThreshold,
        ),
        (
            "cost minimum negative",
            |s| s.cost_threshold.minimum_increase = "-5".into(),
            "spec.costThreshold.minimumIncrease",
            FieldReason::InvalidCostThreshold,
        ),
    ];

    for (name, mutate, field, reason) in cases {
        let mut spec = valid_leak();
        mutate(&mut spec);

        let errors = validate_leak(&spec);

        assert_eq!(fields(&errors), one(field, reason), "{name}: {errors:?}");
    }
}

#[test]
fn leak_valid_variants() {
    let cases: Vec<(&str, fn(&mut LeakIncidentSpec))> = vec![
        ("extra actions only", |s| {
            s.deny_policy = DenyPolicySpec { groups: vec![], extra_actions: vec!["dcs:instance:delete".into()] }
        }),
        ("wildcard action", |s| s.deny_policy.extra_actions = vec!["obs:bucket:*".into()]),
        ("short audit window", |s| s.audit_window = "36h".into()),
        ("cost with cents", |s| s.cost_threshold.minimum_increase = "25.50".into()),
    ];
    for (name, mutate) in cases {
        let mut spec = valid_leak();
        mutate(&mut spec);

        assert_eq!(validate_leak(&spec), vec![], "{name}");
    }
}

#[test]
fn leak_secret_access_key_not_echoed() {
    let mut spec = valid_leak();
    spec.access_key_id = "TTqAHPbhWorg9ozx8Dv9MUyzYnOKDppxzHto5g82".into();

    let errors = validate_leak(&spec);

    assert!(!errors[0].message.contains("TTqAHPbh"), "{}", errors[0].message);
    assert!(errors[0].message.contains("looks like a secret access key"), "{}", errors[0].message);
}

#[test]
fn condition_summary_joins_errors() {
    let errors = vec![
        FieldError::new("spec.a", FieldReason::InvalidSchedule, "first"),
        FieldError::new("spec.b", FieldReason::MissingTarget, "second"),
    ];

    let (reason, message) = condition_summary(&errors).unwrap();

    assert_eq!(reason, "InvalidSchedule");
    assert_eq!(message, "spec.a: first; spec.b: second");
}

#[test]
fn condition_summary_empty_is_none() {
    assert_eq!(condition_summary(&[]), None);
}
