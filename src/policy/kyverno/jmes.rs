//! JMESPath as Kyverno evaluates it: the `jmespath` crate's interpreter with
//! Kyverno's custom functions (see `functions`), over a scope of variables
//! (`request`, `element`, context entries). Like Kyverno's go-jmespath fork,
//! a field missing from a map is an error ("Unknown key") unless an
//! enclosing projection, `||`, function argument, pipe or multi-select
//! swallows it; the crate yields `null` there, so the error is recovered by
//! walking the path that propagates it. Expressions are compiled once, when
//! the policy is read; a function gitintent does not implement makes the
//! rule unsupported, never a silent `null`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jmespath::ast::Ast;
use jmespath::{Expression, Rcvar, Runtime, Variable};
use serde_json::Value;

use super::functions;
use super::images::images;

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    functions::register(&mut runtime);
    runtime
});

/// A compiled JMESPath expression.
#[derive(Clone, Debug)]
pub(super) struct Query(Expression<'static>);

/// Why an expression gave no value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum EvalError {
    /// A key is missing where Kyverno reports "Unknown key".
    NotFound(String),
    /// Any other failure (a function given the wrong type, ...).
    Failed(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::NotFound(key) => write!(f, "Unknown key \"{key}\" in path"),
            EvalError::Failed(message) => f.write_str(message),
        }
    }
}

/// Why an expression cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum CompileError {
    /// Not JMESPath.
    Syntax(String),
    /// Uses what gitintent does not implement (a function, `@` in a pattern).
    Unsupported(String),
}

impl Query {
    /// Compiles `text`, refusing functions the runtime does not have.
    pub(super) fn compile(text: &str) -> Result<Query, CompileError> {
        let expr = RUNTIME
            .compile(text)
            .map_err(|e| CompileError::Syntax(e.to_string()))?;
        let mut names = Vec::new();
        function_names(expr.as_ast(), &mut names);
        if let Some(name) = names.into_iter().find(|n| RUNTIME.get_function(n).is_none()) {
            return Err(CompileError::Unsupported(format!("JMESPath function {name}()")));
        }
        Ok(Query(expr))
    }

    /// Evaluates against `data`, with Kyverno's missing-key error.
    #[cfg(test)]
    pub(super) fn search(&self, data: &Rcvar) -> Result<Value, EvalError> {
        self.search_var(data).map(|v| to_value(&v))
    }

    /// [`Query::search`], leaving the result as JMESPath shares it (parts of
    /// `data` are not copied).
    ///
    /// The interpreter is called on `data` itself: `Expression::search`
    /// would first serialise it into a new `Variable` (the crate's
    /// `ToJmespath` for anything but its `specialized` feature), a deep copy
    /// of the whole scope per expression.
    pub(super) fn search_var(&self, data: &Rcvar) -> Result<Rcvar, EvalError> {
        let mut ctx = jmespath::Context::new(self.0.as_str(), &RUNTIME);
        let result = jmespath::interpret(data, self.0.as_ast(), &mut ctx)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        if result.is_null() {
            if let Some(key) = missing_key(self.0.as_ast(), data)? {
                return Err(EvalError::NotFound(key));
            }
        }
        Ok(result)
    }
}

/// A JMESPath value as JSON, converted directly (what serialising it
/// gives: maps in key order, an expression reference as the crate's
/// serialiser writes it).
pub(super) fn to_value(var: &Variable) -> Value {
    match var {
        Variable::Null => Value::Null,
        Variable::Bool(b) => Value::Bool(*b),
        Variable::String(s) => Value::String(s.clone()),
        Variable::Number(n) => Value::Number(n.clone()),
        Variable::Array(items) => Value::Array(items.iter().map(|v| to_value(v)).collect()),
        Variable::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
        Variable::Expref(e) => Value::String(format!("<expression: {e:?}>")),
    }
}

fn function_names(ast: &Ast, out: &mut Vec<String>) {
    match ast {
        Ast::Function { name, args, .. } => {
            out.push(name.clone());
            args.iter().for_each(|a| function_names(a, out));
        }
        Ast::Comparison { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            function_names(lhs, out);
            function_names(rhs, out);
        }
        Ast::Condition { predicate, then, .. } => {
            function_names(predicate, out);
            function_names(then, out);
        }
        Ast::Expref { ast: node, .. }
        | Ast::Flatten { node, .. }
        | Ast::Not { node, .. }
        | Ast::ObjectValues { node, .. } => function_names(node, out),
        Ast::MultiList { elements, .. } => elements.iter().for_each(|a| function_names(a, out)),
        Ast::MultiHash { elements, .. } => elements.iter().for_each(|kv| function_names(&kv.value, out)),
        Ast::Identity { .. }
        | Ast::Field { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// The key whose absence go-jmespath reports as an error for `ast` over
/// `data`: a field missing from a map, propagated through `a.b`/`a[0]`
/// and the right side of `&&` only.
fn missing_key(ast: &Ast, data: &Rcvar) -> Result<Option<String>, EvalError> {
    match ast {
        Ast::Field { name, .. } => Ok(match data.as_object() {
            Some(map) if !map.contains_key(name) => Some(name.clone()),
            _ => None,
        }),
        Ast::Subexpr { lhs, rhs, .. } => {
            if let Some(key) = missing_key(lhs, data)? {
                return Ok(Some(key));
            }
            let left = interpret(lhs, data)?;
            missing_key(rhs, &left)
        }
        Ast::And { lhs, rhs, .. } => {
            if interpret(lhs, data)?.is_truthy() {
                missing_key(rhs, data)
            } else {
                Ok(None)
            }
        }
        _ => Ok(None),
    }
}

/// `value` as a JMESPath value (`null` if it cannot be one).
pub(super) fn variable(value: &Value) -> Variable {
    Variable::try_from(value).unwrap_or(Variable::Null)
}

fn interpret(ast: &Ast, data: &Rcvar) -> Result<Rcvar, EvalError> {
    let mut ctx = jmespath::Context::new("", &RUNTIME);
    jmespath::interpret(data, ast, &mut ctx).map_err(|e| EvalError::Failed(e.to_string()))
}

/// The variables an expression sees: `request`, `element`, context entries.
#[derive(Clone, Debug, Default)]
pub(super) struct Scope {
    vars: BTreeMap<String, Rcvar>,
}

impl Scope {
    /// `request.object` is `object`; the operation is `CREATE` (a manifest
    /// in a repository is about to be created or applied), so
    /// `request.oldObject` is null, as the Kyverno CLI has it; `images` are
    /// the images of its pod, as Kyverno adds them.
    pub(super) fn for_object(object: &Value) -> Scope {
        let request = BTreeMap::from([
            (
                "operation".to_string(),
                Rcvar::new(Variable::String("CREATE".into())),
            ),
            ("object".to_string(), Rcvar::new(variable(object))),
            ("oldObject".to_string(), Rcvar::new(Variable::Null)),
        ]);
        let mut scope = Scope::default();
        scope.set_var("request", Rcvar::new(Variable::Object(request)));
        if let Some(images) = images(object) {
            scope.set("images", &images);
        }
        scope
    }

    pub(super) fn set(&mut self, name: &str, value: &Value) {
        self.set_var(name, Rcvar::new(variable(value)));
    }

    /// Sets `name` to an already converted value (shared, not copied).
    pub(super) fn set_var(&mut self, name: &str, var: Rcvar) {
        self.vars.insert(name.to_string(), var);
    }

    /// The root every expression is evaluated against.
    pub(super) fn root(&self) -> Rcvar {
        Rcvar::new(Variable::Object(self.vars.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, data: Value) -> Result<Value, EvalError> {
        let mut scope = Scope::default();
        for (k, v) in data.as_object().unwrap() {
            scope.set(k, v);
        }
        Query::compile(expr).unwrap().search(&scope.root())
    }

    #[test]
    fn missing_keys_error_as_in_kyverno_unless_swallowed() {
        let data = json!({"request": {"object": {"spec": {"containers": [{"name": "a"}]}}}});
        assert_eq!(
            eval("request.object.metadata.name", data.clone()),
            Err(EvalError::NotFound("metadata".into()))
        );
        assert_eq!(
            eval("request.object.metadata.name || 'x'", data.clone()),
            Ok(json!("x"))
        );
        assert_eq!(
            eval("request.object.spec.initContainers[].name", data.clone()),
            Ok(Value::Null)
        );
        assert_eq!(
            eval(
                "request.object.spec.[initContainers, containers][].name",
                data.clone()
            ),
            Ok(json!(["a"]))
        );
        assert_eq!(eval("length(request.object.spec.containers)", data), Ok(json!(1)));
    }

    #[test]
    fn unknown_functions_are_refused_when_compiling() {
        assert_eq!(
            Query::compile("no_such_fn(@)").err(),
            Some(CompileError::Unsupported("JMESPath function no_such_fn()".into()))
        );
        assert!(matches!(Query::compile("a.["), Err(CompileError::Syntax(_))));
        assert!(Query::compile("to_upper(@)").is_ok());
    }
}
