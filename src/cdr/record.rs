//! One CDR row, decoded the same way from every backend.

use super::columns::Field;
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

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let s = s.get(..19).unwrap_or(s);
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

impl CdrRecord {
    /// Sets `field` from a column's raw value.
    pub fn set(&mut self, field: Field, raw: Option<&[u8]>) {
        let text = raw.map(decode_text).unwrap_or_default();
        match field {
            Field::Start => self.start = parse_time(&text),
            Field::Duration => {
                self.duration_s = text.trim().parse::<f64>().map(|v| v as i64).unwrap_or(0)
            }
            Field::Billsec => {
                self.billsec_s = text.trim().parse::<f64>().map(|v| v as i64).unwrap_or(0)
            }
            Field::Clid => self.clid = text,
            Field::Src => self.src = text,
            Field::Dst => self.dst = text,
            Field::Dcontext => self.dcontext = text,
            Field::Channel => self.channel = text,
            Field::Dstchannel => self.dstchannel = text,
            Field::Lastapp => self.lastapp = text,
            Field::Lastdata => self.lastdata = text,
            Field::Disposition => self.disposition = text,
            Field::Accountcode => self.accountcode = text,
            Field::Uniqueid => self.uniqueid = text,
            Field::Linkedid => self.linkedid = text,
            Field::Userfield => self.userfield = text,
            Field::Recordingfile => self.recordingfile = text,
            Field::Did => self.did = text,
        }
    }

    /// The value of `field` as text (dates `YYYY-MM-DD HH:MM:SS`, PBX local).
    pub fn text(&self, field: Field) -> String {
        match field {
            Field::Start => self
                .start
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
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
}
