//! The `kubectl akguard` commands set the same spec fields a Git commit would, through the
//! real kubectl when the binary is installed as `kubectl-akguard`.

use std::process::Command;

use akguard::api::rotation::AccessKeyRotation;
use akguard::sandbox::world::{self, World};
use akguard_hwcloud::ManualClock;
use kube::Api;
use kube::api::PostParams;

const NAMESPACE: &str = "plugin";

async fn world_with_rotation() -> (World, std::path::PathBuf) {
    let world = World::start(ManualClock::new("2026-03-01T08:00:00Z".parse().unwrap()))
        .await
        .unwrap();
    world.namespace(NAMESPACE).await.unwrap();
    let rotations: Api<AccessKeyRotation> = Api::namespaced(world.client.clone(), NAMESPACE);
    rotations
        .create(&PostParams::default(), &world.rotation("app-key", "hw", None))
        .await
        .unwrap();
    let kubeconfig = std::env::temp_dir().join(format!("akguard-plugin-{}.kubeconfig", world.sim.address().port()));
    world.sim.write_kubeconfig(&kubeconfig).unwrap();
    (world, kubeconfig)
}

async fn spec_of(world: &World) -> akguard::api::rotation::ScheduleSpec {
    let rotations: Api<AccessKeyRotation> = Api::namespaced(world.client.clone(), NAMESPACE);
    rotations.get("app-key").await.unwrap().spec.schedule
}

fn akguard(kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_akguard"))
        .args(args)
        .args(["--namespace", NAMESPACE, "--kubeconfig"])
        .arg(kubeconfig)
        .output()
        .expect("akguard runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_commands_set_spec_fields() {
    let (world, kubeconfig) = world_with_rotation().await;

    let rotate = akguard(&kubeconfig, &["rotate", "app-key", "--request", "ticket-42"]);
    assert!(rotate.status.success(), "{}", String::from_utf8_lossy(&rotate.stderr));
    assert_eq!(spec_of(&world).await.rotation_request.as_deref(), Some("ticket-42"));

    let suspend = akguard(&kubeconfig, &["suspend", "app-key"]);
    assert!(suspend.status.success(), "{}", String::from_utf8_lossy(&suspend.stderr));
    assert!(spec_of(&world).await.suspend);

    let resume = akguard(&kubeconfig, &["resume", "app-key"]);
    assert!(resume.status.success(), "{}", String::from_utf8_lossy(&resume.stderr));
    assert!(!spec_of(&world).await.suspend);

    let status = akguard(&kubeconfig, &["status", "app-key"]);
    let printed = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success());
    assert!(printed.contains("Name:            app-key"), "{printed}");

    let missing = akguard(&kubeconfig, &["rotate", "no-such-rotation"]);
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(error.contains("no-such-rotation"), "{error}");
    assert!(error.contains("namespace plugin"), "{error}");

    let empty = akguard(&kubeconfig, &["rotate", "app-key", "--request", ""]);
    assert!(!empty.status.success(), "an empty request changes nothing and is rejected");
    assert_eq!(spec_of(&world).await.rotation_request.as_deref(), Some("ticket-42"));

    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_runs_binary_as_plugin() {
    let (world, kubeconfig) = world_with_rotation().await;
    let bin = std::env::temp_dir().join(format!("akguard-plugin-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let plugin = bin.join("kubectl-akguard");
    let _ = std::fs::remove_file(&plugin);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_akguard"), &plugin).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let output = Command::new("kubectl")
        .args(["akguard", "rotate", "app-key", "--request", "from-kubectl", "--namespace", NAMESPACE])
        .env("PATH", path)
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("kubectl runs");

    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{printed}");
    assert_eq!(spec_of(&world).await.rotation_request.as_deref(), Some("from-kubectl"), "{printed}");
    world.shutdown().await;
}

#[test]
fn world_region_is_valid() {
    assert!(akguard_hwcloud::Region::new(world::REGION).is_ok());
}
