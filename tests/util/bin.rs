//! The one way tests run the `gitintent` binary: from an empty environment
//! plus an allow-list, so nothing from the developer's shell (`GITINTENT_*`,
//! `OPENAI_API_KEY`, proxies, `KUBECONFIG`, forge tokens, `RUST_LOG`) changes
//! what a test sees. Tests add what they need with `.env(…)`.

use std::process::Command;

/// What a test run inherits from the calling environment, and nothing else.
const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "TZ",
    "RUST_BACKTRACE",
    // coverage tools write their profiles through this one
    "LLVM_PROFILE_FILE",
];

/// `gitintent` with a clean environment and `NO_COLOR=1`.
pub(crate) fn gitintent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gitintent"));
    cmd.env_clear();
    for key in INHERITED {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn nothing_from_the_shell_leaks_into_the_binary() {
    let cmd = gitintent();
    let keys: Vec<String> = cmd
        .get_envs()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for key in &keys {
        assert!(
            INHERITED.contains(&key.as_str()) || key == "NO_COLOR",
            "{key} is passed to the binary"
        );
    }
    assert!(keys.iter().any(|k| k == "NO_COLOR"));
}

/// A running `serve`'s log: every stderr line kept, and the address it
/// printed after "listening on" sent once it appears.
pub(crate) struct Log {
    pub(crate) text: std::sync::Arc<std::sync::Mutex<String>>,
    pub(crate) listening: std::sync::mpsc::Receiver<String>,
    pub(crate) reader: std::thread::JoinHandle<()>,
}

/// Reads `stderr` of a spawned `gitintent serve` on a thread of its own.
pub(crate) fn watch(stderr: std::process::ChildStderr) -> Log {
    use std::io::BufRead;
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, listening) = std::sync::mpsc::channel();
    let reader = {
        let text = text.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
                let mut text = text.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        })
    };
    Log {
        text,
        listening,
        reader,
    }
}
