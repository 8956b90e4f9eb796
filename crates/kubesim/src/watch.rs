//! Watch events: the bounded history ring that resumes watches from a resourceVersion, and
//! the per-watch filter that turns stored events into the events one client receives.

use crate::selectors::{FieldSelector, LabelSelector};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One committed write.
#[derive(Debug)]
pub struct StoredEvent {
    pub rv: u64,
    pub kind: EventType,
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub object: Arc<Value>,
    /// The object before a modification, so a selector watch can see it leave or enter.
    pub previous: Option<Arc<Value>>,
}

/// The last `capacity` events. A watch may resume from any resourceVersion at or after
/// `compacted_rv`; older ones get 410 Gone, as after an etcd compaction.
#[derive(Debug)]
pub struct History {
    events: VecDeque<Arc<StoredEvent>>,
    capacity: usize,
    compacted_rv: u64,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self { events: VecDeque::with_capacity(capacity.min(4096)), capacity: capacity.max(1), compacted_rv: 0 }
    }

    pub fn push(&mut self, event: Arc<StoredEvent>) {
        if self.events.len() == self.capacity
            && let Some(dropped) = self.events.pop_front()
        {
            self.compacted_rv = dropped.rv;
        }
        self.events.push_back(event);
    }

    /// Returns the oldest resourceVersion a watch can still start from.
    pub fn compacted_rv(&self) -> u64 {
        self.compacted_rv
    }

    /// Returns the events after `rv`, or `None` when history no longer reaches back that far.
    pub fn since(&self, rv: u64) -> Option<Vec<Arc<StoredEvent>>> {
        if rv < self.compacted_rv {
            return None;
        }
        let start = self.events.partition_point(|e| e.rv <= rv);
        Some(self.events.range(start..).cloned().collect())
    }
}

/// The objects one watch request selects.
#[derive(Debug, Clone)]
pub struct WatchFilter {
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl WatchFilter {
    fn selects(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    /// Returns the event type this watch reports for a stored event, if any. An object that stops
    /// matching the selectors is reported DELETED and one that starts matching ADDED, as
    /// kube-apiserver's watch cache does.
    pub fn translate(&self, event: &StoredEvent) -> Option<EventType> {
        if event.group != self.group || event.resource != self.resource {
            return None;
        }
        if self.namespace.as_ref().is_some_and(|ns| *ns != event.namespace) {
            return None;
        }
        let now = self.selects(&event.object);
        match event.kind {
            EventType::Modified => {
                let before = event.previous.as_ref().is_some_and(|p| self.selects(p));
                match (before, now) {
                    (true, true) => Some(EventType::Modified),
                    (false, true) => Some(EventType::Added),
                    (true, false) => Some(EventType::Deleted),
                    (false, false) => None,
                }
            }
            kind => now.then_some(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(rv: u64, kind: EventType, labels: Value, previous: Option<Value>) -> StoredEvent {
        StoredEvent {
            rv,
            kind,
            group: "".into(),
            resource: "secrets".into(),
            namespace: "ns".into(),
            object: Arc::new(json!({"metadata": {"name": "a", "labels": labels}})),
            previous: previous.map(|labels| Arc::new(json!({"metadata": {"name": "a", "labels": labels}}))),
        }
    }

    #[test]
    fn history_compacts_oldest() {
        let mut history = History::new(2);
        for rv in 1..=3 {
            history.push(Arc::new(event(rv, EventType::Added, json!({}), None)));
        }
        assert!(history.since(0).is_none());
        assert_eq!(history.since(1).unwrap().len(), 2);
        assert_eq!(history.since(2).unwrap().len(), 1);
        assert_eq!(history.since(3).unwrap().len(), 0);
    }

    #[test]
    fn selector_watch_sees_enter_and_leave() {
        let filter = WatchFilter {
            group: "".into(),
            resource: "secrets".into(),
            namespace: Some("ns".into()),
            labels: LabelSelector::parse("app=web").unwrap(),
            fields: FieldSelector::default(),
        };
        let cases = [
            (event(1, EventType::Added, json!({"app": "web"}), None), Some(EventType::Added)),
            (event(2, EventType::Added, json!({"app": "db"}), None), None),
            (event(3, EventType::Modified, json!({"app": "web"}), Some(json!({"app": "db"}))), Some(EventType::Added)),
            (event(4, EventType::Modified, json!({"app": "db"}), Some(json!({"app": "web"}))), Some(EventType::Deleted)),
            (event(5, EventType::Modified, json!({"app": "web"}), Some(json!({"app": "web"}))), Some(EventType::Modified)),
            (event(6, EventType::Deleted, json!({"app": "web"}), None), Some(EventType::Deleted)),
        ];
        for (event, expected) in cases {
            assert_eq!(filter.translate(&event), expected, "event at rv {}", event.rv);
        }
    }
}
