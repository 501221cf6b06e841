//! Where the words every file is searched for stand: `secret` (a declaration), `mod` and
//! `include` (module discovery). One vector search finds the three (`aho-corasick`'s packed
//! searcher, Teddy), where one `memmem` search for each went over every file three times;
//! on machines without the vector instructions it needs, the three `memmem` searches.
//! Found as text: in comments, strings and longer words too, for the callers to judge.

use std::sync::LazyLock;

/// The offsets of each word in a text, in order.
#[derive(Debug, Default)]
pub(crate) struct Words {
    pub(crate) secret: Vec<usize>,
    pub(crate) module: Vec<usize>,
    pub(crate) include: Vec<usize>,
}

const WORDS: [&str; 3] = ["secret", "mod", "include"];

/// The offsets of `secret`, `mod` and `include` in `text`.
pub(crate) fn find(text: &[u8]) -> Words {
    static PACKED: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
        aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(WORDS)
            .build()
    });
    let mut words = Words::default();
    match &*PACKED {
        Some(searcher) => {
            // No word holds another, nor starts with the end of another: the matches are
            // those of the three searches, merged.
            for found in searcher.find_iter(text) {
                let list = match found.pattern().as_usize() {
                    0 => &mut words.secret,
                    1 => &mut words.module,
                    _ => &mut words.include,
                };
                list.push(found.start());
            }
        }
        None => {
            static FINDERS: LazyLock<[memchr::memmem::Finder<'static>; 3]> =
                LazyLock::new(|| WORDS.map(memchr::memmem::Finder::new));
            let [secret, module, include] = &*FINDERS;
            words.secret.extend(secret.find_iter(text));
            words.module.extend(module.find_iter(text));
            words.include.extend(include.find_iter(text));
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_search_finds_what_three_searches_find() {
        let text = b"mod a; // secret!(\"X\") include!(\"b.rs\") modsecretinclude secrets mo d";
        let words = find(text);
        let each = |word: &str| -> Vec<usize> {
            memchr::memmem::find_iter(text, word.as_bytes()).collect()
        };
        assert_eq!(words.secret, each("secret"));
        assert_eq!(words.module, each("mod"));
        assert_eq!(words.include, each("include"));
        assert_eq!(words.secret.len(), 3);
    }
}
