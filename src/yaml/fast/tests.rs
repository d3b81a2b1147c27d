//! The fast parser checked against serde-saphyr: the same value and the same
//! duplicate keys for every input it takes, and a fallback for what it does not.

use super::*;
use serde_json::Value;

/// What the serde-saphyr path produces.
fn slow(text: &str) -> Result<(Value, Vec<(String, String)>), String> {
    super::super::parse::slow(text)
}

fn fast(text: &str) -> Option<(Value, Vec<(String, String)>)> {
    parse(text).map(|(tree, root, d)| {
        let mut d: Vec<_> = d.into_iter().map(Duplicate::into_pointer).collect();
        d.sort();
        (tree.to_value(root), d)
    })
}

/// The fast parser either declines or agrees with serde-saphyr.
fn agrees(text: &str) -> bool {
    match fast(text) {
        None => false,
        Some(fast) => {
            assert_eq!(Ok(fast), slow(text), "fast and slow disagree on:\n{text}");
            true
        }
    }
}

#[test]
fn common_manifest_shapes_take_the_fast_path_and_agree() {
    for text in [
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web # the name\n  labels: {app: web, tier: \"front\"}\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n  - {port: 443, name: 'it''s'}\n",
        "a:\n- x\n- - y\n  - z\n-\n  k: v\nb: [1, -2, [], {}, \"q\\\"\\u00e9\"]\nc: ~\nd: yes\ne: Off\nf: 100m\ng: 128Mi\nh: 25%\ni: http://x:8080/p\n",
        "data:\n  script: |\n    #!/bin/sh\n    echo hi\n\n      indented\n\n  stripped: |-\n    one\n    two\n  after: 1\n",
        "spec:\n  containers:\n  - name: a\n    args: [\"--x=1\", --y]\n    env:\n    - name: A\n      value: \"1\"\n  - name: b\n",
        "dup: 1\nnested:\n  k: 1\n  k: 2\n  z: ~\n  z: 3\nlist:\n- {a: 1, a: 2}\ndup: 2\n",
        "  indented: root\n  other: 2\n",
        "# only\n# comments\n",
        "key:   spaced   \n\"quoted key\": v\n'single': w\n",
        "- a\n- b: 1\n  c: 2\n",
    ] {
        assert!(agrees(text), "fell back on:\n{text}");
    }
}

#[test]
fn tricky_but_supported_shapes_agree() {
    let (mut taken, mut declined) = (0, Vec::new());
    for text in [
        "\"a:b\": c\nd: e#f\nurl: http://x/#frag\nq: 'it''s'\nempty: [ ]\nnested: [[1, [2]], {a: [b]}]\n",
        "- - - x\n    - y\n  - z\n- \n-\n- ''\n",
        "a: 1\r\nb:\r\n  c: 2\r\n",
        "key: # comment\n  nested: 1\nlist:\n# between\n- 1\n\n- 2\n",
        "text: |\n  last line without newline",
        "text: |-\n\n  after blank\n",
        "a:: b\nc: d:e\n",
        "k: {x: \"1\", y: '2', z: [], w: {}}\n",
        "ports:\n- port: 80\n  targetPort: 8080\n  protocol: TCP\n- {port: 443}\n",
        "hello\n",
        "n: -0\no: +1\np: 1e3\nq: 0\nr: -12\ns: .5\nt: 12:30\n",
        "x: True\ny: NO\nz: Null\nw: ~\nv: nan\nu: Infinity\n",
    ] {
        // Whether taken or declined, never a different result.
        if let Some(fast) = fast(text) {
            taken += 1;
            assert_eq!(Ok(fast), slow(text), "fast and slow disagree on:\n{text}");
        } else {
            declined.push(text);
        }
    }
    // All but the two lists of YAML 1.1 look-alike scalars (`+1`, `12:30`,
    // `NO`, `nan`, …), which the fast path leaves to serde-saphyr.
    assert_eq!(
        taken, 10,
        "the fast path declined a supported shape: {declined:?}"
    );
    assert!(declined
        .iter()
        .all(|t| t.starts_with("n: -0") || t.starts_with("x: True")));
}

#[test]
fn kubeconform_fixtures_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubeconform-fixtures");
    let files = crate::validate::read(&[dir]).unwrap();
    let (mut taken, mut total) = (0, 0);
    for file in &files {
        for doc in super::super::parse::documents(&file.content, &file.content) {
            total += 1;
            if let Some(fast) = fast(doc.text) {
                taken += 1;
                let slow = slow(doc.text);
                assert_eq!(Ok(fast), slow, "{}:\n{}", file.path, doc.text);
            }
        }
    }
    assert!(taken * 10 >= total * 8, "fast path took only {taken} of {total}");
}

/// Mutations of a manifest: wherever the fast parser still answers, it
/// must answer as serde-saphyr does (including rejecting broken YAML).
#[test]
fn mutated_manifests_never_disagree() {
    let bases = [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # c\n  labels: {app: web}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: app\n        args: [\"--x\", '-y']\n        ports:\n        - containerPort: 8080\n          name: http\n        env:\n        - {name: A, value: \"1\"}\n      volumes:\n      - name: tmp\n        emptyDir: {}\ndata:\n  script: |\n    echo hi\n",
        "kind: Service\nmetadata:\n  annotations:\n    \"a.b/c\": \"x\\ty \\u00e9\"\n    'q': 'it''s'\n  name: s\nspec:\n  ports:\n  -  port: 80\n     targetPort: http\n  - - 1\n    - -2\n  selector:\n    app: on\n    n: ~\n    n2: null\n  x: |-\n    a\n\n    b\n  y: 0\n",
    ];
    let pieces = [
        " ", "  ", "-", "- ", ":", ": ", "#", " #", "\"", "'", "\n", "[", "]", "{", "}", ",", "|", "~", "0",
        "a", "\t", "\\", "&", "*", "!", "?", "---", "...", ">", "1.5",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut taken = 0;
    for _ in 0..3000 {
        let base = bases[(next() % 2) as usize];
        let mut text = base.to_owned();
        for _ in 0..=(next() % 3) {
            let mut at = (next() as usize) % text.len();
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if next() % 2 == 0 {
                text.insert_str(at, pieces[(next() as usize) % pieces.len()]);
            } else {
                text.remove(at);
            }
        }
        if let Some(fast) = fast(&text) {
            taken += 1;
            assert_eq!(Ok(fast), slow(&text), "fast and slow disagree on:\n{text}");
        }
    }
    assert!(taken > 300, "fast path took only {taken}");
}

#[test]
fn nesting_past_the_limit_is_declined_for_serde_saphyr_to_refuse() {
    let at = format!("a: {}x{}\n", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(agrees(&at));
    for past in [
        format!("a: {}x{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)),
        format!("{}x\n", "- ".repeat(MAX_DEPTH + 1)),
        format!("{}x\n", "- ".repeat(50_000)),
    ] {
        assert!(fast(&past).is_none());
    }
}

#[test]
fn the_unusual_falls_back() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: >\n  folded\n",
        "a: |+\n  keep\n\n",
        "a: 0.5\n",
        "a: 0x1F\n",
        "a: 007\n",
        "a: nan\n",
        "a: plain\n  continued\n",
        "a: \"two\n  lines\"\n",
        "a: [1,\n  2]\n",
        "? complex\n: key\n",
        "<<: {a: 1}\n",
        "a: 1\n b: 2\n",
        "a:\tb\n",
        "a: b: c\n",
        "~: null key\n",
    ] {
        if let Some(fast) = fast(text) {
            assert_eq!(Ok(fast), slow(text), "fast path took:\n{text}");
        }
    }
    assert!(fast("a: &x 1\n").is_none());
    assert!(fast("a: 0.5\n").is_none());
    assert!(fast("a: plain\n  continued\n").is_none());
}
