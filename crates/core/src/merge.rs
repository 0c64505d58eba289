//! Deep merge of JSON objects, used for `override_params` (down the config tree, then over
//! the request body). Objects merge key by key; anything else is replaced by the overlay.

use serde_json::{Map, Value};

/// Merges `overlay` into `base`; on conflict `overlay` wins, objects merge recursively.
pub fn deep_merge(base: &mut Map<String, Value>, overlay: &Map<String, Value>) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(Value::Object(b)), Value::Object(o)) => deep_merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn overlay_wins_and_objects_merge() {
        let mut base = obj(json!({"model": "a", "max_tokens": 10, "meta": {"x": 1, "y": 2}, "stop": ["a"]}));
        deep_merge(&mut base, &obj(json!({"model": "b", "meta": {"y": 3, "z": 4}, "stop": ["b"]})));
        assert_eq!(
            Value::Object(base),
            json!({"model": "b", "max_tokens": 10, "meta": {"x": 1, "y": 3, "z": 4}, "stop": ["b"]})
        );
    }

    #[test]
    fn non_object_replaced_by_object() {
        let mut base = obj(json!({"a": 1}));
        deep_merge(&mut base, &obj(json!({"a": {"b": 2}})));
        assert_eq!(Value::Object(base), json!({"a": {"b": 2}}));
    }
}
