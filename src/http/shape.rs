//! What a request body's JSON Schema says about its fields, read by both the body parser
//! ([`super::body`]) and the spec pass ([`crate::openapi`]), so the server enforces exactly
//! what the document states: which fields are required, which optional text fields take `""`
//! to mean absent, and the bounds of numbers (`minimum`, `maximum`) and lists (`minItems`,
//! `maxItems`).

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

/// A body schema with the named schemas it refers to.
#[derive(Debug, Default)]
pub struct Shape {
    pub root: Value,
    pub components: Map<String, Value>,
}

impl Shape {
    /// The shape of `T`, built once per type from its `ToSchema` implementation.
    pub fn of<T: utoipa::ToSchema + 'static>() -> Arc<Shape> {
        static CACHE: OnceLock<Mutex<HashMap<TypeId, Arc<Shape>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(TypeId::of::<T>())
            .or_insert_with(|| {
                let mut named = Vec::new();
                T::schemas(&mut named);
                let components = named
                    .into_iter()
                    .map(|(name, s)| (name, serde_json::to_value(s).unwrap_or_default()))
                    .collect();
                Arc::new(Shape {
                    root: serde_json::to_value(T::schema()).unwrap_or_default(),
                    components,
                })
            })
            .clone()
    }

    /// Removes every optional text field sent as `""`, at any depth (API.md §1).
    pub fn drop_empty_optional_text(&self, value: &mut Value) {
        drop_empty(value, &self.root, &self.components);
    }

    /// The required fields `value` lacks, the arrays sent where an object belongs, and the
    /// numbers and lists outside their bounds.
    pub fn check(&self, value: &Value) -> Vec<(Vec<Step>, Finding)> {
        let mut out = Vec::new();
        check(value, &self.root, &self.components, &mut Vec::new(), &mut out);
        out
    }
}

/// Follows `$ref`s to `#/components/schemas/…`.
pub fn resolve<'a>(mut schema: &'a Value, components: &'a Map<String, Value>) -> &'a Value {
    for _ in 0..16 {
        let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            break;
        };
        match components.get(name) {
            Some(next) => schema = next,
            None => break,
        }
    }
    schema
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// The alternatives of a `oneOf`/`anyOf`/`allOf`, without `{"type": "null"}`.
fn alternatives(schema: &Value) -> Option<Vec<&Value>> {
    ["oneOf", "anyOf", "allOf"].iter().find_map(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .map(|xs| xs.iter().filter(|s| !is_null_schema(s)).collect())
    })
}

/// The object schemas a value of `schema` may be (several for a tagged enum).
pub fn object_variants<'a>(
    schema: &'a Value,
    components: &'a Map<String, Value>,
) -> Vec<&'a Value> {
    let schema = resolve(schema, components);
    if let Some(alts) = alternatives(schema) {
        return alts.into_iter().flat_map(|a| object_variants(a, components)).collect();
    }
    let typed_object = match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if typed_object || schema.get("properties").is_some() {
        vec![schema]
    } else {
        Vec::new()
    }
}

/// The variants whose single-valued tag properties (`"kind": {"enum": ["range"]}`) agree
/// with the object sent.
fn matching_variants<'a>(
    schema: &'a Value,
    sent: &Map<String, Value>,
    components: &'a Map<String, Value>,
) -> Vec<&'a Value> {
    object_variants(schema, components)
        .into_iter()
        .filter(|variant| {
            properties(variant).iter().all(|(key, prop)| {
                let prop = resolve(prop, components);
                match (prop.get("enum").and_then(Value::as_array), sent.get(key)) {
                    (Some(tag), Some(v)) if tag.len() == 1 => &tag[0] == v,
                    _ => true,
                }
            })
        })
        .collect()
}

fn properties(object: &Value) -> Map<String, Value> {
    object.get("properties").and_then(Value::as_object).cloned().unwrap_or_default()
}

pub fn required(object: &Value) -> Vec<&str> {
    object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Free text: a string schema that is not an enumeration.
pub fn is_text(schema: &Value, components: &Map<String, Value>) -> bool {
    let schema = resolve(schema, components);
    if let Some(alts) = alternatives(schema) {
        return !alts.is_empty() && alts.into_iter().all(|a| is_text(a, components));
    }
    let stringy = match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => {
            ts.iter().any(|t| t == "string") && ts.iter().all(|t| t == "string" || t == "null")
        }
        _ => false,
    };
    stringy && schema.get("enum").is_none() && schema.get("const").is_none()
}

/// An optional text field of this object schema: `""` means absent.
pub fn is_optional_text(object: &Value, key: &str, components: &Map<String, Value>) -> bool {
    !required(object).contains(&key)
        && object.get("properties").and_then(|p| p.get(key)).is_some_and(|p| is_text(p, components))
}

fn array_items<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> Option<&'a Value> {
    let schema = resolve(schema, components);
    if let Some(items) = schema.get("items") {
        return Some(items);
    }
    alternatives(schema)?.into_iter().find_map(|a| array_items(a, components))
}

fn drop_empty(value: &mut Value, schema: &Value, components: &Map<String, Value>) {
    match value {
        Value::Object(map) => {
            let variants = matching_variants(schema, map, components);
            if variants.is_empty() {
                return;
            }
            map.retain(|k, v| {
                !(v.as_str() == Some("")
                    && variants.iter().all(|o| is_optional_text(o, k, components)))
            });
            for (k, v) in map.iter_mut() {
                if let Some(prop) = variants.iter().find_map(|o| o.get("properties")?.get(k)) {
                    drop_empty(v, prop, components);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = array_items(schema, components) {
                items.iter_mut().for_each(|v| drop_empty(v, item, components));
            }
        }
        _ => {}
    }
}

/// A step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A JSON path as a field name: `registered_address.city`, `findings[2].code`, or `body`.
pub fn field_name(steps: &[Step]) -> String {
    let mut s = String::new();
    for step in steps {
        match step {
            Step::Key(k) if s.is_empty() => s.push_str(k),
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        "body".into()
    } else {
        s
    }
}

/// What the schema finds wrong before any deserialising.
#[derive(Debug, PartialEq)]
pub enum Finding {
    /// A required field is absent (the path names the field).
    Missing,
    /// An array where only an object will do (serde would read it field by field).
    NotAnObject,
    /// A number or a list outside the schema's bounds; the message says which.
    OutOfBounds(String),
}

/// The schemas a value may be checked against: the schema itself and its alternatives.
fn candidates<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> Vec<&'a Value> {
    let schema = resolve(schema, components);
    let mut out = vec![schema];
    if let Some(alts) = alternatives(schema) {
        out.extend(alts.into_iter().map(|a| resolve(a, components)));
    }
    out
}

/// What is wrong with a number or a list under the bounds its schema states, if anything.
fn out_of_bounds(value: &Value, schema: &Value, components: &Map<String, Value>) -> Option<String> {
    let (low, high, n) = match value {
        Value::Number(n) => ("minimum", "maximum", n.as_f64()?),
        Value::Array(items) => ("minItems", "maxItems", items.len() as f64),
        _ => return None,
    };
    let bounded = candidates(schema, components)
        .into_iter()
        .find(|s| s.get(low).is_some() || s.get(high).is_some())?;
    let (min, max) = (bounded.get(low), bounded.get(high));
    let below = min.and_then(Value::as_f64).is_some_and(|m| n < m);
    let above = max.and_then(Value::as_f64).is_some_and(|m| n > m);
    if !below && !above {
        return None;
    }
    Some(match (value, min, max) {
        (Value::Number(_), Some(a), Some(b)) => format!("must be from {a} to {b}"),
        (Value::Number(_), Some(a), None) => format!("must be at least {a}"),
        (Value::Number(_), _, Some(b)) => format!("must be at most {b}"),
        (_, Some(a), _) if below && a.as_u64() == Some(1) => "may not be empty".to_string(),
        (_, Some(a), _) if below => format!("must have at least {a} items"),
        (_, _, Some(b)) => format!("must have at most {b} items"),
        _ => return None,
    })
}

fn check(
    value: &Value,
    schema: &Value,
    components: &Map<String, Value>,
    at: &mut Vec<Step>,
    out: &mut Vec<(Vec<Step>, Finding)>,
) {
    if let Some(message) = out_of_bounds(value, schema, components) {
        out.push((at.clone(), Finding::OutOfBounds(message)));
        return;
    }
    match value {
        Value::Object(map) => {
            let variants = matching_variants(schema, map, components);
            let [object] = variants.as_slice() else { return };
            for key in required(object) {
                if !map.contains_key(key) {
                    let mut path = at.clone();
                    path.push(Step::Key(key.to_string()));
                    out.push((path, Finding::Missing));
                }
            }
            for (k, v) in map {
                if let Some(prop) = object.get("properties").and_then(|p| p.get(k)) {
                    at.push(Step::Key(k.clone()));
                    check(v, prop, components, at, out);
                    at.pop();
                }
            }
        }
        Value::Array(items) => match array_items(schema, components) {
            Some(item) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(Step::Index(i));
                    check(v, item, components, at, out);
                    at.pop();
                }
            }
            None if !object_variants(schema, components).is_empty() => {
                out.push((at.clone(), Finding::NotAnObject));
            }
            None => {}
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape() -> Shape {
        let components = json!({
            "Name": {"type": "string", "minLength": 1},
            "Address": {"type": "object", "required": ["line1"], "properties": {
                "line1": {"$ref": "#/components/schemas/Name"},
                "line2": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Name"}]},
                "kind": {"type": "string", "enum": ["home", "work"]}
            }}
        });
        Shape {
            root: json!({"type": "object", "required": ["name", "address"], "properties": {
                "name": {"$ref": "#/components/schemas/Name"},
                "notes": {"type": ["string", "null"]},
                "address": {"$ref": "#/components/schemas/Address"},
                "more": {"type": "array", "items": {"$ref": "#/components/schemas/Address"}},
                "seats": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
                "share": {"type": "number", "minimum": 0},
                "tags": {"type": ["array", "null"], "minItems": 1, "maxItems": 2,
                         "items": {"type": "string"}}
            }}),
            components: components.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn empty_optional_text_is_dropped_and_required_text_kept() {
        let mut v = json!({"name": "", "notes": "", "address": {"line1": "", "line2": "", "kind": ""},
                           "more": [{"line1": "x", "line2": ""}]});
        shape().drop_empty_optional_text(&mut v);
        assert_eq!(
            v,
            json!({"name": "", "address": {"line1": "", "kind": ""}, "more": [{"line1": "x"}]})
        );
    }

    #[test]
    fn missing_required_fields_and_arrays_for_objects() {
        let v = json!({"address": {"line2": "b"}, "more": [{}, ["x"]]});
        let found: Vec<(String, Finding)> =
            shape().check(&v).into_iter().map(|(p, f)| (field_name(&p), f)).collect();
        assert_eq!(
            found,
            [
                ("name".to_string(), Finding::Missing),
                ("address.line1".to_string(), Finding::Missing),
                ("more[0].line1".to_string(), Finding::Missing),
                ("more[1]".to_string(), Finding::NotAnObject),
            ]
        );
    }

    #[test]
    fn numbers_and_lists_outside_their_bounds() {
        let found = |v: serde_json::Value| -> Vec<(String, Finding)> {
            shape().check(&v).into_iter().map(|(p, f)| (field_name(&p), f)).collect()
        };
        let base = json!({"name": "n", "address": {"line1": "x"}});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        assert_eq!(found(base.clone()), []);
        for ok in [
            ("seats", json!(1)),
            ("seats", json!(100)),
            ("seats", json!(null)),
            ("share", json!(0.5)),
            ("tags", json!(["a", "b"])),
        ] {
            assert_eq!(found(with(ok.0, ok.1.clone())), [], "{ok:?}");
        }
        let bad = |k: &str, v: serde_json::Value, message: &str| {
            assert_eq!(
                found(with(k, v)),
                [(k.to_string(), Finding::OutOfBounds(message.to_string()))]
            );
        };
        bad("seats", json!(0), "must be from 1 to 100");
        bad("seats", json!(101), "must be from 1 to 100");
        bad("share", json!(-0.01), "must be at least 0");
        bad("tags", json!([]), "may not be empty");
        bad("tags", json!(["a", "b", "c"]), "must have at most 2 items");
    }
}
