//! Token counts with the `o200k_base` encoding (GPT-4o and later).
//!
//! The BPE tables are loaded once per process. When they cannot be loaded
//! the counts are `None` rather than a guess.

use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

static O200K: LazyLock<Option<CoreBPE>> = LazyLock::new(|| tiktoken_rs::o200k_base().ok());

/// The number of `o200k_base` tokens in `text`.
pub fn count(text: &str) -> Option<u64> {
    O200K
        .as_ref()
        .map(|bpe| bpe.encode_with_special_tokens(text).len() as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_plausible_and_stable() {
        let n = super::count("apiVersion: apps/v1\nkind: Deployment\n").unwrap();
        assert!((5..=20).contains(&n), "{n}");
        assert_eq!(super::count(""), Some(0));
    }
}
