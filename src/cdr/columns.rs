//! CDR fields and the columns they live in. Installs differ (`calldate` on
//! FreePBX and cdr_pgsql, `start` elsewhere; `linkedid`, `recordingfile`,
//! `did` only on some), so the table's columns are read at start-up and
//! mapped, with overrides from config (`[cdr.columns]`).

use super::CdrError;
use serde::Serialize;
use std::collections::BTreeMap;

/// A CDR field as switchboard uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Call start, PBX local time (`calldate` or `start`).
    Start,
    /// Caller ID as `"Name" <number>` (`clid`).
    Clid,
    /// Source number (`src`).
    Src,
    /// Destination extension (`dst`).
    Dst,
    /// Destination context (`dcontext`).
    Dcontext,
    /// Source channel (`channel`).
    Channel,
    /// Destination channel (`dstchannel`).
    Dstchannel,
    /// Last application (`lastapp`).
    Lastapp,
    /// Its arguments (`lastdata`).
    Lastdata,
    /// Seconds from start to end (`duration`).
    Duration,
    /// Seconds from answer to end (`billsec`).
    Billsec,
    /// ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION (`disposition`).
    Disposition,
    /// Account code (`accountcode`).
    Accountcode,
    /// The leg's channel Uniqueid (`uniqueid`).
    Uniqueid,
    /// The call's Linkedid (`linkedid`), optional.
    Linkedid,
    /// Free field (`userfield`), optional.
    Userfield,
    /// Recording file name (`recordingfile`, FreePBX), optional.
    Recordingfile,
    /// Dialled DID (`did`, FreePBX), optional.
    Did,
}

impl Field {
    /// Every field, in output order.
    pub const ALL: [Field; 18] = [
        Field::Start,
        Field::Clid,
        Field::Src,
        Field::Dst,
        Field::Dcontext,
        Field::Channel,
        Field::Dstchannel,
        Field::Lastapp,
        Field::Lastdata,
        Field::Duration,
        Field::Billsec,
        Field::Disposition,
        Field::Accountcode,
        Field::Uniqueid,
        Field::Linkedid,
        Field::Userfield,
        Field::Recordingfile,
        Field::Did,
    ];

    /// Name in config, CSV headers and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Field::Start => "start",
            Field::Clid => "clid",
            Field::Src => "src",
            Field::Dst => "dst",
            Field::Dcontext => "dcontext",
            Field::Channel => "channel",
            Field::Dstchannel => "dstchannel",
            Field::Lastapp => "lastapp",
            Field::Lastdata => "lastdata",
            Field::Duration => "duration",
            Field::Billsec => "billsec",
            Field::Disposition => "disposition",
            Field::Accountcode => "accountcode",
            Field::Uniqueid => "uniqueid",
            Field::Linkedid => "linkedid",
            Field::Userfield => "userfield",
            Field::Recordingfile => "recordingfile",
            Field::Did => "did",
        }
    }

    /// Column names to look for, in order of preference.
    fn candidates(self) -> &'static [&'static str] {
        match self {
            Field::Start => &["calldate", "start"],
            Field::Recordingfile => &["recordingfile", "recording_file"],
            _ => &[],
        }
    }

    /// Fields a CDR table must have for history and export to work.
    fn required(self) -> bool {
        !matches!(
            self,
            Field::Linkedid
                | Field::Userfield
                | Field::Recordingfile
                | Field::Did
                | Field::Accountcode
        )
    }
}

/// How a column's values travel from the database: what the `SELECT` asks
/// for and how [`CdrRecord`](super::record::CdrRecord) reads the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Wire {
    /// Cast to bytes by the query (`CAST … AS BINARY`, `BLOB`, `bytea`),
    /// read as text: any column type on any backend.
    #[default]
    Cast,
    /// A MySQL/MariaDB text or blob column selected as it is: its stored
    /// bytes, unconverted (the CDR store's connections set
    /// `character_set_results = binary`), read as text like [`Wire::Cast`]
    /// without the server copying each value.
    Stored,
    /// A MySQL/MariaDB `DATETIME`, `TIMESTAMP` or `DATE` in the binary
    /// protocol: a length byte (0, 4, 7 or 11), then year (2 bytes,
    /// little-endian), month, day, hour, minute, second, microseconds.
    MySqlDate,
    /// A MySQL/MariaDB integer column in the binary protocol: 1, 2, 4 or 8
    /// bytes, little-endian.
    MySqlInt {
        /// `UNSIGNED` in its `COLUMN_TYPE`.
        unsigned: bool,
    },
}

impl Wire {
    /// The wire of a MySQL/MariaDB column from its `information_schema.COLUMNS`
    /// `DATA_TYPE` (`varchar`, `datetime`, `int`…) and `COLUMN_TYPE`
    /// (`int(10) unsigned`); [`Wire::Cast`] for any other type.
    pub fn mysql(data_type: &str, column_type: &str) -> Wire {
        match data_type.to_ascii_lowercase().as_str() {
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" | "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                Wire::Stored
            }
            "datetime" | "timestamp" | "date" => Wire::MySqlDate,
            "tinyint" | "smallint" | "mediumint" | "int" | "bigint" => Wire::MySqlInt {
                unsigned: column_type.to_ascii_lowercase().contains("unsigned"),
            },
            _ => Wire::Cast,
        }
    }
}

/// Which column holds each field, and how its values travel; a field
/// without a column is absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMap {
    map: BTreeMap<Field, String>,
    /// Columns read otherwise than [`Wire::Cast`].
    wires: BTreeMap<Field, Wire>,
}

impl ColumnMap {
    /// Maps fields to the table's `columns` (matched case-insensitively),
    /// `overrides` (field name → column) first.
    ///
    /// Errors: an override names an unknown field or a column the table does
    /// not have; a required field has no column.
    pub fn resolve(
        columns: &[String],
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, CdrError> {
        let find = |name: &str| {
            columns
                .iter()
                .find(|c| c.eq_ignore_ascii_case(name))
                .cloned()
        };
        let mut map = BTreeMap::new();
        for (field_name, column) in overrides {
            let field = Field::ALL
                .into_iter()
                .find(|f| f.name() == field_name)
                .ok_or_else(|| {
                    CdrError::Config(format!("cdr.columns.{field_name}: no such CDR field"))
                })?;
            let col = find(column).ok_or_else(|| {
                CdrError::Config(format!(
                    "cdr.columns.{field_name}: the CDR table has no column `{column}`"
                ))
            })?;
            map.insert(field, col);
        }
        for field in Field::ALL {
            if map.contains_key(&field) {
                continue;
            }
            let names = field.candidates();
            let found = if names.is_empty() {
                find(field.name())
            } else {
                names.iter().find_map(|n| find(n))
            };
            match found {
                Some(col) => {
                    map.insert(field, col);
                }
                None if field.required() => {
                    return Err(CdrError::Config(format!(
                        "the CDR table has no column for `{}` (columns: {}); map it in [cdr.columns]",
                        field.name(),
                        columns.join(", ")
                    )));
                }
                None => {}
            }
        }
        Ok(ColumnMap {
            map,
            wires: BTreeMap::new(),
        })
    }

    /// The same map with each column's [`Wire`] taken from `types`: a
    /// MySQL/MariaDB table's `(COLUMN_NAME, DATA_TYPE, COLUMN_TYPE)` rows.
    /// Only for a store whose connections send text unconverted (see
    /// [`Wire::Stored`]).
    pub fn with_mysql_types(mut self, types: &[[String; 3]]) -> Self {
        for (field, col) in &self.map {
            if let Some([_, data, full]) = types.iter().find(|t| t[0].eq_ignore_ascii_case(col)) {
                self.wires.insert(*field, Wire::mysql(data, full));
            }
        }
        self
    }

    /// How `field`'s column travels ([`Wire::Cast`] unless set by
    /// [`ColumnMap::with_mysql_types`]).
    pub fn wire(&self, field: Field) -> Wire {
        self.wires.get(&field).copied().unwrap_or_default()
    }

    /// The column of `field`, if the table has one.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.map.get(&field).map(String::as_str)
    }

    /// Fields with a column, in output order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        Field::ALL.into_iter().filter(|f| self.map.contains_key(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &str) -> Vec<String> {
        names.split(',').map(|s| s.trim().to_string()).collect()
    }

    const FREEPBX: &str = "calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, did, recordingfile, cnum, cnam, linkedid";

    #[test]
    fn freepbx_and_start_named_tables_map() {
        let m =
            ColumnMap::resolve(&cols(FREEPBX), &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.get(Field::Start), Some("calldate"));
        assert_eq!(m.get(Field::Recordingfile), Some("recordingfile"));
        let plain = FREEPBX
            .replace("calldate", "start")
            .replace(", did, recordingfile", "")
            .replace(", linkedid", "");
        let m =
            ColumnMap::resolve(&cols(&plain), &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.get(Field::Start), Some("start"));
        assert_eq!(m.get(Field::Linkedid), None);
    }

    #[test]
    fn mysql_types_choose_the_wire() {
        for (data, full, wire) in [
            ("varchar", "varchar(80)", Wire::Stored),
            ("LONGBLOB", "longblob", Wire::Stored),
            ("enum", "enum('a','b')", Wire::Stored),
            ("datetime", "datetime(6)", Wire::MySqlDate),
            ("timestamp", "timestamp", Wire::MySqlDate),
            ("int", "int(11)", Wire::MySqlInt { unsigned: false }),
            (
                "mediumint",
                "mediumint(8) UNSIGNED",
                Wire::MySqlInt { unsigned: true },
            ),
            ("decimal", "decimal(10,2)", Wire::Cast),
            ("json", "json", Wire::Cast),
        ] {
            assert_eq!(Wire::mysql(data, full), wire, "{full}");
        }
        let typed = |name: &str, data: &str| [name.to_string(), data.to_string(), data.to_string()];
        let mut o = BTreeMap::new();
        o.insert("uniqueid".to_string(), "SEQ".to_string());
        let m = ColumnMap::resolve(&cols(&format!("{FREEPBX}, seq")), &o)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_mysql_types(&[typed("CALLDATE", "datetime"), typed("seq", "bigint")]);
        assert_eq!(
            m.wire(Field::Start),
            Wire::MySqlDate,
            "names match in any case"
        );
        assert_eq!(
            m.wire(Field::Uniqueid),
            Wire::MySqlInt { unsigned: false },
            "the mapped column's type"
        );
        assert_eq!(m.wire(Field::Src), Wire::Cast, "no type known");
    }

    #[test]
    fn overrides_and_errors_name_the_key() {
        let mut o = BTreeMap::new();
        o.insert("start".to_string(), "answer".to_string());
        let e = ColumnMap::resolve(&cols(FREEPBX), &o)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("cdr.columns.start") && e.contains("answer")));
        let e = ColumnMap::resolve(&cols("calldate, src"), &BTreeMap::new())
            .err()
            .map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.contains("`clid`")),
            "missing required column named"
        );
    }
}
