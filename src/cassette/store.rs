//! Exchange files: one JSON file per request, named after its key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Error;

/// The format version of an exchange file.
const FORMAT: u32 = 1;

/// The key of one model request: hex SHA-256 over the model, the prompt
/// version and the messages (as sent, in order), each length-prefixed so no
/// two different triples can collide by concatenation.
pub fn key(model: &str, prompt_version: &str, messages: &Value) -> String {
    let messages = messages.to_string();
    let mut hash = Sha256::new();
    for part in [model, prompt_version, messages.as_str()] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// One stored request and the endpoint's answer to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// The file format version (1).
    pub format: u32,
    pub key: String,
    pub model: String,
    pub prompt_version: String,
    /// The request body exactly as the planner sent it (no headers).
    pub request: Value,
    /// The endpoint's 200 response body.
    pub response: Value,
}

impl Exchange {
    /// An exchange for `request`, keyed from its model and messages.
    pub fn new(prompt_version: &str, request: Value, response: Value) -> Exchange {
        let model = request["model"].as_str().unwrap_or_default().to_string();
        Exchange {
            format: FORMAT,
            key: key(&model, prompt_version, &request["messages"]),
            model,
            prompt_version: prompt_version.to_string(),
            request,
            response,
        }
    }
}

/// A directory of exchange files (`<key>.json`).
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens `dir`, creating it when `create` is set.
    pub fn open(dir: &Path, create: bool) -> Result<Store, Error> {
        let fail = |source| Error::Dir {
            path: dir.to_path_buf(),
            source,
        };
        if create {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        if !dir.is_dir() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not a directory",
            )));
        }
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The exchange stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Exchange>, Error> {
        // Keys are ours (hex), but refuse anything else before touching a path.
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let path = self.path(key);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Dir { path, source }),
        };
        let corrupt = |message: String| Error::Corrupt {
            path: path.clone(),
            message,
        };
        let exchange: Exchange = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        if exchange.format != FORMAT {
            return Err(corrupt(format!("format {} is not {FORMAT}", exchange.format)));
        }
        if exchange.key != key {
            return Err(corrupt(format!("it holds key {}", exchange.key)));
        }
        Ok(Some(exchange))
    }

    /// Stores an exchange (write to a temporary file, then rename, so a
    /// reader never sees half a file); returns its path.
    pub fn put(&self, exchange: &Exchange) -> Result<PathBuf, Error> {
        let path = self.path(&exchange.key);
        let tmp = self.dir.join(format!(".{}.tmp", exchange.key));
        let mut text = serde_json::to_string_pretty(exchange).map_err(|e| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_key_depends_on_model_prompt_version_and_messages() {
        let m = json!([{"role": "user", "content": "deploy redis"}]);
        let k = key("gpt-4o", "v1", &m);
        assert_eq!(k.len(), 64);
        assert_eq!(k, key("gpt-4o", "v1", &m));
        assert_ne!(k, key("gpt-4o-mini", "v1", &m));
        assert_ne!(k, key("gpt-4o", "v2", &m));
        assert_ne!(
            k,
            key(
                "gpt-4o",
                "v1",
                &json!([{"role": "user", "content": "deploy redis!"}])
            )
        );
        // Length prefixes: moving a boundary changes the key.
        assert_ne!(key("ab", "c", &m), key("a", "bc", &m));
    }

    #[test]
    fn an_exchange_round_trips_and_a_mislabelled_file_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rec"), true).unwrap();
        let request = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        let exchange = Exchange::new("v1", request, json!({"ok": true}));
        let path = store.put(&exchange).unwrap();
        assert_eq!(store.get(&exchange.key).unwrap(), Some(exchange.clone()));
        assert_eq!(store.get(&"0".repeat(64)).unwrap(), None);
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);

        let other = "f".repeat(64);
        std::fs::copy(&path, store.path(&other)).unwrap();
        let err = store.get(&other).unwrap_err().to_string();
        assert!(err.contains("holds key"), "{err}");
    }
}
