//! The simulator control API under `/simulator/v1`:
//!
//! - `GET /simulator/v1/rollouts`: the default plan and every per-workload plan.
//! - `PUT /simulator/v1/rollouts/default`: set the default plan.
//! - `GET|PUT|DELETE /simulator/v1/rollouts/<kind>/<namespace>/<name>`: one workload's plan,
//!   where `<kind>` is `deployments`, `statefulsets` or `daemonsets`.
//! - `GET /simulator/v1/stats`: object count and current resourceVersion.
//!
//! A plan is `{"outcome": "healthy"|"never-ready"|"fail-after-ready", "stepMs": 50,
//! "failAfterMs": 500}`; omitted fields take the defaults of [`RolloutPlan`].

use super::{App, json_response};
use crate::error::{ApiError, ApiResult};
use crate::workloads::{RolloutPlan, WorkloadKind, WorkloadRef};
use axum::body::Bytes;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::json;

fn parse_plan(body: &Bytes) -> ApiResult<RolloutPlan> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid rollout plan: {e}; expected {{\"outcome\": \"healthy\"|\"never-ready\"|\"fail-after-ready\", \"stepMs\": N, \"failAfterMs\": N}}"
        ))
    })
}

pub fn handle(app: &App, method: &Method, rest: &[&str], body: &Bytes) -> ApiResult<Response> {
    let rollouts = &app.sim.rollouts;
    match (method.as_str(), rest) {
        ("GET", ["stats"]) => {
            let state = app.sim.lock();
            Ok(json_response(StatusCode::OK, &json!({"objects": state.len(), "resourceVersion": state.rv.to_string()})))
        }
        ("GET", ["rollouts"]) => {
            let workloads: Vec<_> = rollouts
                .list()
                .into_iter()
                .map(|(w, plan)| json!({"kind": w.kind.plural(), "namespace": w.namespace, "name": w.name, "plan": plan}))
                .collect();
            Ok(json_response(StatusCode::OK, &json!({"default": rollouts.default_plan(), "workloads": workloads})))
        }
        ("PUT", ["rollouts", "default"]) => {
            let plan = parse_plan(body)?;
            rollouts.set_default(plan);
            Ok(json_response(StatusCode::OK, &json!(plan)))
        }
        (verb, ["rollouts", kind, namespace, name]) => {
            let kind = WorkloadKind::parse(kind)
                .ok_or_else(|| ApiError::bad_request(format!("unknown workload kind {kind:?}: use deployments, statefulsets or daemonsets")))?;
            let workload = WorkloadRef::new(kind, *namespace, *name);
            match verb {
                "GET" => Ok(json_response(StatusCode::OK, &json!(rollouts.plan_for(&workload)))),
                "PUT" => {
                    let plan = parse_plan(body)?;
                    rollouts.set(workload, plan);
                    Ok(json_response(StatusCode::OK, &json!(plan)))
                }
                "DELETE" => {
                    rollouts.clear(&workload);
                    Ok(json_response(StatusCode::OK, &json!(rollouts.plan_for(&workload))))
                }
                other => Err(ApiError::method_not_allowed(format!("{other} is not supported on rollout plans"))),
            }
        }
        _ => Err(ApiError::new(404, "NotFound", "unknown simulator control path; see /simulator/v1/rollouts and /simulator/v1/stats")),
    }
}
