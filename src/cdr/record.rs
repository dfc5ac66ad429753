//! One CDR row, decoded the same way from every backend.

use super::columns::{Field, Wire};
use chrono::NaiveDateTime;

/// A CDR row (one call leg). Text is decoded as UTF-8, or as Latin-1 when it
/// is not valid UTF-8 (old FreePBX tables); a zero or unreadable date
/// (`0000-00-00 00:00:00`) is `None`. Absent columns are empty / 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CdrRecord {
    /// Start, PBX local time (`calldate`/`start`).
    pub start: Option<NaiveDateTime>,
    /// `clid`.
    pub clid: String,
    /// `src`.
    pub src: String,
    /// `dst`.
    pub dst: String,
    /// `dcontext`.
    pub dcontext: String,
    /// `channel`.
    pub channel: String,
    /// `dstchannel`.
    pub dstchannel: String,
    /// `lastapp`.
    pub lastapp: String,
    /// `lastdata`.
    pub lastdata: String,
    /// `duration`, seconds.
    pub duration_s: i64,
    /// `billsec`, seconds.
    pub billsec_s: i64,
    /// `disposition`.
    pub disposition: String,
    /// `accountcode`.
    pub accountcode: String,
    /// `uniqueid`.
    pub uniqueid: String,
    /// `linkedid`.
    pub linkedid: String,
    /// `userfield`.
    pub userfield: String,
    /// `recordingfile`.
    pub recordingfile: String,
    /// `did`.
    pub did: String,
}

/// Bytes as text: UTF-8 when valid, else Latin-1 (every byte one char).
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A CDR date as text: `YYYY-MM-DD HH:MM:SS`, PBX local time (what every
/// backend stores and what the SQL binds).
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// [`decode_text`] into `out`, replacing what it held (its room reused).
fn decode_into(bytes: &[u8], out: &mut String) {
    out.clear();
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.extend(bytes.iter().map(|&b| char::from(b))),
    }
}

/// A CDR date: `YYYY-MM-DD HH:MM:SS` (or with `T`), any fraction after it
/// ignored; `None` for a zero or malformed date. The fixed shape every
/// backend sends is read digit by digit (this runs once per CDR row: a
/// KPI day reads 333,000), anything else through chrono.
fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let s = s.get(..19).unwrap_or(s);
    fixed_time(s.as_bytes()).or_else(|| {
        NaiveDateTime::parse_from_str(s, TIME_FORMAT)
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .ok()
    })
}

/// `YYYY-MM-DD HH:MM:SS` (or `T` between them) read by position.
fn fixed_time(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?)?.and_hms_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
    )
}

/// A CDR number (`duration`, `billsec`): whole seconds, or a decimal
/// (PostgreSQL's numeric, a float column) cut to whole seconds; 0 when it
/// is not a number.
fn parse_seconds(raw: &[u8]) -> i64 {
    let Ok(s) = std::str::from_utf8(raw) else {
        return 0;
    };
    let s = s.trim();
    s.parse::<i64>()
        .or_else(|_| s.parse::<f64>().map(|v| v as i64))
        .unwrap_or(0)
}

/// A MySQL binary-protocol date ([`Wire::MySqlDate`]); `None` for a zero
/// or short value.
fn mysql_date(raw: &[u8]) -> Option<NaiveDateTime> {
    let (&len, b) = raw.split_first()?;
    if len < 4 || b.len() < usize::from(len) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::from(u16::from_le_bytes([b[0], b[1]])),
        u32::from(b[2]),
        u32::from(b[3]),
    )?;
    if len < 7 {
        return date.and_hms_opt(0, 0, 0);
    }
    date.and_hms_opt(u32::from(b[4]), u32::from(b[5]), u32::from(b[6]))
}

/// A MySQL binary-protocol integer ([`Wire::MySqlInt`]): 1 to 8 bytes,
/// little-endian, sign-extended unless `unsigned`; an unsigned value past
/// `i64::MAX` is `i64::MAX`.
fn mysql_int(raw: &[u8], unsigned: bool) -> i64 {
    let n = raw.len().min(8);
    let negative = !unsigned && n > 0 && raw[n - 1] & 0x80 != 0;
    let mut b = [if negative { 0xff } else { 0 }; 8];
    b[..n].copy_from_slice(&raw[..n]);
    if unsigned {
        i64::try_from(u64::from_le_bytes(b)).unwrap_or(i64::MAX)
    } else {
        i64::from_le_bytes(b)
    }
}

impl CdrRecord {
    /// The leg's end, PBX local time: start + `duration` (a negative one
    /// counts as 0; one past what a date can hold, as 0 too). `None`
    /// without a start.
    pub fn end(&self) -> Option<NaiveDateTime> {
        let start = self.start?;
        Some(
            chrono::TimeDelta::try_seconds(self.duration_s.max(0))
                .and_then(|d| start.checked_add_signed(d))
                .unwrap_or(start),
        )
    }

    /// Sets `field` from a column's raw value as it travelled (`wire`):
    /// dates and numbers in MySQL's binary protocol are read as such, in
    /// any field (a text field mapped to a number column gets its digits).
    pub fn set_wire(&mut self, field: Field, raw: Option<&[u8]>, wire: Wire) {
        match wire {
            Wire::Cast | Wire::Stored => self.set(field, raw),
            Wire::MySqlInt { unsigned } => {
                let n = raw.map_or(0, |r| mysql_int(r, unsigned));
                match field {
                    Field::Duration => self.duration_s = n,
                    Field::Billsec => self.billsec_s = n,
                    _ => self.set(field, Some(n.to_string().as_bytes())),
                }
            }
            Wire::MySqlDate => {
                let t = raw.and_then(mysql_date);
                match field {
                    Field::Start => self.start = t,
                    _ => {
                        let text = t.map(|t| t.format(TIME_FORMAT).to_string());
                        self.set(field, text.as_deref().map(str::as_bytes));
                    }
                }
            }
        }
    }

    /// Sets `field` from a column's raw value.
    pub fn set(&mut self, field: Field, raw: Option<&[u8]>) {
        let raw = raw.unwrap_or_default();
        match field {
            Field::Start => self.start = std::str::from_utf8(raw).ok().and_then(parse_time),
            Field::Duration => self.duration_s = parse_seconds(raw),
            Field::Billsec => self.billsec_s = parse_seconds(raw),
            _ => {
                if let Some(text) = self.text_mut(field) {
                    decode_into(raw, text);
                }
            }
        }
    }

    /// The text field `field`; `None` for the date and the numbers.
    fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        Some(match field {
            Field::Clid => &mut self.clid,
            Field::Src => &mut self.src,
            Field::Dst => &mut self.dst,
            Field::Dcontext => &mut self.dcontext,
            Field::Channel => &mut self.channel,
            Field::Dstchannel => &mut self.dstchannel,
            Field::Lastapp => &mut self.lastapp,
            Field::Lastdata => &mut self.lastdata,
            Field::Disposition => &mut self.disposition,
            Field::Accountcode => &mut self.accountcode,
            Field::Uniqueid => &mut self.uniqueid,
            Field::Linkedid => &mut self.linkedid,
            Field::Userfield => &mut self.userfield,
            Field::Recordingfile => &mut self.recordingfile,
            Field::Did => &mut self.did,
            Field::Start | Field::Duration | Field::Billsec => return None,
        })
    }

    /// The value of `field` as text (dates `YYYY-MM-DD HH:MM:SS`, PBX local).
    pub fn text(&self, field: Field) -> String {
        match field {
            Field::Start => self
                .start
                .map(|t| t.format(TIME_FORMAT).to_string())
                .unwrap_or_default(),
            Field::Duration => self.duration_s.to_string(),
            Field::Billsec => self.billsec_s.to_string(),
            Field::Clid => self.clid.clone(),
            Field::Src => self.src.clone(),
            Field::Dst => self.dst.clone(),
            Field::Dcontext => self.dcontext.clone(),
            Field::Channel => self.channel.clone(),
            Field::Dstchannel => self.dstchannel.clone(),
            Field::Lastapp => self.lastapp.clone(),
            Field::Lastdata => self.lastdata.clone(),
            Field::Disposition => self.disposition.clone(),
            Field::Accountcode => self.accountcode.clone(),
            Field::Uniqueid => self.uniqueid.clone(),
            Field::Linkedid => self.linkedid.clone(),
            Field::Userfield => self.userfield.clone(),
            Field::Recordingfile => self.recordingfile.clone(),
            Field::Did => self.did.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_zero_dates_and_numbers() {
        let mut r = CdrRecord::default();
        r.set(Field::Clid, Some(b"\"M\xfcller\" <100>"));
        r.set(Field::Start, Some(b"0000-00-00 00:00:00"));
        r.set(Field::Duration, Some(b"42"));
        r.set(Field::Billsec, Some(b"7.0"));
        assert_eq!(r.clid, "\"Müller\" <100>");
        assert_eq!(r.start, None);
        assert_eq!((r.duration_s, r.billsec_s), (42, 7));
        r.set(Field::Start, Some(b"2026-11-21 08:25:20.123456"));
        assert_eq!(r.text(Field::Start), "2026-11-21 08:25:20");
    }

    #[test]
    fn a_leg_ends_after_its_duration_and_a_huge_one_does_not_panic() {
        let mut r = CdrRecord::default();
        assert_eq!(r.end(), None);
        r.set(Field::Start, Some(b"2026-11-21 08:25:20"));
        r.set(Field::Duration, Some(b"40"));
        assert_eq!(r.text(Field::Start), "2026-11-21 08:25:20");
        assert_eq!(
            r.end().map(|t| t.to_string()),
            Some("2026-11-21 08:26:00".into())
        );
        for huge in [i64::MAX, 9_000_000_000_000_000, -5] {
            r.duration_s = huge;
            assert_eq!(r.end(), r.start, "{huge}");
        }
    }

    #[test]
    fn mysql_binary_dates_and_integers() {
        let mut r = CdrRecord::default();
        // 2026-11-21 08:25:20.123456: length 11, year 2026 = 0x07EA.
        let dt = [11, 0xEA, 0x07, 11, 21, 8, 25, 20, 0x40, 0xE2, 0x01, 0x00];
        r.set_wire(Field::Start, Some(&dt), Wire::MySqlDate);
        assert_eq!(r.text(Field::Start), "2026-11-21 08:25:20");
        r.set_wire(
            Field::Start,
            Some(&[4, 0xEA, 0x07, 11, 21]),
            Wire::MySqlDate,
        );
        assert_eq!(r.text(Field::Start), "2026-11-21 00:00:00");
        // A zero date is sent as length 0; a cut value and a bad day are None.
        for bad in [
            &[0u8][..],
            &[7, 0xEA, 0x07, 11],
            &[4, 0xEA, 0x07, 2, 30],
            &[],
        ] {
            r.set_wire(Field::Start, Some(bad), Wire::MySqlDate);
            assert_eq!(r.start, None, "{bad:?}");
        }
        let signed = Wire::MySqlInt { unsigned: false };
        r.set_wire(Field::Billsec, Some(&42i32.to_le_bytes()), signed);
        r.set_wire(Field::Duration, Some(&(-3i16).to_le_bytes()), signed);
        assert_eq!((r.billsec_s, r.duration_s), (42, -3));
        r.set_wire(
            Field::Duration,
            Some(&[0xff]),
            Wire::MySqlInt { unsigned: true },
        );
        assert_eq!(r.duration_s, 255);
        r.set_wire(
            Field::Duration,
            Some(&u64::MAX.to_le_bytes()),
            Wire::MySqlInt { unsigned: true },
        );
        assert_eq!(r.duration_s, i64::MAX);
        r.set_wire(Field::Duration, None, signed);
        assert_eq!(r.duration_s, 0);
        // A text field on a number or date column gets its text.
        r.set_wire(
            Field::Uniqueid,
            Some(&1_700_000_000i64.to_le_bytes()),
            signed,
        );
        assert_eq!(r.uniqueid, "1700000000");
        r.set_wire(Field::Userfield, Some(&dt), Wire::MySqlDate);
        assert_eq!(r.userfield, "2026-11-21 08:25:20");
        // Stored text reads like cast text: UTF-8, else Latin-1.
        r.set_wire(Field::Clid, Some(b"J\xf6rg"), Wire::Stored);
        assert_eq!(r.clid, "Jörg");
    }

    #[test]
    fn dates_read_by_position_match_chrono_and_bad_ones_are_none() {
        let chrono = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok();
        for s in [
            "2026-02-28 23:59:59",
            "1999-12-31 00:00:00",
            "2024-02-29 12:30:05",
        ] {
            assert_eq!(parse_time(s), chrono(s), "{s}");
            assert!(parse_time(s).is_some());
        }
        assert_eq!(
            parse_time("2026-11-21T08:25:20"),
            chrono("2026-11-21 08:25:20")
        );
        for bad in [
            "2026-02-30 10:00:00",
            "2026-13-01 10:00:00",
            "2026-11-21 24:00:00",
            "2026-11-2x 10:00:00",
            "0000-00-00 00:00:00",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        // Another shape still goes through chrono.
        assert_eq!(
            parse_time(" 2026-11-21 8:25:20"),
            chrono("2026-11-21 08:25:20")
        );
    }

    #[test]
    fn a_record_set_again_holds_only_the_new_values() {
        let mut r = CdrRecord::default();
        r.set(Field::Channel, Some(b"PJSIP/301-0000002a"));
        r.set(Field::Billsec, Some(b"12"));
        r.set(Field::Channel, Some(b"SIP/7"));
        r.set(Field::Billsec, Some(b"3.9"));
        assert_eq!((r.channel.as_str(), r.billsec_s), ("SIP/7", 3));
        r.set(Field::Channel, None);
        r.set(Field::Billsec, Some(b"n/a"));
        assert_eq!((r.channel.as_str(), r.billsec_s), ("", 0));
    }
}
