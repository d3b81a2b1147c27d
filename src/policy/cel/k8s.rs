//! The Kubernetes CEL libraries gitintent provides on top of the `cel`
//! crate: quantities (`quantity`, `isQuantity`, `sign`, `isInteger`,
//! `asInteger`, `asApproximateFloat`, `add`, `sub`, `isLessThan`,
//! `isGreaterThan`, `compareTo`, `==`) and the regex library (`find`,
//! `findAll`). Not provided (a policy calling them is reported): `url`,
//! `ip`, `cidr`, `authorizer`, `format`, `semver`.

use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelString, Kind, Type, INT_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, StaticVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

/// Names this module adds, for the list of provided functions.
pub(super) const FUNCTIONS: &[&str] = &[
    "quantity",
    "isQuantity",
    "sign",
    "isInteger",
    "asInteger",
    "asApproximateFloat",
    "add",
    "sub",
    "isLessThan",
    "isGreaterThan",
    "compareTo",
    "find",
    "findAll",
];

const QUANTITY: Type = Type::simple_type(Kind::Opaque, "kubernetes.Quantity");
static QUANTITY_TYPE: Type = QUANTITY;

/// A Kubernetes resource quantity, in billionths (exact for every suffix
/// from `n` to `Ei`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Quantity(i128);

const NANO: i128 = 1_000_000_000;

impl Val for Quantity {
    fn get_type(&self) -> &Type {
        &QUANTITY_TYPE
    }
    fn cel_type() -> &'static Type {
        &QUANTITY_TYPE
    }
    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<Quantity>().is_some_and(|o| o == self)
    }
    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(*self)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl StaticVal for Quantity {}

/// Parses `1`, `1.5`, `250m`, `2Gi`, `1e3`, `-3k`… as Kubernetes does.
fn parse(text: &str) -> Option<Quantity> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-')))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let (binary, decimal): (i128, i32) = match suffix {
        "" => (1, 0),
        "Ki" => (1 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        "Pi" => (1 << 50, 0),
        "Ei" => (1 << 60, 0),
        "n" => (1, -9),
        "u" => (1, -6),
        "m" => (1, -3),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        e if e.starts_with(['e', 'E']) => (1, e[1..].parse().ok()?),
        _ => return None,
    };
    let mantissa: i128 = format!("{whole}{fraction}")
        .trim_start_matches('0')
        .parse()
        .unwrap_or(0);
    let exponent = 9 + decimal - i32::try_from(fraction.len()).ok()?;
    let scaled = if exponent >= 0 {
        mantissa.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)?
    } else {
        let divisor = 10i128.checked_pow(u32::try_from(-exponent).ok()?)?;
        (mantissa + divisor - 1) / divisor // below a nano rounds up, as Kubernetes does
    };
    let value = scaled.checked_mul(binary)?;
    Some(Quantity(if negative { -value } else { value }))
}

fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn quantity_arg<'a>(
    args: &'a [CowVal<'_, '_>],
    i: usize,
    function: &str,
) -> Result<&'a Quantity, ExecutionError> {
    args.get(i)
        .and_then(|a| a.downcast_ref::<Quantity>())
        .ok_or_else(|| error(function, "expects a quantity"))
}

fn str_arg<'a>(args: &'a [CowVal<'_, '_>], i: usize, function: &str) -> Result<&'a str, ExecutionError> {
    args.get(i)
        .and_then(|a| a.downcast_ref::<CelString>())
        .map(|s| s.inner())
        .ok_or_else(|| error(function, "expects a string"))
}

fn int_arg(args: &[CowVal<'_, '_>], i: usize, function: &str) -> Result<i64, ExecutionError> {
    args.get(i)
        .and_then(|a| a.downcast_ref::<CelInt>())
        .map(|n| *n.inner())
        .ok_or_else(|| error(function, "expects an int"))
}

type Out<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

fn quantity_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let text = str_arg(&args, 0, "quantity")?;
    let q = parse(text).ok_or_else(|| error("quantity", format!("invalid quantity {text:?}")))?;
    Ok(CowVal::owned(q))
}

fn is_quantity<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelBool::from(
        parse(str_arg(&args, 0, "isQuantity")?).is_some(),
    )))
}

fn sign<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(
        quantity_arg(&args, 0, "sign")?.0.signum() as i64,
    )))
}

fn is_integer<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let q = quantity_arg(&args, 0, "isInteger")?;
    let fits = q.0 % NANO == 0 && i64::try_from(q.0 / NANO).is_ok();
    Ok(CowVal::owned(CelBool::from(fits)))
}

fn as_integer<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let q = quantity_arg(&args, 0, "asInteger")?;
    if q.0 % NANO != 0 {
        return Err(error("asInteger", "the quantity is not an integer"));
    }
    let n = i64::try_from(q.0 / NANO).map_err(|e| error("asInteger", e))?;
    Ok(CowVal::owned(CelInt::from(n)))
}

fn as_float<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let q = quantity_arg(&args, 0, "asApproximateFloat")?;
    Ok(CowVal::owned(CelDouble::from(q.0 as f64 / NANO as f64)))
}

/// The second operand of `add`/`sub`: a quantity or an int.
fn operand(args: &[CowVal<'_, '_>], function: &str) -> Result<i128, ExecutionError> {
    match quantity_arg(args, 1, function) {
        Ok(q) => Ok(q.0),
        Err(_) => Ok(i128::from(int_arg(args, 1, function)?) * NANO),
    }
}

fn add<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let sum = quantity_arg(&args, 0, "add")?
        .0
        .checked_add(operand(&args, "add")?);
    Ok(CowVal::owned(Quantity(
        sum.ok_or_else(|| error("add", "overflow"))?,
    )))
}

fn sub<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let difference = quantity_arg(&args, 0, "sub")?
        .0
        .checked_sub(operand(&args, "sub")?);
    Ok(CowVal::owned(Quantity(
        difference.ok_or_else(|| error("sub", "overflow"))?,
    )))
}

fn compare(args: &[CowVal<'_, '_>], function: &str) -> Result<std::cmp::Ordering, ExecutionError> {
    Ok(quantity_arg(args, 0, function)?.cmp(quantity_arg(args, 1, function)?))
}

fn is_less_than<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelBool::from(
        compare(&args, "isLessThan")?.is_lt(),
    )))
}

fn is_greater_than<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelBool::from(
        compare(&args, "isGreaterThan")?.is_gt(),
    )))
}

fn compare_to<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(compare(&args, "compareTo")? as i64)))
}

fn regex(args: &[CowVal<'_, '_>], function: &str) -> Result<regex_lite::Regex, ExecutionError> {
    regex_lite::Regex::new(str_arg(args, 1, function)?).map_err(|e| error(function, e))
}

fn find<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let found = regex(&args, "find")?
        .find(str_arg(&args, 0, "find")?)
        .map_or(String::new(), |m| m.as_str().to_string());
    Ok(CowVal::owned(CelString::from(found)))
}

fn find_all<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Out<'b, 'v> {
    let limit = match args.len() {
        3 => usize::try_from(int_arg(&args, 2, "findAll")?).unwrap_or(0),
        _ => usize::MAX,
    };
    let all: Vec<Box<dyn Val + 'v>> = regex(&args, "findAll")?
        .find_iter(str_arg(&args, 0, "findAll")?)
        .take(limit)
        .map(|m| Box::new(CelString::from(m.as_str().to_string())) as Box<dyn Val + 'v>)
        .collect();
    Ok(CowVal::owned(CelList::from(all)))
}

/// Adds the libraries to `env`.
pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    let q = || QUANTITY;
    env.add_type(q())?;
    env.add_overload("quantity", "k8s_quantity", vec![STRING_TYPE], quantity_of)?;
    env.add_overload("isQuantity", "k8s_is_quantity", vec![STRING_TYPE], is_quantity)?;
    env.add_member_overload("sign", "k8s_quantity_sign", q(), vec![], sign)?;
    env.add_member_overload("isInteger", "k8s_quantity_is_integer", q(), vec![], is_integer)?;
    env.add_member_overload("asInteger", "k8s_quantity_as_integer", q(), vec![], as_integer)?;
    env.add_member_overload(
        "asApproximateFloat",
        "k8s_quantity_as_float",
        q(),
        vec![],
        as_float,
    )?;
    env.add_member_overload("add", "k8s_quantity_add", q(), vec![q()], add)?;
    env.add_member_overload("add", "k8s_quantity_add_int", q(), vec![INT_TYPE], add)?;
    env.add_member_overload("sub", "k8s_quantity_sub", q(), vec![q()], sub)?;
    env.add_member_overload("sub", "k8s_quantity_sub_int", q(), vec![INT_TYPE], sub)?;
    env.add_member_overload("isLessThan", "k8s_quantity_less", q(), vec![q()], is_less_than)?;
    env.add_member_overload(
        "isGreaterThan",
        "k8s_quantity_greater",
        q(),
        vec![q()],
        is_greater_than,
    )?;
    env.add_member_overload("compareTo", "k8s_quantity_compare", q(), vec![q()], compare_to)?;
    env.add_member_overload("find", "k8s_regex_find", STRING_TYPE, vec![STRING_TYPE], find)?;
    env.add_member_overload(
        "findAll",
        "k8s_regex_find_all",
        STRING_TYPE,
        vec![STRING_TYPE],
        find_all,
    )?;
    env.add_member_overload(
        "findAll",
        "k8s_regex_find_all_n",
        STRING_TYPE,
        vec![STRING_TYPE, INT_TYPE],
        find_all,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_as_kubernetes_reads_them() {
        let n = |s: &str| parse(s).map(|q| q.0);
        assert_eq!(n("1"), Some(NANO));
        assert_eq!(n("250m"), Some(NANO / 4));
        assert_eq!(n("1.5Gi"), Some(3 * (1 << 29) * NANO));
        assert_eq!(n("1e3"), Some(1000 * NANO));
        assert_eq!(n("-2k"), Some(-2000 * NANO));
        assert_eq!(n("1Ki"), n("1024"));
        for bad in ["", "Gi", "1.2.3", "1Q", "abc"] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }
}
