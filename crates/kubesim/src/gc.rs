//! Deletion: finalizers and deletionTimestamp, owner-reference garbage collection
//! (background, foreground and orphan propagation) and namespace deletion.

use crate::meta::{finalizers_of, is_deleting, now_rfc3339, uid_of};
use crate::store::{ObjKey, State, key};
use serde_json::{Value, json};
use std::collections::HashSet;

pub const ORPHAN_FINALIZER: &str = "orphan";
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// Deletes an object: one with finalizers gets a deletionTimestamp and stays until they are
/// removed, one without is removed. Returns whether anything changed.
pub fn delete_key(state: &mut State, key: &ObjKey) -> bool {
    let Some(object) = state.get(key).cloned() else {
        return false;
    };
    if !finalizers_of(&object).is_empty() || key.1 == "namespaces" {
        if is_deleting(&object) {
            return false;
        }
        state.put(key.clone(), mark_deleting(object));
        state.gc_pending = true;
        return true;
    }
    state.remove(key);
    true
}

/// Sets deletionTimestamp (and the Terminating phase of a namespace).
pub fn mark_deleting(mut object: Value) -> Value {
    let meta = crate::meta::metadata_mut(&mut object);
    meta.insert("deletionTimestamp".into(), json!(now_rfc3339()));
    meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    if object.get("kind").and_then(Value::as_str) == Some("Namespace") {
        object["status"] = json!({"phase": "Terminating"});
    }
    object
}

fn set_finalizers(object: &mut Value, finalizers: Vec<String>) {
    let meta = crate::meta::metadata_mut(object);
    if finalizers.is_empty() {
        meta.remove("finalizers");
    } else {
        meta.insert("finalizers".into(), json!(finalizers));
    }
}

/// Stores a deleting object with a new finalizer list, removing it when none remain.
fn store_finalizers(state: &mut State, key: &ObjKey, mut object: Value, finalizers: Vec<String>) {
    let empty = finalizers.is_empty();
    set_finalizers(&mut object, finalizers);
    if empty {
        state.remove(key);
    } else {
        state.put(key.clone(), object);
    }
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().filter_map(|r| r.get("uid").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

fn dependents_of(state: &State, uid: &str) -> Vec<ObjKey> {
    state
        .iter()
        .filter(|(_, o)| owner_uids(o).iter().any(|u| u == uid))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Runs every deletion rule until nothing changes, as the garbage collector and the
/// namespace controller would converge.
pub fn collect(state: &mut State) {
    // Each pass deletes or updates at least one object or stops, so this ends; the bound
    // guards against a rule that keeps rewriting an object.
    for _ in 0..10_000 {
        let changed = namespaces(state) | finalizer_work(state) | dependents(state);
        if !changed {
            break;
        }
    }
    state.gc_pending = false;
}

fn namespaces(state: &mut State) -> bool {
    let terminating: Vec<(ObjKey, Value)> = state
        .range("", "namespaces", None)
        .filter(|(_, o)| is_deleting(o))
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    let mut changed = false;
    for (ns_key, mut namespace) in terminating {
        let name = ns_key.3.clone();
        for key in state.keys_in_namespace(&name) {
            changed |= delete_key(state, &key);
        }
        if !state.keys_in_namespace(&name).is_empty() {
            continue;
        }
        if let Some(spec) = namespace.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("finalizers");
        }
        let finalizers = finalizers_of(&namespace);
        store_finalizers(state, &ns_key, namespace, finalizers);
        changed = true;
    }
    changed
}

fn finalizer_work(state: &mut State) -> bool {
    let deleting: Vec<(ObjKey, Value)> = state
        .iter()
        .filter(|(_, o)| is_deleting(o))
        .filter(|(_, o)| {
            let f = finalizers_of(o);
            f.iter().any(|x| x == ORPHAN_FINALIZER || x == FOREGROUND_FINALIZER)
        })
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    let mut changed = false;
    for (owner_key, owner) in deleting {
        let uid = uid_of(&owner).to_string();
        let mut finalizers = finalizers_of(&owner);
        let dependents = dependents_of(state, &uid);

        if finalizers.iter().any(|f| f == ORPHAN_FINALIZER) {
            for dep_key in &dependents {
                if let Some(mut dep) = state.get(dep_key).cloned() {
                    if let Some(Value::Array(refs)) = dep.pointer_mut("/metadata/ownerReferences") {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                    }
                    state.put(dep_key.clone(), dep);
                }
            }
            finalizers.retain(|f| f != ORPHAN_FINALIZER);
            store_finalizers(state, &owner_key, owner, finalizers);
            changed = true;
            continue;
        }

        for dep_key in &dependents {
            changed |= delete_key(state, dep_key);
        }
        if dependents_of(state, &uid).is_empty() {
            finalizers.retain(|f| f != FOREGROUND_FINALIZER);
            let owner = state.get(&owner_key).cloned().unwrap_or(owner);
            store_finalizers(state, &owner_key, owner, finalizers);
            changed = true;
        }
    }
    changed
}

fn dependents(state: &mut State) -> bool {
    // Borrowed uids keep this pass, which also runs once a second, free of per-object copies.
    let alive: HashSet<&str> = state.iter().map(|(_, o)| uid_of(o)).collect();
    let orphaned: Vec<(ObjKey, Value, Vec<String>)> = state
        .iter()
        .filter_map(|(k, o)| {
            let owners = owner_uids(o);
            let dangling: Vec<String> = owners.iter().filter(|u| !alive.contains(u.as_str())).cloned().collect();
            (!dangling.is_empty()).then(|| (k.clone(), o.clone(), dangling))
        })
        .collect();
    let mut changed = false;
    for (dep_key, mut dep, dangling) in orphaned {
        let all_gone = owner_uids(&dep).iter().all(|u| dangling.contains(u));
        if all_gone {
            changed |= delete_key(state, &dep_key);
            continue;
        }
        if let Some(Value::Array(refs)) = dep.pointer_mut("/metadata/ownerReferences") {
            refs.retain(|r| r.get("uid").and_then(Value::as_str).is_none_or(|u| !dangling.iter().any(|d| d == u)));
        }
        state.put(dep_key, dep);
        changed = true;
    }
    changed
}

/// Key of a namespace object.
pub fn namespace_key(name: &str) -> ObjKey {
    key("", "namespaces", "", name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::broadcast;

    fn state() -> State {
        let (tx, _) = broadcast::channel::<Arc<crate::watch::StoredEvent>>(16);
        State::new(100, tx)
    }

    fn object(name: &str, uid: &str, owners: &[&str], finalizers: &[&str]) -> Value {
        let refs: Vec<Value> = owners.iter().map(|u| json!({"uid": u, "kind": "X", "name": "o", "apiVersion": "v1"})).collect();
        let mut o = json!({"metadata": {"name": name, "namespace": "ns", "uid": uid, "ownerReferences": refs}});
        if !finalizers.is_empty() {
            o["metadata"]["finalizers"] = json!(finalizers);
        }
        o
    }

    #[test]
    fn background_deletes_dependents() {
        let mut s = state();
        s.put(key("", "configmaps", "ns", "owner"), object("owner", "u1", &[], &[]));
        s.put(key("", "configmaps", "ns", "child"), object("child", "u2", &["u1"], &[]));
        s.put(key("", "configmaps", "ns", "grandchild"), object("grandchild", "u3", &["u2"], &[]));
        s.remove(&key("", "configmaps", "ns", "owner"));
        collect(&mut s);
        assert!(s.is_empty());
    }

    #[test]
    fn dependent_with_live_owner_survives() {
        let mut s = state();
        s.put(key("", "configmaps", "ns", "a"), object("a", "u1", &[], &[]));
        s.put(key("", "configmaps", "ns", "b"), object("b", "u2", &[], &[]));
        s.put(key("", "configmaps", "ns", "child"), object("child", "u3", &["u1", "u2"], &[]));
        s.remove(&key("", "configmaps", "ns", "a"));
        collect(&mut s);
        let child = s.get(&key("", "configmaps", "ns", "child")).unwrap();
        assert_eq!(owner_uids(child), vec!["u2"]);
    }

    #[test]
    fn finalizer_keeps_object_deleting() {
        let mut s = state();
        let k = key("", "configmaps", "ns", "f");
        s.put(k.clone(), object("f", "u1", &[], &["example.com/hold"]));
        assert!(delete_key(&mut s, &k));
        assert!(is_deleting(s.get(&k).unwrap()));
        assert!(!delete_key(&mut s, &k), "a second delete changes nothing");
    }

    #[test]
    fn orphan_keeps_dependents() {
        let mut s = state();
        let owner = key("", "configmaps", "ns", "owner");
        s.put(owner.clone(), object("owner", "u1", &[], &[ORPHAN_FINALIZER]));
        s.put(key("", "configmaps", "ns", "child"), object("child", "u2", &["u1"], &[]));
        delete_key(&mut s, &owner);
        collect(&mut s);
        assert!(s.get(&owner).is_none());
        assert!(owner_uids(s.get(&key("", "configmaps", "ns", "child")).unwrap()).is_empty());
    }

    #[test]
    fn foreground_waits_for_dependents() {
        let mut s = state();
        let owner = key("", "configmaps", "ns", "owner");
        s.put(owner.clone(), object("owner", "u1", &[], &[FOREGROUND_FINALIZER]));
        s.put(key("", "configmaps", "ns", "child"), object("child", "u2", &["u1"], &["example.com/hold"]));
        delete_key(&mut s, &owner);
        collect(&mut s);
        assert!(s.get(&owner).is_some(), "owner waits while a dependent is held by a finalizer");
        let child_key = key("", "configmaps", "ns", "child");
        let mut child = s.get(&child_key).unwrap().clone();
        child["metadata"].as_object_mut().unwrap().remove("finalizers");
        s.remove(&child_key);
        collect(&mut s);
        assert!(s.get(&owner).is_none());
    }

    #[test]
    fn namespace_deletion_empties_it() {
        let mut s = state();
        let ns = namespace_key("ns");
        s.put(ns.clone(), json!({"kind": "Namespace", "metadata": {"name": "ns", "uid": "n"}, "spec": {"finalizers": ["kubernetes"]}}));
        s.put(key("", "secrets", "ns", "a"), object("a", "u1", &[], &[]));
        s.put(key("", "secrets", "other", "b"), object("b", "u2", &[], &[]));
        delete_key(&mut s, &ns);
        collect(&mut s);
        assert!(s.get(&ns).is_none());
        assert!(s.get(&key("", "secrets", "ns", "a")).is_none());
        assert!(s.get(&key("", "secrets", "other", "b")).is_some());
    }
}
