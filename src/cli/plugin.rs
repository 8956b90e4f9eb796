//! `kubectl akguard` commands: they set the same spec fields a Git commit would, so a
//! GitOps tool compares them with Git like any other change, and no status is written by hand.

use clap::{Args, Subcommand};
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::json;

use crate::api::rotation::AccessKeyRotation;
use crate::runtime::operator::kube_client;

#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Name of the AccessKeyRotation.
    pub name: String,
    /// Namespace of the AccessKeyRotation; defaults to the kubeconfig context's namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Kubeconfig file; defaults to $KUBECONFIG or ~/.kube/config.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum PluginCommand {
    /// Requests a rotation now by setting spec.schedule.rotationRequest to a new value.
    Rotate {
        #[command(flatten)]
        target: Target,
        /// Value to set; defaults to the current UTC time. Any change of the value requests
        /// one rotation.
        #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        request: Option<String>,
    },
    /// Stops new rotations (spec.schedule.suspend = true); one in flight finishes.
    Suspend {
        #[command(flatten)]
        target: Target,
    },
    /// Allows rotations again (spec.schedule.suspend = false).
    Resume {
        #[command(flatten)]
        target: Target,
    },
    /// Prints the phase, keys, schedule, conditions and recent history.
    Status {
        #[command(flatten)]
        target: Target,
    },
}

/// Returns the API of the target's namespace, and that namespace's name for messages.
async fn api_for(target: &Target) -> anyhow::Result<(Api<AccessKeyRotation>, String)> {
    let client = kube_client(target.kubeconfig.as_deref()).await?;
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string());
    Ok((Api::namespaced(client, &namespace), namespace))
}

/// Describes a failed call on the resource in words a user can act on.
fn describe(error: kube::Error, name: &str, namespace: &str) -> anyhow::Error {
    match error {
        kube::Error::Api(status) if status.code == 404 => anyhow::anyhow!(
            "AccessKeyRotation {name} not found in namespace {namespace}; list them with `kubectl get akr -n {namespace}` or pass --namespace"
        ),
        kube::Error::Api(status) => anyhow::anyhow!(
            "the API server rejected the request on AccessKeyRotation {name} in namespace {namespace}: {} ({})",
            status.message,
            status.code
        ),
        other => anyhow::anyhow!(
            "cannot reach the API server for AccessKeyRotation {name} in namespace {namespace}: {other}; check the kubeconfig's server and context"
        ),
    }
}

async fn patch_spec(target: &Target, patch: serde_json::Value) -> anyhow::Result<()> {
    let (api, namespace) = api_for(target).await?;
    api.patch(&target.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(|error| describe(error, &target.name, &namespace))?;
    Ok(())
}

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Rotate { target, request } => {
            let value = request.unwrap_or_else(|| jiff::Timestamp::now().to_string());
            patch_spec(&target, json!({"spec": {"schedule": {"rotationRequest": value}}})).await?;
            println!("accesskeyrotation/{} rotation requested (rotationRequest={value})", target.name);
        }
        PluginCommand::Suspend { target } => {
            patch_spec(&target, json!({"spec": {"schedule": {"suspend": true}}})).await?;
            println!("accesskeyrotation/{} suspended", target.name);
        }
        PluginCommand::Resume { target } => {
            patch_spec(&target, json!({"spec": {"schedule": {"suspend": false}}})).await?;
            println!("accesskeyrotation/{} resumed", target.name);
        }
        PluginCommand::Status { target } => {
            let (api, namespace) = api_for(&target).await?;
            let object = api
                .get(&target.name)
                .await
                .map_err(|error| describe(error, &target.name, &namespace))?;
            print!("{}", render_status(&object));
        }
    }
    Ok(())
}

/// Human-readable status of a resource.
pub fn render_status(object: &AccessKeyRotation) -> String {
    let status = object.status.clone().unwrap_or_default();
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".to_string());
    let mut out = String::new();
    out.push_str(&format!("Name:            {}\n", object.metadata.name.clone().unwrap_or_default()));
    out.push_str(&format!("Phase:           {}\n", text(status.phase.map(|p| format!("{p:?}")))));
    out.push_str(&format!("Access key ID:   {}\n", text(status.current_access_key_id.clone())));
    out.push_str(&format!("Pending key ID:  {}\n", text(status.pending_access_key_id.clone())));
    out.push_str(&format!("Previous key ID: {}\n", text(status.previous_access_key_id.clone())));
    out.push_str(&format!("Last rotation:   {}\n", text(status.last_rotation_time.map(|t| t.0.to_string()))));
    out.push_str(&format!("Next rotation:   {}\n", text(status.next_rotation_time.map(|t| t.0.to_string()))));
    out.push_str(&format!("Suspended:       {}\n", object.spec.schedule.suspend));
    if let Some(rotation) = &status.rotation {
        out.push_str(&format!(
            "In flight:       {} ({:?}, step {:?}, attempt {})\n",
            rotation.id, rotation.trigger, rotation.step, rotation.attempt
        ));
    }
    out.push_str("Conditions:\n");
    for condition in &status.conditions {
        out.push_str(&format!(
            "  {:<9} {:<5} {:<28} {}\n",
            condition.type_, condition.status, condition.reason, condition.message
        ));
    }
    out.push_str("History:\n");
    for record in &status.history {
        out.push_str(&format!(
            "  {} {:?} {:?} {} -> {}\n",
            record.id,
            record.trigger,
            record.result,
            text(record.old_access_key_id.clone()),
            text(record.new_access_key_id.clone())
        ));
    }
    out
}
