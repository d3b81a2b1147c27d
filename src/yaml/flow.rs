//! Flow collections continued below their key's indentation.
//!
//! libyaml (and so kubectl and Go's YAML readers) ignore indentation inside
//! a flow collection, so manifests in the wild close one at the key's own
//! column:
//!
//! ```yaml
//! args: [
//!   "--a"
//! ]
//! ```
//!
//! serde-saphyr refuses that `]` as an indentation error. When, and only
//! when, it does, the caller retries with the continuation lines indented
//! one column past the line that opened the collection. Nothing else
//! changes: line numbers stay, and an input that still fails reports the
//! original error. This does not parse anything itself.

/// `text` with every line that starts inside an open flow collection indented
/// past the line that opened it, or `None` when no line needed it.
pub(crate) fn relax_flow_indentation(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut scan = Scan::default();
    let mut opener_indent = 0usize;
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if scan.depth > 0 && indent <= opener_indent && !line.trim().is_empty() {
            out.push_str(&" ".repeat(opener_indent + 1 - indent));
            changed = true;
        } else if scan.depth == 0 {
            opener_indent = indent;
        }
        out.push_str(line);
        scan.line(line);
    }
    changed.then_some(out)
}

/// Flow depth and quoting carried from one line to the next.
#[derive(Default)]
struct Scan {
    depth: usize,
    quote: Option<u8>,
}

impl Scan {
    fn line(&mut self, line: &str) {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match (self.quote, b) {
                (Some(b'"'), b'\\') => i += 1,
                (Some(q), _) if b == q => {
                    // `''` inside single quotes is an escaped quote.
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        self.quote = None;
                    }
                }
                (Some(_), _) => {}
                (None, b'"' | b'\'') if i == 0 || b" [{,:".contains(&bytes[i - 1]) => self.quote = Some(b),
                (None, b'#') if i == 0 || bytes[i - 1] == b' ' => return,
                (None, b'[' | b'{') => self.depth += 1,
                (None, b']' | b'}') => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::relax_flow_indentation;

    #[test]
    fn closing_brackets_at_the_key_column_are_moved_in() {
        let text = "args: [\n  \"--a\",\n  \"--b\"\n]\nnext: [x,\ny]\n";
        assert_eq!(
            relax_flow_indentation(text).as_deref(),
            Some("args: [\n  \"--a\",\n  \"--b\"\n ]\nnext: [x,\n y]\n")
        );
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_open_anything() {
        assert_eq!(
            relax_flow_indentation("a: \"[\"\nb: '[x'\nc: 1 # [\nd: 2\n"),
            None
        );
        assert_eq!(relax_flow_indentation("a: [1, 2]\nb: {c: d}\n"), None);
    }
}
