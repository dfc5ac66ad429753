//! `switchboard cdr export`: CDR rows as CSV or JSON lines, streamed.

use super::CdrError;
use super::columns::{ColumnMap, Field};
use super::record::CdrRecord;
use chrono::{LocalResult, TimeZone};
use chrono_tz::Tz;
use std::io::Write;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// CSV, UTF-8, header row; `bom` prepends a byte-order mark for
    /// spreadsheet programs.
    Csv {
        /// Write a UTF-8 BOM first.
        bom: bool,
    },
    /// One JSON object per line.
    JsonLines,
}

/// A cell that a spreadsheet would run as a formula (starts with `=`, `+`,
/// `-`, `@`, tab or CR) prefixed with `'`, so it shows as text.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes KPI rows (any serialisable record) as CSV with a header row: every
/// cell through [`neutralise`] like `cdr export` (a queue or agent name is
/// PBX text), a nested value (pause time by reason) as its JSON text, a
/// missing one empty.
///
/// Errors: a row is not a record; writing fails.
pub fn kpi_csv<T: serde::Serialize>(out: impl Write, rows: &[T]) -> Result<(), CdrError> {
    let fail = |e: &dyn std::fmt::Display| CdrError::Output(e.to_string());
    let mut w = csv::Writer::from_writer(out);
    for (i, r) in rows.iter().enumerate() {
        let serde_json::Value::Object(fields) = serde_json::to_value(r).map_err(|e| fail(&e))?
        else {
            return Err(CdrError::Output("a KPI row is not a record".into()));
        };
        if i == 0 {
            w.write_record(fields.keys()).map_err(|e| fail(&e))?;
        }
        w.write_record(fields.values().map(|v| match v {
            serde_json::Value::String(s) => neutralise(s).into_owned(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        }))
        .map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CdrError::OutputClosed,
        _ => fail(&e),
    })
}

/// Writes records to `out` as they come.
pub struct Writer<W: Write> {
    format: Format,
    fields: Vec<Field>,
    tz: Tz,
    csv: Option<csv::Writer<W>>,
    json: Option<W>,
}

fn io(e: std::io::Error) -> CdrError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CdrError::OutputClosed
    } else {
        CdrError::Output(e.to_string())
    }
}

fn csv_err(e: csv::Error) -> CdrError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => CdrError::Output(format!("{other:?}")),
    }
}

impl<W: Write> Writer<W> {
    /// A writer for the mapped `columns`; `tz` is the PBX's zone, used to add
    /// `start_utc` to JSON output.
    pub fn new(mut out: W, format: Format, columns: &ColumnMap, tz: Tz) -> Result<Self, CdrError> {
        let fields: Vec<Field> = columns.fields().collect();
        let (csv, json) = match format {
            Format::Csv { bom } => {
                if bom {
                    out.write_all("\u{feff}".as_bytes()).map_err(io)?;
                }
                let mut w = csv::Writer::from_writer(out);
                w.write_record(fields.iter().map(|f| f.name()))
                    .map_err(csv_err)?;
                (Some(w), None)
            }
            Format::JsonLines => (None, Some(out)),
        };
        Ok(Writer {
            format,
            fields,
            tz,
            csv,
            json,
        })
    }

    /// Writes one record.
    pub fn write(&mut self, rec: &CdrRecord) -> Result<(), CdrError> {
        if let Some(w) = &mut self.csv {
            let cells: Vec<String> = self
                .fields
                .iter()
                .map(|f| neutralise(&rec.text(*f)).into_owned())
                .collect();
            return w.write_record(&cells).map_err(csv_err);
        }
        if let Some(w) = &mut self.json {
            let mut obj = serde_json::Map::new();
            for f in &self.fields {
                let v = match f {
                    Field::Duration => rec.duration_s.into(),
                    Field::Billsec => rec.billsec_s.into(),
                    _ => rec.text(*f).into(),
                };
                obj.insert(f.name().to_string(), v);
            }
            let utc = rec
                .start
                .and_then(|t| match self.tz.from_local_datetime(&t) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                        Some(t.with_timezone(&chrono::Utc))
                    }
                    LocalResult::None => None,
                });
            obj.insert(
                "start_utc".into(),
                utc.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .into(),
            );
            serde_json::to_writer(&mut *w, &obj).map_err(|e| match e.io_error_kind() {
                Some(std::io::ErrorKind::BrokenPipe) => CdrError::OutputClosed,
                _ => CdrError::Output(e.to_string()),
            })?;
            return w.write_all(b"\n").map_err(io);
        }
        Ok(())
    }

    /// Flushes the output.
    pub fn finish(self) -> Result<(), CdrError> {
        match (self.csv, self.json, self.format) {
            (Some(mut w), _, _) => w.flush().map_err(io),
            (_, Some(mut w), _) => w.flush().map_err(io),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn formulas_are_neutralised() {
        for (cell, out) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@A1", "'@A1"),
            ("José", "José"),
        ] {
            assert_eq!(neutralise(cell), out);
        }
    }

    #[test]
    fn csv_with_bom_and_json_lines() {
        let names: Vec<String> = "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,uniqueid"
            .split(',')
            .map(String::from)
            .collect();
        let cols = ColumnMap::resolve(&names, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        let rec = CdrRecord {
            start: chrono::NaiveDateTime::parse_from_str(
                "2026-03-08 02:30:00",
                "%Y-%m-%d %H:%M:%S",
            )
            .ok(),
            clid: "=cmd|' /C calc'!A0".into(),
            duration_s: 5,
            ..CdrRecord::default()
        };
        let mut w = Writer::new(Vec::new(), Format::Csv { bom: true }, &cols, chrono_tz::UTC)
            .unwrap_or_else(|e| panic!("{e}"));
        w.write(&rec).unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8(
            w.csv
                .map(|w| w.into_inner().unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        assert!(out.starts_with("\u{feff}start,clid,"), "{out}");
        assert!(out.contains("'=cmd"), "{out}");
        let mut buf = Vec::new();
        let mut w = Writer::new(
            &mut buf,
            Format::JsonLines,
            &cols,
            chrono_tz::America::New_York,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        w.write(&rec).unwrap_or_else(|e| panic!("{e}"));
        w.finish().unwrap_or_else(|e| panic!("{e}"));
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v["duration"], 5);
        // 02:30 on the spring-forward day does not exist in New York.
        assert_eq!(v["start_utc"], serde_json::Value::Null);
    }
}
