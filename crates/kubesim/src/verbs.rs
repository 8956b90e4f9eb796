//! The API verbs (get, list, create, update, patch, delete, deletecollection) on the
//! simulator core, independent of HTTP.

use crate::apply::{Manager, apply, track_update};
use crate::error::{ApiError, ApiResult};
use crate::fields::Scope;
use crate::gc;
use crate::meta::{self, is_deleting, name_of, resource_version_of};
use crate::registry::type_from_crd;
use crate::sim::{DeleteOptions, ListOptions, PatchType, Sim, Target, WriteOptions, to_version};
use crate::store::{State, key};
use serde_json::{Value, json};

const STALE: &str = "the object has been modified; please apply your changes to the latest version and try again";

/// The way a write records field ownership.
enum Ownership<'a> {
    /// Ordinary create, update or patch by this manager.
    Update(&'a str),
    /// managedFields were already set by server-side apply.
    Preset,
}

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    format!("{rv}/{namespace}/{name}").bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.splitn(3, '/');
    let rv = parts.next()?.parse().ok()?;
    Some((rv, parts.next()?.to_string(), parts.next()?.to_string()))
}

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
        let names: Vec<String> = state
            .range(&t.rt.group, &t.rt.plural, t.namespace.as_deref())
            .filter(|(_, o)| list.labels.matches(o) && list.fields.matches(o))
            .map(|(k, _)| k.3.clone())
            .collect();
        let mut items = Vec::new();
        for name in names {
            let mut one = t.clone();
            if !t.rt.namespaced {
                one.namespace = None;
            }
            items.push(to_version(&t.rt, &t.version, delete_in_state(&mut state, &one, &name, opts)?));
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

fn check_list_resource_version(state: &State, opts: &ListOptions) -> ApiResult<()> {
    let Some(rv) = opts.resource_version.as_deref().filter(|rv| !rv.is_empty() && *rv != "0") else {
        return Ok(());
    };
    let rv: u64 = rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
    if rv > state.rv {
        return Err(ApiError::new(504, "Timeout", format!("Too large resource version: {rv}, current: {}", state.rv))
            .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})));
    }
    if opts.resource_version_match.as_deref() == Some("Exact") && rv != state.rv {
        if rv < state.history.compacted_rv() {
            return Err(ApiError::gone(format!("too old resource version: {rv} ({})", state.history.compacted_rv())));
        }
        return Err(ApiError::not_implemented("lists at an exact past resourceVersion (resourceVersionMatch=Exact)"));
    }
    Ok(())
}

fn check_apply_body(t: &Target, patch: &Value, opts: &WriteOptions) -> ApiResult<()> {
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

fn create_in_state(state: &mut State, t: &Target, mut body: Value, opts: &WriteOptions, ownership: Ownership) -> ApiResult<Value> {
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

fn write_existing(state: &mut State, t: &Target, old: &Value, new: Value, opts: &WriteOptions, ownership: Ownership) -> ApiResult<Value> {
    let client_fields = new.pointer("/metadata/managedFields").cloned();
    let mut merged = meta::prepare_update(&t.rt, &t.version, old, new, t.scope)?;
    crate::kinds::normalize(&t.rt, &mut merged);
    enforce_schema(t, &mut merged, opts.strict)?;
    crate::validation::validate(&t.rt, &merged)?;
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

fn delete_in_state(state: &mut State, t: &Target, name: &str, opts: &DeleteOptions) -> ApiResult<Value> {
    let object_key = t.key_for(name);
    let group_resource = t.rt.group_resource();
    let object = state.get(&object_key).cloned().ok_or_else(|| ApiError::not_found(&group_resource, name))?;
    if let Some(uid) = &opts.precondition_uid
        && uid != meta::uid_of(&object)
    {
        return Err(ApiError::conflict(&group_resource, name, &format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            meta::uid_of(&object)
        )));
    }
    if let Some(rv) = &opts.precondition_rv
        && rv != resource_version_of(&object)
    {
        return Err(ApiError::conflict(&group_resource, name, &format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            resource_version_of(&object)
        )));
    }
    if opts.dry_run {
        return Ok(object);
    }

    let extra = match opts.propagation.as_deref() {
        None | Some("Background") => None,
        Some("Foreground") => Some(gc::FOREGROUND_FINALIZER),
        Some("Orphan") => Some(gc::ORPHAN_FINALIZER),
        Some(other) => return Err(ApiError::bad_request(format!("invalid propagationPolicy {other:?}: use Background, Foreground or Orphan"))),
    };
    if let Some(finalizer) = extra
        && !is_deleting(&object)
    {
        let mut with_finalizer = object.clone();
        let mut finalizers = meta::finalizers_of(&object);
        if !finalizers.iter().any(|f| f == finalizer) {
            finalizers.push(finalizer.to_string());
        }
        meta::metadata_mut(&mut with_finalizer).insert("finalizers".into(), json!(finalizers));
        state.replace_unpublished(object_key.clone(), with_finalizer);
    }

    if t.rt.group == "apiextensions.k8s.io" && t.rt.plural == "customresourcedefinitions" {
        remove_custom_type(state, &object);
    }
    gc::delete_key(state, &object_key);
    Ok(state.get(&object_key).cloned().unwrap_or_else(|| {
        let mut gone = object;
        gone["metadata"]["resourceVersion"] = json!(state.rv.to_string());
        gone
    }))
}

/// Stops serving a CRD's type and deletes its objects, as CRD deletion does.
fn remove_custom_type(state: &mut State, crd: &Value) {
    let Ok(rt) = type_from_crd(crd) else { return };
    let keys: Vec<_> = state.range(&rt.group, &rt.plural, None).map(|(k, _)| k.clone()).collect();
    for k in keys {
        state.remove(&k);
    }
    state.registry.remove(&rt.group, &rt.plural);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trip() {
        let token = encode_continue(42, "ns", "name.with.dots");
        assert_eq!(decode_continue(&token), Some((42, "ns".into(), "name.with.dots".into())));
        assert_eq!(decode_continue("zz"), None);
    }
}
