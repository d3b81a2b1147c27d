//! A manifest being read field by field: what lift takes out is consumed,
//! and whatever is left at the end is, by construction, listed as
//! unsupported. Nothing can be dropped silently.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Unsupported;

/// One resource's remaining fields.
pub(super) struct Tree {
    /// `Kind/name`, for reports.
    pub(super) resource: String,
    rest: Value,
    /// Pointers under which something was taken (their leftovers are listed
    /// one by one; an untouched subtree is listed whole).
    touched: BTreeSet<String>,
}

impl Tree {
    pub(super) fn new(resource: String, doc: &Value) -> Tree {
        Tree {
            resource,
            rest: doc.clone(),
            touched: BTreeSet::new(),
        }
    }

    /// The value at `pointer`, left in place.
    pub(super) fn get(&self, pointer: &str) -> Option<&Value> {
        self.rest.pointer(pointer).filter(|v| !v.is_null())
    }

    /// Takes the value at `pointer` out (null when absent).
    pub(super) fn take(&mut self, pointer: &str) -> Option<Value> {
        let (parent, key) = pointer.rsplit_once('/')?;
        self.touch(parent);
        let key = key.replace("~1", "/").replace("~0", "~");
        let taken = match self.rest.pointer_mut(parent)? {
            Value::Object(map) => map.shift_remove(&key),
            Value::Array(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .map(Value::take),
            _ => None,
        };
        taken.filter(|v| !v.is_null())
    }

    /// Takes a string.
    pub(super) fn string(&mut self, pointer: &str) -> Option<String> {
        match self.get(pointer)? {
            Value::String(_) => self.take(pointer).and_then(|v| v.as_str().map(str::to_string)),
            _ => None,
        }
    }

    /// Takes a non-negative integer that fits a u32.
    pub(super) fn number(&mut self, pointer: &str) -> Option<u32> {
        let n = self.get(pointer)?.as_u64().and_then(|n| u32::try_from(n).ok())?;
        self.take(pointer);
        Some(n)
    }

    /// Takes a list of strings (all or nothing).
    pub(super) fn strings(&mut self, pointer: &str) -> Option<Vec<String>> {
        let list: Option<Vec<String>> = self
            .get(pointer)?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect();
        let list = list?;
        self.take(pointer);
        Some(list)
    }

    /// Takes the value when it equals `expected` (a field we always render
    /// with that value).
    pub(super) fn take_if(&mut self, pointer: &str, expected: &Value) -> bool {
        let equal = self.get(pointer).is_some_and(|v| same(v, expected));
        if equal {
            self.take(pointer);
        }
        equal
    }

    /// Marks `pointer` and its ancestors as read into.
    pub(super) fn touch(&mut self, pointer: &str) {
        let mut at = pointer.to_string();
        loop {
            self.touched.insert(at.clone());
            match at.rsplit_once('/') {
                Some((parent, _)) => at = parent.to_string(),
                None => return,
            }
        }
    }

    /// Length of the list at `pointer` (0 when absent).
    pub(super) fn len(&self, pointer: &str) -> usize {
        self.get(pointer).and_then(Value::as_array).map_or(0, Vec::len)
    }

    /// Everything left, as unsupported entries with `reason`, whole
    /// subtrees where nothing was taken.
    pub(super) fn leftovers(&self, reason: impl Fn(&str) -> String) -> Vec<Unsupported> {
        let mut out = Vec::new();
        self.walk("", &self.rest, &reason, &mut out);
        out
    }

    fn walk(&self, at: &str, value: &Value, reason: &dyn Fn(&str) -> String, out: &mut Vec<Unsupported>) {
        let touched = self.touched.contains(at);
        match value {
            Value::Null => {}
            Value::Object(map) if touched => {
                for (k, v) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    self.walk(&format!("{at}/{key}"), v, reason, out);
                }
            }
            Value::Array(items) if touched => {
                for (i, v) in items.iter().enumerate() {
                    self.walk(&format!("{at}/{i}"), v, reason, out);
                }
            }
            _ => out.push(Unsupported {
                resource: self.resource.clone(),
                path: at.to_string(),
                value: value.clone(),
                reason: reason(at),
            }),
        }
    }
}

/// Equal as Kubernetes reads them: a number and the same number written as
/// a string (`cpu: 1` and `cpu: "1"`) are one value.
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => n.to_string() == *s,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_is_not_taken_is_left_over_whole_or_field_by_field() {
        let doc = json!({"spec": {"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": {"f": 3}}});
        let mut t = Tree::new("X/y".into(), &doc);
        assert_eq!(t.number("/spec/a"), Some(1));
        assert_eq!(t.number("/spec/b/c"), Some(2));
        let left: Vec<String> = t.leftovers(|_| "r".into()).into_iter().map(|u| u.path).collect();
        assert_eq!(left, ["/spec/b/d", "/spec/e"]);
        assert!(same(&json!(1), &json!("1")) && !same(&json!(1), &json!("1.0")));
    }
}
