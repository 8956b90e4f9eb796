//! The API verbs (get, list, create, update, patch, delete, deletecollection) on the
//! simulator core, independent of HTTP.

mod delete;
mod list;
mod write;

use crate::apply::{Manager, apply};
use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::gc;
use crate::meta::{self, name_of, resource_version_of};
use crate::sim::{DeleteOptions, ListOptions, PatchType, Sim, Target, WriteOptions, to_version};
use crate::store::State;
use delete::delete_in_state;
use list::{check_list_resource_version, decode_continue, encode_continue};
use serde_json::{Value, json};
use write::{Ownership, check_apply_body, create_in_state, write_existing};

const STALE: &str = "the object has been modified; please apply your changes to the latest version and try again";

fn is_workload(group: &str, plural: &str) -> bool {
    group == "apps" && matches!(plural, "deployments" | "statefulsets" | "daemonsets")
}

impl Sim {
    pub fn get(&self, t: &Target) -> ApiResult<Value> {
        let state = self.lock();
        let object = state.get(&t.key_for(t.name())).ok_or_else(|| ApiError::not_found(&t.rt.group_resource(), t.name()))?;
        Ok(to_version(&t.rt, &t.version, object.clone()))
    }

    pub fn list(&self, t: &Target, opts: &ListOptions) -> ApiResult<Value> {
        let state = self.lock();
        check_list_resource_version(&state, opts)?;

        // NOTE: a continued list reads current objects after the token's key, not a snapshot
        // at the first page's resourceVersion as kube-apiserver does.
        let after = match &opts.continue_token {
            Some(token) => {
                let (rv, ns, name) = decode_continue(token).ok_or_else(|| ApiError::bad_request(format!("invalid continue token {token:?}")))?;
                if rv < state.history.compacted_rv() {
                    return Err(ApiError::gone(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    ));
                }
                Some((ns, name))
            }
            None => None,
        };

        let mut items = Vec::new();
        let mut remaining = 0usize;
        let mut last = None;
        for ((_, _, ns, name), object) in state.range(&t.rt.group, &t.rt.plural, t.namespace.as_deref()) {
            if after.as_ref().is_some_and(|(a_ns, a_name)| (ns, name) <= (a_ns, a_name)) {
                continue;
            }
            if !opts.labels.matches(object) || !opts.fields.matches(object) {
                continue;
            }
            if opts.limit.is_some_and(|limit| items.len() >= limit) {
                remaining += 1;
                continue;
            }
            last = Some((ns.clone(), name.clone()));
            items.push(to_version(&t.rt, &t.version, object.clone()));
        }

        let mut metadata = json!({"resourceVersion": state.rv.to_string()});
        if remaining > 0
            && let Some((ns, name)) = last
        {
            metadata["continue"] = json!(encode_continue(state.rv, &ns, &name));
            metadata["remainingItemCount"] = json!(remaining);
        }
        Ok(json!({
            "kind": format!("{}List", t.rt.kind),
            "apiVersion": t.rt.api_version(&t.version),
            "metadata": metadata,
            "items": items,
        }))
    }

    pub fn create(&self, t: &Target, body: Value, opts: &WriteOptions) -> ApiResult<Value> {
        if t.scope == Scope::Status {
            return Err(ApiError::method_not_allowed("create is not allowed on the status subresource"));
        }
        let mut state = self.lock();
        let created = create_in_state(&mut state, t, body, opts, Ownership::Update(&opts.field_manager))?;
        self.after_write(&mut state, t);
        Ok(to_version(&t.rt, &t.version, created))
    }

    pub fn update(&self, t: &Target, body: Value, opts: &WriteOptions) -> ApiResult<Value> {
        meta::check_type_meta(&t.rt, &t.version, &body)?;
        let body_name = name_of(&body);
        if !body_name.is_empty() && body_name != t.name() {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({})",
                t.name()
            )));
        }
        let mut state = self.lock();
        let old = state.get(&t.key_for(t.name())).cloned().ok_or_else(|| ApiError::not_found(&t.rt.group_resource(), t.name()))?;
        let rv = resource_version_of(&body);
        if !rv.is_empty() && rv != resource_version_of(&old) {
            return Err(ApiError::conflict(&t.rt.group_resource(), t.name(), STALE));
        }
        if rv.is_empty() && t.rt.custom {
            // Custom resources do not allow unconditional updates, unlike most built-in kinds.
            return Err(ApiError::invalid(format!(
                "{}.{} \"{}\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update",
                t.rt.kind,
                t.rt.group,
                t.name()
            )));
        }
        let updated = write_existing(&mut state, t, &old, body, opts, Ownership::Update(&opts.field_manager))?;
        self.after_write(&mut state, t);
        Ok(to_version(&t.rt, &t.version, updated))
    }

    pub fn patch(&self, t: &Target, patch_type: PatchType, body: &[u8], opts: &WriteOptions) -> ApiResult<Value> {
        let patch: Value = match patch_type {
            PatchType::Apply => {
                let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("apply patch is not UTF-8"))?;
                serde_saphyr::from_str(text).map_err(|e| ApiError::bad_request(format!("invalid apply patch YAML: {e}")))?
            }
            _ => serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid patch JSON: {e}")))?,
        };
        let group_resource = t.rt.group_resource();
        let mut state = self.lock();
        let old = state.get(&t.key_for(t.name())).cloned();

        let result = match (patch_type, old) {
            (PatchType::Apply, old) => {
                check_apply_body(t, &patch, opts)?;
                let now = meta::now_rfc3339();
                let api_version = t.rt.api_version(&t.version);
                let manager = Manager { name: &opts.field_manager, scope: t.scope, api_version: &api_version, now: &now };
                let merged = apply(&t.rt, old.as_ref(), &patch, &manager, opts.force).map_err(|conflicts| {
                    let causes: Vec<Value> = conflicts
                        .iter()
                        .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field()}))
                        .collect();
                    let list: Vec<String> = conflicts.iter().map(|c| format!("conflict with \"{}\": {}", c.manager, c.field())).collect();
                    let noun = if conflicts.len() == 1 { "conflict" } else { "conflicts" };
                    ApiError::new(409, "Conflict", format!("Apply failed with {} {noun}: {}", conflicts.len(), list.join("\n")))
                        .with_details(json!({"name": t.name(), "group": t.rt.group, "kind": t.rt.plural, "causes": causes}))
                })?;
                match old {
                    None if t.scope == Scope::Status => return Err(ApiError::not_found(&group_resource, t.name())),
                    None => {
                        let mut merged = merged;
                        meta::metadata_mut(&mut merged).insert("name".into(), json!(t.name()));
                        create_in_state(&mut state, t, merged, opts, Ownership::Preset)?
                    }
                    Some(old) => {
                        let rv = resource_version_of(&patch);
                        if !rv.is_empty() && rv != resource_version_of(&old) {
                            return Err(ApiError::conflict(&group_resource, t.name(), STALE));
                        }
                        write_existing(&mut state, t, &old, merged, opts, Ownership::Preset)?
                    }
                }
            }
            (_, None) => return Err(ApiError::not_found(&group_resource, t.name())),
            (kind, Some(old)) => {
                let mut new = old.clone();
                match kind {
                    PatchType::Merge => crate::patch::merge_patch(&mut new, &patch),
                    PatchType::Json => crate::patch::json_patch(&mut new, &patch)
                        .map_err(|e| ApiError::invalid(format!("the JSON patch could not be applied: {e}")))?,
                    PatchType::Strategic => {
                        if t.rt.custom {
                            return Err(ApiError::unsupported_media_type(
                                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                            ));
                        }
                        crate::strategic::strategic_merge(&mut new, &patch)
                            .map_err(|e| ApiError::invalid(format!("the strategic merge patch could not be applied: {e}")))?
                    }
                    PatchType::Apply => unreachable!("apply is handled above"),
                }
                if resource_version_of(&new) != resource_version_of(&old) {
                    return Err(ApiError::conflict(&group_resource, t.name(), STALE));
                }
                write_existing(&mut state, t, &old, new, opts, Ownership::Update(&opts.field_manager))?
            }
        };
        self.after_write(&mut state, t);
        Ok(to_version(&t.rt, &t.version, result))
    }

    pub fn delete(&self, t: &Target, opts: &DeleteOptions) -> ApiResult<Value> {
        let mut state = self.lock();
        let deleted = delete_in_state(&mut state, t, t.name(), opts)?;
        gc::collect(&mut state);
        self.after_write(&mut state, t);
        Ok(to_version(&t.rt, &t.version, deleted))
    }

    pub fn delete_collection(&self, t: &Target, list: &ListOptions, opts: &DeleteOptions) -> ApiResult<Value> {
        let mut state = self.lock();
        let names: Vec<(String, String)> = state
            .range(&t.rt.group, &t.rt.plural, t.namespace.as_deref())
            .filter(|(_, o)| list.labels.matches(o) && list.fields.matches(o))
            .map(|(k, _)| (k.2.clone(), k.3.clone()))
            .collect();
        let mut items = Vec::new();
        for (namespace, name) in names {
            // A collection across all namespaces deletes each object in its own namespace.
            let mut single = t.clone();
            single.namespace = t.rt.namespaced.then_some(namespace);
            items.push(to_version(&t.rt, &t.version, delete_in_state(&mut state, &single, &name, opts)?));
        }
        gc::collect(&mut state);
        self.after_write(&mut state, t);
        Ok(json!({
            "kind": format!("{}List", t.rt.kind),
            "apiVersion": t.rt.api_version(&t.version),
            "metadata": {"resourceVersion": state.rv.to_string()},
            "items": items,
        }))
    }

    fn after_write(&self, state: &mut State, t: &Target) {
        if state.gc_pending {
            gc::collect(state);
        }
        if is_workload(&t.rt.group, &t.rt.plural) {
            self.controller_wake.notify_one();
        }
    }
}
