//! Deletion of one object: preconditions, propagation policy and CRD removal.

use crate::error::{ApiError, ApiResult};
use crate::gc;
use crate::meta::{self, is_deleting, resource_version_of};
use crate::registry::type_from_crd;
use crate::sim::{DeleteOptions, Target};
use crate::store::State;
use serde_json::{Value, json};

pub(super) fn delete_in_state(state: &mut State, t: &Target, name: &str, opts: &DeleteOptions) -> ApiResult<Value> {
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
