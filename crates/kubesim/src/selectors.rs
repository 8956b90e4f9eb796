//! Label selectors (equality- and set-based) and field selectors, parsed from the query
//! string syntax of `labelSelector` and `fieldSelector`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector(pub Vec<Requirement>);

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_set(rest: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised value list, got {rest:?}"))?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

fn check_key(key: &str) -> Result<String, String> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid { Ok(key.to_string()) } else { Err(format!("invalid label key {key:?}")) }
}

impl LabelSelector {
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if input.trim().is_empty() {
            return Ok(Self(requirements));
        }
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("empty requirement in label selector {input:?}"));
            }
            requirements.push(Self::parse_requirement(part)?);
        }
        Ok(Self(requirements))
    }

    fn parse_requirement(part: &str) -> Result<Requirement, String> {
        if let Some(key) = part.strip_prefix('!') {
            return Ok(Requirement::NotExists(check_key(key)?));
        }
        if let Some((key, value)) = part.split_once("!=") {
            return Ok(Requirement::NotEquals(check_key(key)?, value.trim().to_string()));
        }
        if let Some((key, value)) = part.split_once("==") {
            return Ok(Requirement::Equals(check_key(key)?, value.trim().to_string()));
        }
        if let Some((key, value)) = part.split_once('=') {
            return Ok(Requirement::Equals(check_key(key)?, value.trim().to_string()));
        }
        let words: Vec<&str> = part.splitn(3, char::is_whitespace).collect();
        if words.len() >= 2 {
            let rest = part[words[0].len()..].trim_start();
            if let Some(set) = rest.strip_prefix("notin") {
                return Ok(Requirement::NotIn(check_key(words[0])?, parse_set(set)?));
            }
            if let Some(set) = rest.strip_prefix("in") {
                return Ok(Requirement::In(check_key(words[0])?, parse_set(set)?));
            }
            return Err(format!("unsupported label selector operator in {part:?}"));
        }
        Ok(Requirement::Exists(check_key(part)?))
    }

    /// Checks the selector against `metadata.labels` of an object.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
        })
    }

    /// Builds a selector from a `metav1.LabelSelector` object (matchLabels, matchExpressions).
    pub fn from_object(selector: &Value) -> Result<Self, String> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in labels {
                requirements.push(Requirement::Equals(k.clone(), v.as_str().unwrap_or_default().to_string()));
            }
        }
        for expr in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
            let key = expr.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            let values: Vec<String> = expr
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            requirements.push(match expr.get("operator").and_then(Value::as_str) {
                Some("In") => Requirement::In(key, values),
                Some("NotIn") => Requirement::NotIn(key, values),
                Some("Exists") => Requirement::Exists(key),
                Some("DoesNotExist") => Requirement::NotExists(key),
                other => return Err(format!("invalid label selector operator {other:?}")),
            });
        }
        Ok(Self(requirements))
    }
}

/// A field selector: `path=value` and `path!=value` terms joined by commas.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

/// Fields a kind supports in field selectors beyond `metadata.name` and
/// `metadata.namespace`, as kube-apiserver v1.35 registers them.
fn extra_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
        ],
        "Pod" => &["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP"],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "ReplicaSet" => &["status.replicas"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses the selector and rejects fields the kind does not index, as the real server does.
    pub fn parse(input: &str, kind: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        if input.trim().is_empty() {
            return Ok(Self(terms));
        }
        for part in input.split(',') {
            let (field, negate, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, false, v)
            } else {
                return Err(format!("invalid field selector term {part:?}: expected field=value or field!=value"));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace") || extra_fields(kind).contains(&field);
            if !supported {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), negate, value.trim().to_string()));
        }
        Ok(Self(terms))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, negate, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = match field.as_str() {
                "source" => object.pointer("/source/component"),
                _ => object.pointer(&pointer),
            };
            let actual = match actual {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                _ => String::new(),
            };
            (actual == *value) != *negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_selector_table() {
        let obj = labelled(json!({"app": "web", "tier": "front"}));
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=api", false),
            ("app!=api", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (web,api)", true),
            ("app in (api)", false),
            ("app notin (api, db)", true),
            ("missing notin (x)", true),
            ("app=web,tier in (front)", true),
            ("app=web,tier=back", false),
        ];
        for (selector, expected) in cases {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&obj), expected, "selector {selector:?}");
        }
    }

    #[test]
    fn label_selector_rejects_garbage() {
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("app=web,,x").is_err());
    }

    #[test]
    fn label_selector_from_object() {
        let selector = LabelSelector::from_object(&json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]})).unwrap();
        assert!(selector.matches(&labelled(json!({"app": "web", "tier": "front"}))));
        assert!(!selector.matches(&labelled(json!({"app": "web"}))));
    }

    #[test]
    fn field_selector_table() {
        let obj = json!({"metadata": {"name": "a", "namespace": "ns"}, "involvedObject": {"name": "web", "kind": "Deployment"}});
        let cases = [
            ("metadata.name=a", "Secret", Some(true)),
            ("metadata.name!=a", "Secret", Some(false)),
            ("metadata.namespace==ns,metadata.name=a", "Secret", Some(true)),
            ("involvedObject.name=web,involvedObject.kind=Deployment", "Event", Some(true)),
            ("involvedObject.name=web", "Secret", None),
            ("spec.replicas=1", "Deployment", None),
        ];
        for (selector, kind, expected) in cases {
            let parsed = FieldSelector::parse(selector, kind);
            assert_eq!(parsed.as_ref().ok().map(|s| s.matches(&obj)), expected, "selector {selector:?}");
        }
    }
}
