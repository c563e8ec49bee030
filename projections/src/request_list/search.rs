//! Search terms: how names and ids are normalised and cut into the prefix-searchable terms
//! the view indexes, so that a search is an index range scan `[text, upper_bound)`.
//!
//! A text's terms are its whole normalised form and its suffixes from each word start
//! ("pack expert 4h", "expert 4h", "4h"): a search matches a request when one of its terms
//! starts with the search text. Normalising lower-cases (Unicode), trims and collapses
//! whitespace; it does not fold accents (`gérer` does not find `gerer`).

use std::collections::BTreeSet;

/// Terms are cut to this many characters (and searches are at most this long, so the cut
/// never changes whether a search matches).
pub(crate) const MAX_TERM_CHARS: usize = 64;

/// Suffixes are taken from at most this many word starts after the first word.
pub(crate) const MAX_WORD_STARTS: usize = 32;

pub(crate) fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Adds `text`'s terms to `terms`.
pub(crate) fn add_terms(text: &str, terms: &mut BTreeSet<String>) {
    let chars: Vec<char> = normalise(text).chars().collect();
    if chars.is_empty() {
        return;
    }
    let word_starts = (1..chars.len())
        .filter(|&i| chars[i].is_alphanumeric() && !chars[i - 1].is_alphanumeric())
        .take(MAX_WORD_STARTS);
    for start in std::iter::once(0).chain(word_starts) {
        terms.insert(chars[start..].iter().take(MAX_TERM_CHARS).collect());
    }
}

/// The least string greater than every string starting with `prefix`, in code point order
/// (which is UTF-8 byte order, SQLite's `BINARY` and PostgreSQL's `"C"` collation).
/// `None` only when every character is `char::MAX`.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            char::MAX => None,
            other => char::from_u32(other as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let mut terms = BTreeSet::new();
        add_terms(text, &mut terms);
        terms.into_iter().collect()
    }

    #[test]
    fn a_name_is_searchable_from_each_word_start() {
        assert_eq!(
            terms("Pack  Expert 4H"),
            ["4h", "expert 4h", "pack expert 4h"]
        );
        assert_eq!(terms("SI_Prod"), ["prod", "si_prod"]);
        assert_eq!(
            terms("FCA0124-2611-0001"),
            ["0001", "2611-0001", "fca0124-2611-0001"]
        );
        assert_eq!(
            terms("[Urgent] VM down"),
            ["[urgent] vm down", "down", "urgent] vm down", "vm down"]
        );
        assert!(terms("   ").is_empty());
    }

    #[test]
    fn terms_are_cut_to_the_longest_search() {
        let long = "a".repeat(100);
        assert_eq!(terms(&long), ["a".repeat(MAX_TERM_CHARS)]);
    }

    #[test]
    fn word_starts_are_bounded() {
        let many_words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        assert_eq!(terms(&many_words.join(" ")).len(), 1 + MAX_WORD_STARTS);
    }

    #[test]
    fn the_upper_bound_closes_the_prefix_range() {
        assert_eq!(prefix_upper_bound("pack").as_deref(), Some("pacl"));
        assert_eq!(prefix_upper_bound("é").as_deref(), Some("ê"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(
            prefix_upper_bound(&format!("ab{}", char::MAX)).as_deref(),
            Some("ac")
        );
        assert_eq!(prefix_upper_bound(&char::MAX.to_string()), None);
        for word in ["pack", "pack expert", "packz", "pacj\u{10FFFF}"] {
            let bound = prefix_upper_bound("pack").unwrap();
            assert_eq!(
                word.starts_with("pack"),
                *"pack" <= *word && *word < *bound,
                "{word}"
            );
        }
    }
}
