//! Free-text search that answers the same on every backend: case- and
//! accent-insensitive by one folding rule (lower case, then the base letter
//! of a decomposed character: `Ö`, `ö`, `Ó` → `o`; `Д` → `д`), applied to
//! the search text here and, through the SQL [`folded`] generates, to the
//! columns in the database. Collations, `ILIKE`, SQLite's ASCII-only `LIKE`
//! and a MySQL table's character set (utf8mb3, latin1) no longer decide what
//! matches.
//!
//! The rule covers the letters of [`FOLDING`] (Latin with Latin-1 and
//! Latin Extended-A accents, Greek, Cyrillic): what caller names in a
//! European or Latin American call centre carry. Other letters (Vietnamese
//! `ế`, CJK, emoji) match as typed, on every backend alike.

use super::filter::Dialect;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The blocks whose letters fold: Basic Latin capitals, Latin-1 Supplement
/// and Latin Extended-A letters, Greek, Cyrillic.
const FOLDING: [(char, char); 4] = [
    ('A', 'Z'),
    ('\u{c0}', '\u{17f}'),
    ('\u{386}', '\u{3ce}'),
    ('\u{400}', '\u{45f}'),
];

/// What `c` folds to: its lower case without accents when it is a letter
/// of [`FOLDING`] that folds to one character, else `c`.
fn fold_char(c: char) -> char {
    if !FOLDING.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) {
        return c;
    }
    let mut folded = c.to_lowercase().nfd().filter(|c| !is_combining_mark(*c));
    match (folded.next(), folded.next()) {
        (Some(f), None) => f,
        _ => c,
    }
}

/// `text` folded, character by character (see [`FOLDING`]).
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// The substitutions a column needs for a `LIKE` on the folded `needle`:
/// every letter that folds to a character of `needle`, with what it folds
/// to. Letters that fold to anything else cannot match and are left alone,
/// which keeps the generated SQL short.
pub fn substitutions(folded_needle: &str) -> Vec<(char, char)> {
    FOLDING
        .iter()
        .flat_map(|&(lo, hi)| lo..=hi)
        .map(|c| (c, fold_char(c)))
        .filter(|(c, f)| f != c && folded_needle.contains(*f))
        .collect()
}

/// `column` (an SQL expression) folded for `subs` in `dialect`:
/// PostgreSQL's `translate`; nested `REPLACE` in MySQL, after converting
/// the column to utf8mb4 with a binary collation (so utf8mb3 and latin1
/// columns compare with any Unicode search text), and in SQLite. The
/// characters are letters from [`FOLDING`], never user input: no quote can
/// occur.
pub fn folded(column: &str, subs: &[(char, char)], dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres if subs.is_empty() => column.to_string(),
        Dialect::Postgres => {
            let (from, to): (String, String) = subs.iter().copied().unzip();
            format!("translate({column}, '{from}', '{to}')")
        }
        Dialect::MySql | Dialect::Sqlite => {
            let base = if dialect == Dialect::MySql {
                format!("CONVERT({column} USING utf8mb4) COLLATE utf8mb4_bin")
            } else {
                column.to_string()
            };
            subs.iter()
                .fold(base, |sql, (c, f)| format!("REPLACE({sql}, '{c}', '{f}')"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("JÖRG Núñez"), "jorg nunez");
        assert_eq!(fold("Дмитрий"), "дмитрии", "й is и with a breve");
        assert_eq!(fold("李小龙 😀"), "李小龙 😀");
        assert_eq!(fold("Straße Øre"), "straße øre");
        assert_eq!(
            fold("Tiến"),
            "tiến",
            "ế is outside the folded blocks: as typed"
        );
    }

    #[test]
    fn substitutions_cover_every_spelling_of_the_needle() {
        let subs = substitutions(&fold("jorg"));
        for c in ['J', 'O', 'Ö', 'ö', 'Ó', 'ô', 'R', 'G', 'Ğ', 'Ő'] {
            assert!(subs.iter().any(|(s, _)| *s == c), "{c}");
        }
        assert!(!subs.iter().any(|(s, _)| *s == 'Ä'), "a is not in jorg");
        // Applying them to a column value gives the folded value.
        let applied: String = "JÖRG"
            .chars()
            .map(|c| subs.iter().find(|(s, _)| *s == c).map_or(c, |(_, f)| *f))
            .collect();
        assert_eq!(applied, "jorg");
    }

    #[test]
    fn sql_per_dialect() {
        let subs = [('Ö', 'o'), ('O', 'o')];
        assert_eq!(
            folded("\"clid\"", &subs, Dialect::Postgres),
            "translate(\"clid\", 'ÖO', 'oo')"
        );
        assert_eq!(
            folded("`clid`", &subs, Dialect::MySql),
            "REPLACE(REPLACE(CONVERT(`clid` USING utf8mb4) COLLATE utf8mb4_bin, 'Ö', 'o'), 'O', 'o')"
        );
        assert_eq!(
            folded("\"clid\"", &subs[..1], Dialect::Sqlite),
            "REPLACE(\"clid\", 'Ö', 'o')"
        );
    }
}
