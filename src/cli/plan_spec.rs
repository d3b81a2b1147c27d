//! `gitintent plan --spec FILE`: a spec from a file, checked exactly as a
//! model's reply is (schema, then the spec's own checks).

use std::path::Path;

use gitintent::Spec;

/// Largest spec file read.
const MAX_BYTES: u64 = 1 << 20;

/// Reads a spec (JSON or YAML; a bare spec or `gitintent lift --format
/// json`'s output, whose `spec` is taken). `environment` overrides the file's.
pub(crate) fn read(path: &Path, environment: Option<&str>) -> Result<Spec, String> {
    use std::io::Read as _;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if text.len() as u64 > MAX_BYTES {
        return Err(format!("{shown} is larger than 1 MiB"));
    }
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            gitintent::yaml::value(&text).map_err(|m| format!("{shown} is neither JSON nor YAML: {m}"))?
        }
    };
    let mut value = match value {
        serde_json::Value::Object(mut map) if map.contains_key("unsupported") && map.contains_key("spec") => {
            map.remove("spec").unwrap_or_default()
        }
        other => other,
    };
    if let (Some(env), Some(map)) = (environment, value.as_object_mut()) {
        map.insert("environment".into(), serde_json::Value::String(env.to_string()));
    }
    Spec::from_untrusted_json(&value.to_string()).map_err(|e| format!("{shown}: {e}"))
}
