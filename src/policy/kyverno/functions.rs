//! Kyverno's custom JMESPath functions, as Kyverno defines them: strings
//! (`to_upper`, `to_lower`, `trim`, `trim_prefix`, `split`, `replace`,
//! `replace_all`, `equal_fold`, `compare`, `truncate`), matching
//! (`regex_match`, `regex_replace_all`, `regex_replace_all_literal`,
//! `pattern_match`, `label_match`), conversions (`to_boolean`,
//! `base64_decode`, `base64_encode`, `parse_json`, `parse_yaml`) and
//! structure (`lookup`, `items`, `object_from_lists`). Kyverno's other
//! functions (arithmetic on quantities, time, x509, random, ...) are not
//! registered, so a rule using one is reported as not evaluable.

use base64::Engine as _;
use jmespath::functions::{ArgumentType as Arg, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::Value;

use super::pattern::wildcard;

type Out = Result<Rcvar, JmespathError>;

fn fail(ctx: &Context<'_>, message: String) -> JmespathError {
    JmespathError::from_ctx(ctx, ErrorReason::Parse(message))
}

fn text(v: &Rcvar) -> String {
    v.as_string().cloned().unwrap_or_default()
}

fn string(s: impl Into<String>) -> Out {
    Ok(Rcvar::new(Variable::String(s.into())))
}

fn from_json(ctx: &Context<'_>, v: Value) -> Out {
    Variable::try_from(v)
        .map(Rcvar::new)
        .map_err(|e| fail(ctx, e.to_string()))
}

/// A string or a number as Kyverno's `ifaceToString` writes it.
fn text_or_number(ctx: &Context<'_>, v: &Rcvar, name: &str) -> Result<String, JmespathError> {
    match &**v {
        Variable::String(s) => Ok(s.clone()),
        Variable::Number(n) => Ok(n.to_string()),
        Variable::Bool(b) => Ok(b.to_string()),
        _ => Err(fail(ctx, format!("{name}: expected a string or a number"))),
    }
}

fn regex(ctx: &Context<'_>, pattern: &str) -> Result<regex_lite::Regex, JmespathError> {
    regex_lite::Regex::new(pattern).map_err(|e| fail(ctx, e.to_string()))
}

fn add(runtime: &mut Runtime, name: &str, inputs: Vec<Arg>, f: fn(&[Rcvar], &mut Context<'_>) -> Out) {
    runtime.register_function(
        name,
        Box::new(CustomFunction::new(Signature::new(inputs, None), Box::new(f))),
    );
}

/// Registers the functions on `runtime`.
pub(super) fn register(runtime: &mut Runtime) {
    register_strings(runtime);
    register_edits(runtime);
    register_matching(runtime);
    register_conversions(runtime);
    add(runtime, "lookup", vec![Arg::Any, Arg::Any], lookup);
    add(runtime, "items", vec![Arg::Any, Arg::String, Arg::String], items);
    add(
        runtime,
        "object_from_lists",
        vec![Arg::Array, Arg::Array],
        object_from_lists,
    );
}

fn register_strings(runtime: &mut Runtime) {
    use Arg::String as Str;
    add(runtime, "to_upper", vec![Str], |a, _| {
        string(text(&a[0]).to_uppercase())
    });
    add(runtime, "to_lower", vec![Str], |a, _| {
        string(text(&a[0]).to_lowercase())
    });
    add(runtime, "trim", vec![Str, Str], |a, _| {
        let cut = text(&a[1]);
        string(text(&a[0]).trim_matches(|c| cut.contains(c)))
    });
    add(runtime, "trim_prefix", vec![Str, Str], |a, _| {
        let (s, p) = (text(&a[0]), text(&a[1]));
        string(s.strip_prefix(p.as_str()).unwrap_or(&s))
    });
    add(runtime, "split", vec![Str, Str], |a, _| {
        let (s, sep) = (text(&a[0]), text(&a[1]));
        let parts: Vec<Rcvar> = if sep.is_empty() {
            s.chars()
                .map(|c| Rcvar::new(Variable::String(c.to_string())))
                .collect()
        } else {
            s.split(sep.as_str())
                .map(|p| Rcvar::new(Variable::String(p.to_string())))
                .collect()
        };
        Ok(Rcvar::new(Variable::Array(parts)))
    });
}

fn register_edits(runtime: &mut Runtime) {
    use Arg::{Number, String as Str};
    add(runtime, "replace", vec![Str, Str, Str, Number], |a, _| {
        let (s, old, new) = (text(&a[0]), text(&a[1]), text(&a[2]));
        let n = a[3].as_number().unwrap_or(-1.0);
        if n < 0.0 {
            string(s.replace(&old, &new))
        } else {
            string(s.replacen(&old, &new, n as usize))
        }
    });
    add(runtime, "replace_all", vec![Str, Str, Str], |a, _| {
        string(text(&a[0]).replace(&text(&a[1]), &text(&a[2])))
    });
    add(runtime, "equal_fold", vec![Str, Str], |a, _| {
        Ok(Rcvar::new(Variable::Bool(
            text(&a[0]).to_lowercase() == text(&a[1]).to_lowercase(),
        )))
    });
    add(runtime, "compare", vec![Str, Str], |a, _| {
        let order = text(&a[0]).cmp(&text(&a[1])) as i64;
        Ok(Rcvar::new(Variable::Number(order.into())))
    });
    add(runtime, "truncate", vec![Str, Number], |a, _| {
        let n = a[1].as_number().unwrap_or(0.0).max(0.0) as usize;
        string(text(&a[0]).chars().take(n).collect::<String>())
    });
}

fn object_from_lists(a: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let empty = Vec::new();
    let keys = a[0].as_array().unwrap_or(&empty);
    let values = a[1].as_array().unwrap_or(&empty);
    let mut out = std::collections::BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let value = values
            .get(i)
            .cloned()
            .unwrap_or_else(|| Rcvar::new(Variable::Null));
        out.insert(text_or_number(ctx, key, "object_from_lists")?, value);
    }
    Ok(Rcvar::new(Variable::Object(out)))
}

fn register_matching(runtime: &mut Runtime) {
    use Arg::{Any, Object, String as Str};
    add(runtime, "regex_match", vec![Str, Any], |a, ctx| {
        let source = text_or_number(ctx, &a[1], "regex_match")?;
        Ok(Rcvar::new(Variable::Bool(
            regex(ctx, &text(&a[0]))?.is_match(&source),
        )))
    });
    add(runtime, "regex_replace_all", vec![Str, Any, Any], |a, ctx| {
        let source = text_or_number(ctx, &a[1], "regex_replace_all")?;
        let with = text_or_number(ctx, &a[2], "regex_replace_all")?;
        string(regex(ctx, &text(&a[0]))?.replace_all(&source, with.as_str()))
    });
    add(
        runtime,
        "regex_replace_all_literal",
        vec![Str, Any, Any],
        |a, ctx| {
            let source = text_or_number(ctx, &a[1], "regex_replace_all_literal")?;
            let with = text_or_number(ctx, &a[2], "regex_replace_all_literal")?;
            string(regex(ctx, &text(&a[0]))?.replace_all(&source, regex_lite::NoExpand(&with)))
        },
    );
    add(runtime, "pattern_match", vec![Str, Any], |a, ctx| {
        let source = text_or_number(ctx, &a[1], "pattern_match")?;
        Ok(Rcvar::new(Variable::Bool(wildcard(&text(&a[0]), &source))))
    });
    add(runtime, "label_match", vec![Object, Object], |a, _| {
        let (labels, of) = (a[0].as_object(), a[1].as_object());
        let holds = labels
            .into_iter()
            .flatten()
            .all(|(k, v)| of.and_then(|m| m.get(k)).is_some_and(|w| w == v));
        Ok(Rcvar::new(Variable::Bool(holds)))
    });
}

fn register_conversions(runtime: &mut Runtime) {
    use Arg::String as Str;
    add(runtime, "to_boolean", vec![Str], |a, ctx| {
        match text(&a[0]).to_lowercase().as_str() {
            "true" => Ok(Rcvar::new(Variable::Bool(true))),
            "false" => Ok(Rcvar::new(Variable::Bool(false))),
            other => Err(fail(
                ctx,
                format!("to_boolean: {other:?} is not 'true' or 'false'"),
            )),
        }
    });
    add(runtime, "base64_decode", vec![Str], |a, ctx| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text(&a[0]))
            .map_err(|e| fail(ctx, format!("base64_decode: {e}")))?;
        string(String::from_utf8_lossy(&bytes))
    });
    add(runtime, "base64_encode", vec![Str], |a, _| {
        string(base64::engine::general_purpose::STANDARD.encode(text(&a[0])))
    });
    add(runtime, "parse_json", vec![Str], |a, ctx| {
        let v: Value =
            serde_json::from_str(&text(&a[0])).map_err(|e| fail(ctx, format!("parse_json: {e}")))?;
        from_json(ctx, v)
    });
    add(runtime, "parse_yaml", vec![Str], |a, ctx| {
        let v = crate::yaml::value(&text(&a[0])).map_err(|e| fail(ctx, format!("parse_yaml: {e}")))?;
        from_json(ctx, v)
    });
}

fn lookup(a: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    match (&*a[0], &*a[1]) {
        (Variable::Object(map), Variable::String(key)) => Ok(map
            .get(key)
            .cloned()
            .unwrap_or_else(|| Rcvar::new(Variable::Null))),
        (Variable::Array(items), Variable::Number(n)) => {
            let i = n.as_f64().unwrap_or(-1.0);
            if i.fract() != 0.0 {
                return Err(fail(ctx, "lookup: the index must be an integer".into()));
            }
            Ok(usize::try_from(i as i64)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or_else(|| Rcvar::new(Variable::Null)))
        }
        _ => Err(fail(
            ctx,
            "lookup: expected an object and a string, or an array and a number".into(),
        )),
    }
}

fn items(a: &[Rcvar], ctx: &mut Context<'_>) -> Out {
    let (key_name, value_name) = (text(&a[1]), text(&a[2]));
    let pair = |k: Variable, v: Rcvar| {
        let mut m = std::collections::BTreeMap::new();
        m.insert(key_name.clone(), Rcvar::new(k));
        m.insert(value_name.clone(), v);
        Rcvar::new(Variable::Object(m))
    };
    let out: Vec<Rcvar> = match &*a[0] {
        Variable::Object(map) => map
            .iter()
            .map(|(k, v)| pair(Variable::String(k.clone()), v.clone()))
            .collect(),
        Variable::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| pair(Variable::Number((i as u64).into()), v.clone()))
            .collect(),
        _ => return Err(fail(ctx, "items: expected an object or an array".into())),
    };
    Ok(Rcvar::new(Variable::Array(out)))
}

#[cfg(test)]
mod tests {
    use super::super::jmes::{Query, Scope};
    use serde_json::{json, Value};

    fn eval(expr: &str, data: Value) -> Value {
        let mut scope = Scope::default();
        scope.set("x", &data);
        Query::compile(expr).unwrap().search(&scope.root()).unwrap()
    }

    #[test]
    fn kyverno_string_functions() {
        assert_eq!(
            eval("x[].to_upper(@)", json!(["net_raw", "all"])),
            json!(["NET_RAW", "ALL"])
        );
        assert_eq!(eval("split(x, ':')", json!("a:b")), json!(["a", "b"]));
        assert_eq!(eval("trim(x, ' -')", json!("- a -")), json!("a"));
        assert_eq!(eval("truncate(x, `3`)", json!("abcdef")), json!("abc"));
        assert_eq!(eval("regex_match('^[a-z]+$', x)", json!("abc")), json!(true));
        assert_eq!(
            eval("regex_replace_all('([a-z])-', x, '$1+')", json!("a-b-")),
            json!("a+b+")
        );
        assert_eq!(eval("pattern_match('nginx:*', x)", json!("nginx:1")), json!(true));
        assert_eq!(eval("base64_decode(x)", json!("aGk=")), json!("hi"));
        assert_eq!(eval("parse_json(x).a", json!("{\"a\": 1}")), json!(1));
        assert_eq!(eval("lookup(x, 'b')", json!({"b": 2})), json!(2));
        assert_eq!(
            eval("items(x, 'k', 'v')", json!({"b": 2})),
            json!([{"k": "b", "v": 2}])
        );
        assert_eq!(
            eval("label_match(`{\"a\": \"1\"}`, x)", json!({"a": "1", "b": "2"})),
            json!(true)
        );
    }
}
