//! Hostile text: bidi controls in intents, control characters in object
//! names (issue 13, item 8).

use std::io::Write;
use std::process::Stdio;

use serde_json::json;

use super::{gitintent, stderr};
use crate::util::service::{plan, token_blocks, Gitops, Service, ADMIN};

/// "deploy redis in staging" that displays as something else.
const BIDI: &str = "deploy redis in \u{202E}gnigats\u{202C} staging";

#[test]
fn the_cli_refuses_a_bidi_control_in_an_intent_as_bad_input() {
    for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
        let intent = format!("deploy redis {c}in staging");
        let out = gitintent(&["plan", &intent], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("bidirectional control character (U+{:04X})", c as u32)),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_refuses_a_bidi_control_with_a_422() {
    let gitops = Gitops::new();
    let service = Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await;
    let r = plan(&service, ADMIN, json!({ "intent": BIDI, "repo": "gitops" })).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "invalid_intent");
    assert!(r.text.contains("U+202E"), "{}", r.text);
}

#[test]
fn validate_reports_a_nul_in_metadata_name() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"web\\0evil\"\ndata: {}\n";
    let mut child = crate::util::bin::gitintent()
        .args(["validate", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifest.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/metadata/name"), "{text}");
    assert!(text.contains("U+0000"), "{text}");
}
