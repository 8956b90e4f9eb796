//! Every manifest in `examples/` parses into its type and passes validation, and together
//! the examples cover the documented cases.

use std::path::{Path, PathBuf};

use akguard::api::rotation::SecretFormat;
use akguard::api::{AccessKeyRotation, LeakIncident};
use akguard::validation::{validate_leak, validate_rotation};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One YAML document from an example file.
struct Document {
    file: String,
    value: Value,
}

impl Document {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.value.clone())
            .unwrap_or_else(|error| panic!("{}: {} does not parse: {error}", self.file, self.kind()))
    }
}

fn example_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    files
}

fn documents() -> Vec<Document> {
    let mut documents = Vec::new();
    for path in example_files() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let values: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|error| panic!("{file} is not valid YAML: {error}"));
        documents.extend(values.into_iter().map(|value| Document {
            file: file.clone(),
            value,
        }));
    }
    documents
}

fn rotations() -> Vec<(String, AccessKeyRotation)> {
    documents()
        .iter()
        .filter(|document| document.kind() == "AccessKeyRotation")
        .map(|document| (document.file.clone(), document.parse()))
        .collect()
}

fn leaks() -> Vec<(String, LeakIncident)> {
    documents()
        .iter()
        .filter(|document| document.kind() == "LeakIncident")
        .map(|document| (document.file.clone(), document.parse()))
        .collect()
}

#[test]
fn examples_every_document_parses() {
    let documents = documents();
    assert!(documents.len() >= 8, "expected the example set, found {} documents", documents.len());

    for document in &documents {
        match document.kind() {
            "AccessKeyRotation" => drop(document.parse::<AccessKeyRotation>()),
            "LeakIncident" => drop(document.parse::<LeakIncident>()),
            "Secret" => drop(document.parse::<Secret>()),
            "Deployment" => drop(document.parse::<Deployment>()),
            "StatefulSet" => drop(document.parse::<StatefulSet>()),
            "DaemonSet" => drop(document.parse::<DaemonSet>()),
            "PersistentVolumeClaim" => drop(document.parse::<PersistentVolumeClaim>()),
            other => panic!("{}: unexpected kind {other:?}", document.file),
        }
    }
}

#[test]
fn examples_rotations_are_valid() {
    for (file, rotation) in rotations() {
        let errors = validate_rotation(&rotation.spec);

        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}

#[test]
fn examples_leaks_are_valid() {
    for (file, leak) in leaks() {
        let errors = validate_leak(&leak.spec);

        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}

#[test]
fn examples_are_namespaced_and_named() {
    for document in documents() {
        let metadata = &document.value["metadata"];
        assert!(metadata["name"].is_string(), "{}: {} has no name", document.file, document.kind());
        assert!(
            metadata["namespace"].is_string(),
            "{}: {} has no namespace",
            document.file,
            document.kind()
        );
    }
}

#[test]
fn examples_explain_fields_in_comments() {
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let comments = text.lines().filter(|line| line.trim_start().starts_with('#')).count();

        assert!(comments >= 3, "{} explains too little in comments", path.display());
    }
}

#[test]
fn examples_contain_no_secret_access_key() {
    // A secret access key is 40 mixed-case letters and digits. An example must never carry
    // one, not even a made-up one, because secret scanners would flag it.
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let suspicious = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|word| {
                word.len() >= 30
                    && word.bytes().any(|b| b.is_ascii_lowercase())
                    && word.bytes().any(|b| b.is_ascii_uppercase())
                    && word.bytes().any(|b| b.is_ascii_digit())
            });

        assert_eq!(suspicious, None, "{} contains what looks like a secret access key", path.display());
    }
}

#[test]
fn examples_cover_documented_cases() {
    let rotations = rotations();
    let has = |predicate: &dyn Fn(&AccessKeyRotation) -> bool| {
        rotations.iter().any(|(_, rotation)| predicate(rotation))
    };

    assert!(has(&|r| r.spec.schedule.interval.is_some()), "no interval example");
    assert!(
        has(&|r| r.spec.schedule.cron.is_some() && r.spec.schedule.maintenance_window.is_some()),
        "no cron with maintenance window example"
    );
    assert!(has(&|r| r.spec.provider.credentials_secret_ref.is_none()), "no self-managed example");
    assert!(
        has(&|r| !r.spec.workloads.discover && !r.spec.workloads.refs.is_empty()),
        "no explicit workloads example"
    );
    assert!(has(&|r| r.spec.schedule.dry_run), "no dry run example");
    assert!(
        has(&|r| r.spec.targets.iter().any(|target| target.format == SecretFormat::EverestObs)),
        "no Everest OBS example"
    );
    assert!(
        has(&|r| r.spec.targets.iter().any(|target| !target.extra_keys.is_empty())),
        "no rendered credentials file example"
    );
    assert!(!leaks().is_empty(), "no LeakIncident example");
}

/// Returns the problems of `value` against `schema`: unknown fields (which the API server
/// would prune without a word), missing required fields, wrong types and values outside an
/// enum. Patterns are left to `validation`, which applies the same rules.
fn schema_problems(path: &str, schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let type_ = schema["type"].as_str().unwrap_or_default();
    let type_ok = match (type_, value) {
        ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(number)) => number.is_i64(),
        ("array", Value::Array(_)) | ("object", Value::Object(_)) => true,
        _ => false,
    };
    if !type_ok {
        problems.push(format!("{path}: {value} is not a {type_}"));
        return problems;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {allowed:?}"));
    }

    match value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                problems.extend(schema_problems(&format!("{path}[{index}]"), &schema["items"], item));
            }
        }
        Value::Object(fields) => {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !fields.contains_key(name) {
                    problems.push(format!("{path}.{name}: required but missing"));
                }
            }
            for (name, field) in fields {
                match schema["properties"].get(name) {
                    Some(property) => {
                        problems.extend(schema_problems(&format!("{path}.{name}"), property, field));
                    }
                    None => problems.push(format!("{path}.{name}: unknown field")),
                }
            }
        }
        _ => {}
    }
    problems
}

#[test]
fn examples_match_crd_schemas() {
    let schemas: Vec<(String, Value)> = akguard::api::crds()
        .into_iter()
        .map(|crd| {
            let kind = crd.spec.names.kind.clone();
            let crd = serde_json::to_value(crd).unwrap();
            (kind, crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone())
        })
        .collect();

    for document in documents() {
        let Some((_, schema)) = schemas.iter().find(|(kind, _)| kind == document.kind()) else {
            continue;
        };
        let problems = schema_problems("", &schema["properties"]["spec"], &document.value["spec"]);

        assert!(problems.is_empty(), "{}: {problems:?}", document.file);
    }
}

#[test]
fn schema_check_finds_unknown_field() {
    // The check above must be able to fail: a misspelled field is reported.
    let crd = serde_json::to_value(akguard::api::crds().remove(0)).unwrap();
    let spec_schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    let spec = serde_json::json!({
        "provider": {"region": "cn-north-4"},
        "targets": [{"name": "app"}],
        "schedule": {"intervall": "90d"},
    });

    assert_eq!(schema_problems("", spec_schema, &spec), vec![".schedule.intervall: unknown field"]);
}
