//! The real kubectl (/usr/bin/kubectl) against the simulator. kubectl may print warnings on
//! stderr; the tests assert on exit status and on what stdout must contain.

mod common;

use akguard_kubesim::{RolloutPlan, WorkloadKind, WorkloadRef};
use common::{KUBECTL, Kubectl, start};
use serde_json::Value;
use std::time::Duration;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: app:1
        env: [{name: MODE, value: "a"}]
"#;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: accesskeyrotations.akguard.io}
spec:
  group: akguard.io
  scope: Namespaced
  names: {plural: accesskeyrotations, singular: accesskeyrotation, kind: AccessKeyRotation, shortNames: [akr]}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const ROTATION: &str = r#"
apiVersion: akguard.io/v1alpha1
kind: AccessKeyRotation
metadata: {name: app-key}
spec: {schedule: 90d}
"#;

fn kubectl_present() -> bool {
    std::path::Path::new(KUBECTL).exists()
}

#[tokio::test]
async fn apply_server_side_and_get_yaml() {
    assert!(kubectl_present(), "{KUBECTL} is required");
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "apply");

    let applied = kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    let yaml = kubectl.ok(&["get", "deployment", "web", "-o", "yaml", "--show-managed-fields"]).await;
    let json: Value = serde_json::from_str(&kubectl.ok(&["get", "deployment", "web", "-o", "json"]).await).unwrap();

    assert!(applied.contains("deployment.apps/web serverside-applied"), "{applied}");
    assert!(yaml.contains("manager: kubectl"), "{yaml}");
    assert!(yaml.contains("operation: Apply"), "{yaml}");
    assert_eq!(json["spec"]["replicas"], 2);
    assert_eq!(json["metadata"]["generation"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn apply_conflict_needs_force() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "conflict");
    kubectl.ok_with_input(&["apply", "--server-side", "--field-manager=gitops", "-f", "-"], DEPLOYMENT).await;
    let changed = DEPLOYMENT.replace("replicas: 2", "replicas: 5");

    let conflict = kubectl.run_with_input(&["apply", "--server-side", "--field-manager=other", "-f", "-"], &changed).await;
    let forced = kubectl.ok_with_input(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-"], &changed).await;
    let replicas = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]).await;

    assert!(!conflict.status.success());
    let stderr = String::from_utf8_lossy(&conflict.stderr);
    assert!(stderr.contains("conflict"), "{stderr}");
    assert!(stderr.contains(".spec.replicas"), "{stderr}");
    assert!(forced.contains("serverside-applied"), "{forced}");
    assert_eq!(replicas, "5");
    sim.shutdown().await;
}

#[tokio::test]
async fn rollout_restart_and_status() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "rollout");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;

    let restarted = kubectl.ok(&["rollout", "restart", "deployment/web"]).await;
    let status = kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    let annotation = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.template.metadata.annotations}"]).await;

    assert!(restarted.contains("deployment.apps/web restarted"), "{restarted}");
    assert!(status.contains("successfully rolled out"), "{status}");
    assert!(annotation.contains("kubectl.kubernetes.io/restartedAt"), "{annotation}");
    sim.shutdown().await;
}

#[tokio::test]
async fn rollout_status_reports_deadline() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "deadline");
    let stuck = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  progressDeadlineSeconds: 1");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], &stuck).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    sim.rollouts().set(WorkloadRef::new(WorkloadKind::Deployment, "default", "web"), RolloutPlan::never_ready());

    kubectl.ok(&["rollout", "restart", "deployment/web"]).await;
    let status = kubectl.run(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;

    assert!(!status.status.success());
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("exceeded its progress deadline"), "{stderr}");
    sim.shutdown().await;
}

#[tokio::test]
async fn describe_deployment() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "describe");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;

    let described = kubectl.ok(&["describe", "deployment", "web"]).await;

    assert!(described.contains("Name:"), "{described}");
    assert!(described.contains("NewReplicaSetAvailable"), "{described}");
    assert!(described.contains("NewReplicaSet:"), "{described}");
    assert!(described.contains("2 desired | 2 updated | 2 total | 2 available"), "{described}");
    assert!(described.contains("ScalingReplicaSet"), "{described}");
    sim.shutdown().await;
}

#[tokio::test]
async fn annotate_label_and_select() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "annotate");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;

    let annotated = kubectl.ok(&["annotate", "deployment", "web", "team=platform"]).await;
    let labelled = kubectl.ok(&["label", "deployment", "web", "tier=front"]).await;
    let selected = kubectl.ok(&["get", "deployments", "-l", "tier=front", "-o", "name"]).await;
    let unselected = kubectl.ok(&["get", "deployments", "-l", "tier!=front", "-o", "name"]).await;
    let by_field = kubectl.ok(&["get", "deployments", "--field-selector", "metadata.name=web", "-o", "name"]).await;
    let team = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.team}"]).await;
    let removed = kubectl.ok(&["label", "deployment", "web", "tier-"]).await;
    let labels = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.metadata.labels}"]).await;

    assert!(annotated.contains("annotated"), "{annotated}");
    assert!(labelled.contains("labeled"), "{labelled}");
    assert_eq!(selected.trim(), "deployment.apps/web");
    assert_eq!(unselected.trim(), "");
    assert_eq!(by_field.trim(), "deployment.apps/web");
    assert_eq!(team, "platform");
    assert!(removed.contains("unlabeled"), "{removed}");
    assert!(!labels.contains("tier"), "{labels}");
    sim.shutdown().await;
}

#[tokio::test]
async fn get_watch_streams_changes() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "watch");
    kubectl.ok_with_input(&["apply", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n").await;

    let mut watch = kubectl.spawn(&["get", "configmaps", "-w", "-o", "name"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kubectl.ok_with_input(&["apply", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second}\n").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    watch.kill().expect("the watch is still running and can be stopped");
    let output = tokio::task::spawn_blocking(move || watch.wait_with_output().unwrap()).await.unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("configmap/first"), "{stdout}");
    assert!(stdout.contains("configmap/second"), "{stdout}");
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_deployment_and_namespace() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "delete");
    kubectl.ok_with_input(&["apply", "-f", "-"], "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n").await;
    kubectl.ok_with_input(&["apply", "--server-side", "-n", "team", "-f", "-"], DEPLOYMENT).await;
    kubectl.ok(&["rollout", "status", "-n", "team", "deployment/web", "--timeout=20s"]).await;

    let deleted = kubectl.ok(&["delete", "-n", "team", "deployment", "web"]).await;
    let pods = kubectl.ok(&["get", "pods", "-n", "team", "-o", "name"]).await;
    let namespace = kubectl.ok(&["delete", "namespace", "team"]).await;
    let missing = kubectl.run(&["get", "namespace", "team"]).await;

    assert!(deleted.contains("deployment.apps \"web\" deleted"), "{deleted}");
    assert_eq!(pods.trim(), "");
    assert!(namespace.contains("namespace \"team\" deleted"), "{namespace}");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NotFound"));
    sim.shutdown().await;
}

#[tokio::test]
async fn custom_resource_status_patch() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "crd");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], CRD).await;
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], ROTATION).await;

    let patched = kubectl.ok(&["patch", "akr", "app-key", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Ready"},"spec":{"schedule":"1d"}}"#]).await;
    let object: Value = serde_json::from_str(&kubectl.ok(&["get", "accesskeyrotation", "app-key", "-o", "json"]).await).unwrap();
    let listed = kubectl.ok(&["get", "akr"]).await;
    let resources = kubectl.ok(&["api-resources", "--api-group=akguard.io", "-o", "name"]).await;

    assert!(patched.contains("patched"), "{patched}");
    assert_eq!(object["status"]["phase"], "Ready");
    assert_eq!(object["spec"]["schedule"], "90d", "a status patch ignores spec");
    assert!(listed.contains("app-key"), "{listed}");
    assert_eq!(resources.trim(), "accesskeyrotations.akguard.io");
    sim.shutdown().await;
}

#[tokio::test]
async fn create_generators_send_protobuf() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "generators");
    let dir = std::env::temp_dir().join(format!("kubesim-generators-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let blob = dir.join("blob");
    std::fs::write(&blob, b"AB\x00\xff").expect("blob written");
    let from_blob = format!("--from-file=blob={}", blob.display());

    // kubectl's create generators send Kubernetes protobuf bodies.
    kubectl.ok(&["create", "namespace", "payments"]).await;
    kubectl.ok(&["create", "secret", "generic", "db", "-n", "payments", "--from-literal=user=dummy", "--type=kubernetes.io/basic-auth"]).await;
    kubectl.ok(&["create", "configmap", "settings", "-n", "payments", "--from-literal=mode=fast", &from_blob, "--save-config"]).await;
    kubectl.ok(&["create", "serviceaccount", "runner", "-n", "payments"]).await;
    let token = kubectl.ok(&["create", "token", "runner", "-n", "payments", "--duration=2h"]).await;
    let dry_run = kubectl.ok(&["create", "namespace", "staging", "--dry-run=server", "-o", "name"]).await;
    let deployment = kubectl.run(&["create", "deployment", "web", "--image=app:1", "-n", "payments"]).await;

    let secret: Value = serde_json::from_str(&kubectl.ok(&["get", "secret", "db", "-n", "payments", "-o", "json"]).await).unwrap();
    let config_map: Value = serde_json::from_str(&kubectl.ok(&["get", "configmap", "settings", "-n", "payments", "-o", "json"]).await).unwrap();
    let namespaces = kubectl.ok(&["get", "namespaces", "-o", "name"]).await;
    let accounts = kubectl.ok(&["get", "serviceaccounts", "-n", "payments", "-o", "name"]).await;

    assert_eq!(secret["data"]["user"], "ZHVtbXk=");
    assert_eq!(secret["type"], "kubernetes.io/basic-auth");
    assert_eq!(config_map["data"]["mode"], "fast");
    assert_eq!(config_map["binaryData"]["blob"], "QUIA/w==");
    assert!(config_map["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string(), "{config_map}");
    assert!(namespaces.contains("namespace/payments"), "{namespaces}");
    assert!(!namespaces.contains("namespace/staging"), "a server dry run stores nothing: {namespaces}");
    assert_eq!(dry_run.trim(), "namespace/staging");
    assert!(accounts.contains("serviceaccount/runner"), "{accounts}");
    assert!(!token.trim().is_empty());
    // Deployments are outside the decoded kinds: 415 naming the kind, not a half-read object.
    assert!(!deployment.status.success());
    assert!(String::from_utf8_lossy(&deployment.stderr).contains("Deployment"), "{}", String::from_utf8_lossy(&deployment.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    sim.shutdown().await;
}

#[tokio::test]
async fn get_prints_server_columns() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "columns");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], CRD).await;
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], ROTATION).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    kubectl.ok(&["patch", "akr", "app-key", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Idle"}}"#]).await;

    let deployments = kubectl.ok(&["get", "deployments"]).await;
    let rotations = kubectl.ok(&["get", "akr"]).await;
    let header: Vec<&str> = deployments.lines().next().unwrap_or_default().split_whitespace().collect();
    let row: Vec<&str> = deployments.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    let rotation_header: Vec<&str> = rotations.lines().next().unwrap_or_default().split_whitespace().collect();

    assert_eq!(header, vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert_eq!(&row[..4], &["web", "2/2", "2", "2"]);
    assert_eq!(rotation_header, vec!["NAME", "PHASE", "AGE"]);
    assert!(rotations.contains("Idle"), "{rotations}");
    sim.shutdown().await;
}

#[tokio::test]
async fn set_image_and_rollout_undo() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "undo");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;

    kubectl.ok(&["set", "image", "deployment/web", "app=app:2"]).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    let history = kubectl.ok(&["rollout", "history", "deployment/web"]).await;
    let undone = kubectl.ok(&["rollout", "undo", "deployment/web"]).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    let image = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]).await;

    assert!(history.lines().any(|l| l.starts_with('2')), "{history}");
    assert!(undone.contains("rolled back"), "{undone}");
    assert_eq!(image, "app:1");
    sim.shutdown().await;
}

#[tokio::test]
async fn scale_deployment() {
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "scale");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;

    let scaled = kubectl.ok(&["scale", "deployment/web", "--replicas=4"]).await;
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=20s"]).await;
    let ready = kubectl.ok(&["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"]).await;

    assert!(scaled.contains("scaled"), "{scaled}");
    assert_eq!(ready, "4");
    sim.shutdown().await;
}

#[tokio::test]
async fn describe_shows_recorder_events() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let sim = start().await;
    let kubectl = Kubectl::new(&sim, "recorder");
    kubectl.ok_with_input(&["apply", "--server-side", "-f", "-"], DEPLOYMENT).await;
    let client = common::client(&sim);
    let deployment: kube::Api<k8s_openapi::api::apps::v1::Deployment> = kube::Api::default_namespaced(client.clone());
    let reference = kube::Resource::object_ref(&deployment.get("web").await.unwrap(), &());
    let recorder = Recorder::new(client, Reporter { controller: "akguard".into(), instance: Some("akguard-0".into()) });
    let event = Event { type_: EventType::Normal, reason: "KeyRotated".into(), note: Some("rotated the access key".into()), action: "Rotate".into(), secondary: None };

    recorder.publish(&event, &reference).await.unwrap();
    recorder.publish(&event, &reference).await.unwrap();
    let described = kubectl.ok(&["describe", "deployment", "web"]).await;

    assert!(described.contains("KeyRotated"), "{described}");
    assert!(described.contains("rotated the access key"), "{described}");
    sim.shutdown().await;
}
