//! The CEL environment policies are compiled and evaluated in: the `cel`
//! crate's standard library, its strings and lists extensions and optional
//! values, built once per process; JSON documents as CEL values; CEL values
//! as message text; and the list of functions it provides, so that a policy
//! calling anything else is reported when it is loaded instead of passing.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cel::common::ast::{CallExpr, Expr};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::types::{CelOptional, DYN_TYPE};
use cel::common::value::{CowVal, Val};
use cel::parser::Macro;
use cel::{Env, ExecutionError, Value as CelValue};
use serde_json::Value;

/// The shared environment (standard library, `strings` and `lists`
/// extensions, optional syntax, regular expressions).
pub(super) fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // Declaring the crate's own extensions on a fresh environment cannot
        // conflict; should it ever, the calls they provide fail at run time
        // and are reported as evaluation errors (never a pass).
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        let _ = env.add_extension(super::k8s::extension);
        let _ = env.add_overload(OR_VALUE, OR_VALUE, vec![DYN_TYPE, DYN_TYPE], or_value);
        let _ = env.add_macro(Macro::receiver("orValue", 1, |helper, target, args| {
            let (Some(target), Some(default)) = (target.take(), args.pop()) else {
                return Ok(None);
            };
            Ok(Some(helper.next_expr(Expr::Call(CallExpr {
                func_name: OR_VALUE.to_string(),
                target: None,
                args: vec![target, default],
            }))))
        }));
        Arc::new(env)
    })
    .clone()
}

/// What `x.orValue(d)` is compiled to (a macro): `x`'s value, or `d` when
/// `x` is an empty optional, and `x` itself when it is not optional, as the
/// Kyverno CLI evaluates it (`pod-security-vpol`'s
/// `disallow-capabilities-strict` reads
/// `container.securityContext.capabilities.add.orValue([])`).
const OR_VALUE: &str = "@gitintent_or_value";

fn or_value<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let default = args
        .pop()
        .ok_or_else(ExecutionError::missing_argument_or_target)?;
    let value = args
        .pop()
        .ok_or_else(ExecutionError::missing_argument_or_target)?;
    let Some(optional) = value.downcast_ref::<CelOptional>() else {
        return Ok(value);
    };
    Ok(match optional.inner() {
        Some(inner) => CowVal::Owned(inner.clone_as_boxed()),
        None => default,
    })
}

/// Functions and methods the environment provides (operators, whose names
/// start with `_`, `@` or `!`, are always there), besides the Kubernetes
/// ones of `k8s.rs`. Libraries listed nowhere (`url`, `ip`, `cidr`,
/// `authorizer`, Kyverno's `resource`, `http`, `image`, `globalContext`, …)
/// are not provided.
const KNOWN: &[&str] = &[
    // macros
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    "sortBy",
    "optMap",
    "optFlatMap",
    // conversions and types
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "string",
    "type",
    "uint",
    "size",
    // strings (standard and extension)
    "contains",
    "endsWith",
    "startsWith",
    "matches",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "join",
    "format",
    "strings.quote",
    "reverse",
    // lists extension
    "slice",
    "flatten",
    "distinct",
    "sort",
    "lists.range",
    // optional values
    "optional.of",
    "optional.ofNonZeroValue",
    "optional.none",
    "hasValue",
    "value",
    "or",
    "orValue",
];

/// The functions `program` calls that the environment does not provide.
pub(super) fn unknown_functions(program: &cel::Program) -> Vec<String> {
    let references = program.references();
    references
        .functions()
        .into_iter()
        .filter(|f| {
            !f.starts_with(['_', '@', '!']) && !KNOWN.contains(f) && !super::k8s::FUNCTIONS.contains(f)
        })
        .map(str::to_string)
        .collect()
}

/// `v` as a CEL value borrowing its strings; integers are `int` (`uint` only
/// beyond `i64`), other numbers `double`.
pub(super) fn to_val(v: &Value) -> Box<dyn Val + '_> {
    match v {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Value::String(s) => Box::new(CelString::from(s.as_str())),
        Value::Array(items) => Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>())),
        Value::Object(map) => Box::new(CelMap::from(
            map.iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), to_val(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

/// A map of already evaluated values (`variables`), as a CEL value.
pub(super) fn map_of<'v>(entries: &[(String, Box<dyn Val + 'v>)]) -> Box<dyn Val + 'v> {
    Box::new(CelMap::from(
        entries
            .iter()
            .map(|(k, v)| (CelMapKey::from(k.clone()), v.clone_as_boxed()))
            .collect::<HashMap<_, _>>(),
    ))
}

/// A CEL result as message text: strings as they are, other values in
/// CEL-like notation.
pub(super) fn text(v: &CelValue) -> String {
    match v {
        CelValue::String(s) => s.to_string(),
        CelValue::Int(i) => i.to_string(),
        CelValue::UInt(u) => format!("{u}u"),
        CelValue::Float(f) => f.to_string(),
        CelValue::Bool(b) => b.to_string(),
        CelValue::Null => "null".to_string(),
        CelValue::List(items) => format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(", ")),
        CelValue::Map(m) => {
            let mut entries: Vec<String> = m
                .map
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), text(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn key_text(k: &cel::objects::Key) -> String {
    match k {
        cel::objects::Key::String(s) => format!("{s:?}"),
        cel::objects::Key::Int(i) => i.to_string(),
        cel::objects::Key::Uint(u) => format!("{u}u"),
        cel::objects::Key::Bool(b) => b.to_string(),
    }
}
