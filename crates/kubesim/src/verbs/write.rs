//! Create and update paths shared by create, update, patch and apply: metadata rules,
//! CRD registration, schemas, validation and field ownership.

use crate::apply::{Manager, track_update};
use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::gc;
use crate::meta::{self, is_deleting, name_of, resource_version_of};
use crate::registry::type_from_crd;
use crate::sim::{Target, WriteOptions};
use crate::store::{State, key};
use serde_json::{Value, json};

/// The way a write records field ownership.
pub(super) enum Ownership<'a> {
    /// Ordinary create, update or patch by this manager.
    Update(&'a str),
    /// managedFields were already set by server-side apply.
    Preset,
}

pub(super) fn check_apply_body(t: &Target, patch: &Value, opts: &WriteOptions) -> ApiResult<()> {
    if !opts.field_manager_given {
        return Err(ApiError::invalid("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"));
    }
    if !patch.is_object() {
        return Err(ApiError::bad_request("an apply patch must be an object"));
    }
    if patch.get("apiVersion").is_none() || patch.get("kind").is_none() {
        return Err(ApiError::bad_request("apiVersion and kind must be set in an apply patch"));
    }
    meta::check_type_meta(&t.rt, &t.version, patch)?;
    // An apply body may omit the name; the URL names the object, as on kube-apiserver.
    if !name_of(patch).is_empty() && name_of(patch) != t.name() {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            name_of(patch),
            t.name()
        )));
    }
    if patch.pointer("/metadata/managedFields").is_some_and(|m| !m.is_null()) {
        return Err(ApiError::bad_request("metadata.managedFields must be nil in an apply patch"));
    }
    Ok(())
}

pub(super) fn create_in_state(state: &mut State, t: &Target, mut body: Value, opts: &WriteOptions, ownership: Ownership) -> ApiResult<Value> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    meta::check_type_meta(&t.rt, &t.version, &body)?;
    let namespace = if t.rt.namespaced { t.namespace.clone() } else { None };
    let body_ns = meta::namespace_of(&body);
    if let Some(ns) = &namespace
        && !body_ns.is_empty()
        && body_ns != ns
    {
        return Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"));
    }
    if !resource_version_of(&body).is_empty() && ownership_is_update(&ownership) {
        return Err(ApiError::bad_request("resourceVersion should not be set on objects to be created"));
    }
    if let Some(ns) = &namespace {
        match state.get(&gc::namespace_key(ns)) {
            None => return Err(ApiError::not_found("namespaces", ns)),
            Some(n) if is_deleting(n) => {
                return Err(ApiError::forbidden(format!(
                    "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    t.rt.plural,
                    name_of(&body)
                ))
                .with_details(json!({"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]})));
            }
            Some(_) => {}
        }
    }

    let ns_part = namespace.clone().unwrap_or_default();
    let name = match name_of(&body) {
        "" => {
            let prefix = body.pointer("/metadata/generateName").and_then(Value::as_str).unwrap_or_default().to_string();
            if prefix.is_empty() {
                return Err(ApiError::invalid(format!("{} \"\" is invalid: metadata.name: Required value: name or generateName is required", t.rt.kind)));
            }
            let mut name = format!("{prefix}{}", meta::random_suffix());
            while state.get(&key(&t.rt.group, &t.rt.plural, &ns_part, &name)).is_some() {
                name = format!("{prefix}{}", meta::random_suffix());
            }
            name
        }
        given => given.to_string(),
    };
    meta::validate_name(&t.rt, &name)?;
    let object_key = key(&t.rt.group, &t.rt.plural, &ns_part, &name);
    if state.get(&object_key).is_some() {
        return Err(ApiError::already_exists(&t.rt.group_resource(), &name));
    }

    meta::prepare_create(&t.rt, &t.version, &mut body, namespace.as_deref(), &name);
    crate::kinds::normalize(&t.rt, &mut body);
    enforce_schema(t, &mut body, opts.strict)?;
    crate::validation::validate(&t.rt, &body)?;
    let new_type = prepare_crd(state, t, &mut body)?;
    if let Ownership::Update(manager) = ownership {
        let now = meta::now_rfc3339();
        let api_version = t.rt.api_version(&t.version);
        track_update(&t.rt, None, &mut body, &Manager { name: manager, scope: Scope::Main, api_version: &api_version, now: &now });
    }
    if opts.dry_run {
        return Ok(body);
    }
    let stored = state.put(object_key, body);
    if let Some(rt) = new_type {
        state.registry.insert(rt);
    }
    Ok(stored)
}

/// Prunes, defaults and validates a custom resource against its CRD schema.
fn enforce_schema(t: &Target, object: &mut Value, strict: bool) -> ApiResult<()> {
    if !t.rt.custom {
        return Ok(());
    }
    let Some(schema) = t.rt.schemas.get(&t.version).or_else(|| t.rt.schemas.get(t.rt.storage_version())) else {
        return Ok(());
    };
    let pruned = crate::schema::prune_and_default(schema, object);
    if strict && !pruned.is_empty() {
        let fields: Vec<String> = pruned.iter().map(|p| format!("unknown field \"{p}\"")).collect();
        return Err(ApiError::bad_request(format!("strict decoding error: {}", fields.join(", "))));
    }
    let errors = crate::schema::validate(schema, object);
    if errors.is_empty() {
        return Ok(());
    }
    let listed = if errors.len() == 1 { errors[0].clone() } else { format!("[{}]", errors.join(", ")) };
    let causes: Vec<Value> = errors.iter().map(|e| json!({"reason": "FieldValueInvalid", "message": e})).collect();
    Err(ApiError::invalid(format!("{}.{} \"{}\" is invalid: {listed}", t.rt.kind, t.rt.group, name_of(object)))
        .with_details(json!({"name": name_of(object), "group": t.rt.group, "kind": t.rt.kind, "causes": causes})))
}

fn ownership_is_update(ownership: &Ownership) -> bool {
    matches!(ownership, Ownership::Update(_))
}

/// Validates a CRD and sets its status; returns the type it serves once stored.
fn prepare_crd(state: &State, t: &Target, body: &mut Value) -> ApiResult<Option<crate::registry::ResourceType>> {
    if t.rt.group != "apiextensions.k8s.io" || t.rt.plural != "customresourcedefinitions" {
        return Ok(None);
    }
    let rt = type_from_crd(body).map_err(|e| ApiError::invalid(format!("CustomResourceDefinition \"{}\" is invalid: {e}", name_of(body))))?;
    let expected = format!("{}.{}", rt.plural, rt.group);
    if name_of(body) != expected {
        return Err(ApiError::invalid(format!(
            "CustomResourceDefinition \"{}\" is invalid: metadata.name: Invalid value: must be spec.names.plural+\".\"+spec.group ({expected})",
            name_of(body)
        )));
    }
    if let Some(existing) = state.registry.by_group_resource(&rt.group, &rt.plural)
        && !existing.custom
    {
        return Err(ApiError::invalid(format!("{expected} is served by a built-in type")));
    }
    body["status"] = crate::kinds::crd_status(body, &meta::now_rfc3339());
    Ok(Some(rt))
}

pub(super) fn write_existing(state: &mut State, t: &Target, old: &Value, new: Value, opts: &WriteOptions, ownership: Ownership) -> ApiResult<Value> {
    let client_fields = new.pointer("/metadata/managedFields").cloned();
    let mut merged = meta::prepare_update(&t.rt, &t.version, old, new, t.scope)?;
    crate::kinds::normalize(&t.rt, &mut merged);
    enforce_schema(t, &mut merged, opts.strict)?;
    crate::validation::validate(&t.rt, &merged)?;
    crate::validation::validate_update(&t.rt, old, &merged)?;
    let new_type = if t.scope == Scope::Main { prepare_crd(state, t, &mut merged)? } else { None };

    if let Ownership::Update(manager) = ownership {
        let old_fields = old.pointer("/metadata/managedFields").cloned();
        match client_fields {
            Some(fields) if Some(&fields) != old_fields.as_ref() => {
                // A client that sends different managedFields replaces them, as on the real
                // server; an empty list clears them.
                meta::metadata_mut(&mut merged).insert("managedFields".into(), fields);
            }
            _ => {
                if let Some(fields) = old_fields {
                    meta::metadata_mut(&mut merged).insert("managedFields".into(), fields);
                }
                let now = meta::now_rfc3339();
                let api_version = t.rt.api_version(&t.version);
                track_update(&t.rt, Some(old), &mut merged, &Manager { name: manager, scope: t.scope, api_version: &api_version, now: &now });
            }
        }
    }

    if meta::same_content(old, &merged) {
        return Ok(old.clone());
    }
    if opts.dry_run {
        return Ok(merged);
    }
    let object_key = t.key_for(t.name());
    if is_deleting(&merged) && meta::finalizers_of(&merged).is_empty() && t.rt.plural != "namespaces" {
        let removed = state.remove(&object_key).unwrap_or(merged);
        return Ok(removed);
    }
    let stored = state.put(object_key, merged);
    if let Some(rt) = new_type {
        state.registry.insert(rt);
    }
    Ok(stored)
}
