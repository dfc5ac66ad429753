//! Leads from CSV: a header row with a `number` column (or `phone`), any
//! other columns kept as the lead's data; a `time_zone` column (IANA, or
//! empty) is the lead's own zone for the campaign's calling hours. Every row is checked before
//! anything is written; one bad row and nothing is imported, and every bad
//! row is reported with its line number.

use super::number::normalize;
use std::collections::{BTreeMap, HashSet};

/// A lead ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLead {
    /// Line in the file (1 is the header).
    pub line: u64,
    /// Normalised number.
    pub number: String,
    /// The other columns, by header name.
    pub data: BTreeMap<String, String>,
}

/// A row that cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// Line in the file.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The rows of a CSV file that can be imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Distinct leads, in file order.
    pub leads: Vec<NewLead>,
    /// Rows whose number came earlier in the file.
    pub duplicates: u64,
}

/// Longest data value kept, characters.
pub const MAX_VALUE: usize = 1000;

/// A column name usable as a channel variable suffix: letters, digits, `_`.
fn column_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads `input` as CSV (UTF-8, a header row).
///
/// Errors: every bad line: an unreadable row, a bad header, a missing or
/// invalid number, a value too long.
pub fn parse(input: impl std::io::Read) -> Result<Parsed, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![LineError {
                line: 1,
                message: format!("cannot read the header row: {e}"),
            }]);
        }
    };
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
    let Some(number_col) = names.iter().position(|h| h == "number" || h == "phone") else {
        return Err(vec![LineError {
            line: 1,
            message: format!(
                "no `number` column (columns: {}); name the phone column `number`",
                names.join(", ")
            ),
        }]);
    };
    let mut errors = Vec::new();
    for n in &names {
        if !column_ok(n) {
            errors.push(LineError {
                line: 1,
                message: format!("column `{n}`: use letters, digits and _ (at most 40)"),
            });
        }
    }
    let mut out = Parsed::default();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(LineError {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let raw = record.get(number_col).unwrap_or("");
        let number = match normalize(raw) {
            Ok(n) => n,
            Err(why) => {
                errors.push(LineError {
                    line,
                    message: format!("number `{}`: {why}", raw.escape_debug()),
                });
                continue;
            }
        };
        let mut data = BTreeMap::new();
        let mut row_ok = true;
        for (i, value) in record.iter().enumerate() {
            if i == number_col {
                continue;
            }
            if value.chars().count() > MAX_VALUE {
                errors.push(LineError {
                    line,
                    message: format!("column `{}`: longer than {MAX_VALUE} characters", names[i]),
                });
                row_ok = false;
            }
            if names[i] == super::campaign::LEAD_TIME_ZONE
                && !value.trim().is_empty()
                && value.trim().parse::<chrono_tz::Tz>().is_err()
            {
                errors.push(LineError {
                    line,
                    message: format!(
                        "time_zone `{}`: use an IANA zone like America/New_York, or leave it empty for the campaign's",
                        value.escape_debug()
                    ),
                });
                row_ok = false;
            }
            data.insert(names[i].clone(), value.to_string());
        }
        if !row_ok {
            continue;
        }
        if seen.insert(number.clone()) {
            out.leads.push(NewLead { line, number, data });
        } else {
            out.duplicates += 1;
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_line_is_named() {
        let csv = "number,name\n5551230,Ann\n555-CALL,Bob\n12,Cy\n5551230,Ann again\n\"+1 555 123 4999\",\"Smith, John\"\n";
        let errs = parse(csv.as_bytes()).err().unwrap_or_default();
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        assert!(errs[0].to_string().starts_with("line 3: number `555-CALL`"));
        let ok =
            "Number,Name\n5551230,Ann\n5551230,Ann again\n\"+1 555 123 4999\",\"Smith, John\"\n";
        let p = parse(ok.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.duplicates, 1);
        assert_eq!(p.leads.len(), 2);
        assert_eq!(p.leads[1].number, "+15551234999");
        assert_eq!(
            p.leads[1].data.get("name").map(String::as_str),
            Some("Smith, John")
        );
    }

    #[test]
    fn a_lead_time_zone_must_be_a_zone() {
        let csv = "number,time_zone\n5551230,America/Chicago\n5551231,\n5551232,Central\n";
        let errs = parse(csv.as_bytes()).err().unwrap_or_default();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0]
                .to_string()
                .starts_with("line 4: time_zone `Central`")
        );
        let ok = "number,time_zone\n5551230,America/Chicago\n5551231,\n";
        assert_eq!(parse(ok.as_bytes()).map(|p| p.leads.len()), Ok(2));
    }

    #[test]
    fn header_problems_are_line_one() {
        let errs = parse("phone_number,name\n5551230,Ann\n".as_bytes())
            .err()
            .unwrap_or_default();
        assert_eq!(errs[0].line, 1);
        assert!(errs[0].message.contains("no `number` column"));
        let ragged = parse("number,name\n5551230\n".as_bytes())
            .err()
            .unwrap_or_default();
        assert_eq!(ragged[0].line, 2);
    }
}
