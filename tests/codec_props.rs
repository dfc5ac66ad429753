//! Properties of the AMI codec: any chunking of a stream decodes the same;
//! arbitrary bytes give errors or messages, never a panic, and never an
//! unbounded buffer.

use proptest::prelude::*;
use switchboard::ami::{Decoder, Frame, Limits};

fn decode(chunks: &[&[u8]], limits: Limits) -> Vec<String> {
    let mut d = Decoder::with_limits(limits);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        while let Some(f) = d.next_frame() {
            out.push(match f {
                Ok(Frame::Banner(b)) => format!("banner {b}"),
                Ok(Frame::Message(m)) => format!("{:?}", m.headers().collect::<Vec<_>>()),
                Err(e) => format!("error {e}"),
            });
        }
    }
    out
}

/// A header value: printable text with UTF-8, backslashes, colons and quotes.
fn value() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[a-zA-Z0-9 :;,"'\\/<>@.éüß李Ж-]{0,40}"#)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Channel".to_string()),
        Just("CallerIDName".to_string()),
        Just("Uniqueid".to_string()),
        Just("Output".to_string()),
        Just("Value".to_string()),
        proptest::string::string_regex("[A-Za-z][A-Za-z0-9-]{0,15}")
            .unwrap_or_else(|e| panic!("{e}")),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    let message = (
        prop_oneof![Just("Event"), Just("Response")],
        "[A-Za-z]{1,12}",
        proptest::collection::vec((key(), value()), 0..12),
        any::<bool>(),
    )
        .prop_map(|(kind, name, headers, bare_lf)| {
            let eol = if bare_lf { "\n" } else { "\r\n" };
            let mut s = format!("{kind}: {name}{eol}");
            for (k, v) in headers {
                s.push_str(&format!("{k}: {v}{eol}"));
            }
            s.push_str(eol);
            s
        });
    (any::<bool>(), proptest::collection::vec(message, 0..20)).prop_map(|(banner, msgs)| {
        let mut s = if banner {
            "Asterisk Call Manager/11.0.0\r\n".to_string()
        } else {
            String::new()
        };
        s.extend(msgs);
        s.into_bytes()
    })
}

proptest! {
    #[test]
    fn any_chunking_decodes_the_same(data in stream(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..30)) {
        let whole = decode(&[&data], Limits::default());
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&data[last..p]);
            last = p;
        }
        chunks.push(&data[last..]);
        prop_assert_eq!(decode(&chunks, Limits::default()), whole);
    }

    #[test]
    fn one_byte_at_a_time_decodes_the_same(data in stream()) {
        let whole = decode(&[&data], Limits::default());
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        prop_assert_eq!(decode(&bytes, Limits::default()), whole);
    }

    #[test]
    fn garbage_never_panics_and_stays_bounded(data in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..512) {
        let limits = Limits { max_line: 256, max_headers: 16 };
        let mut d = Decoder::with_limits(limits);
        for c in data.chunks(chunk) {
            d.feed(c);
            while d.next_frame().is_some() {}
            // A partial message holds at most max_headers lines of max_line
            // bytes (plus line ends) before it is dropped.
            prop_assert!(d.pending() <= (limits.max_headers + 2) * (limits.max_line + 2) + chunk);
        }
    }
}

#[test]
fn endless_short_lines_do_not_grow_the_buffer() {
    let limits = Limits {
        max_line: 64,
        max_headers: 32,
    };
    let mut d = Decoder::with_limits(limits);
    d.feed(b"Event: Flood\r\n");
    let mut errors = 0;
    for _ in 0..10_000 {
        d.feed(b"A: 1\r\n");
        while let Some(f) = d.next_frame() {
            errors += usize::from(f.is_err());
        }
        assert!(d.pending() < 64 * 34, "pending {}", d.pending());
    }
    assert_eq!(errors, 1, "one error per dropped message");
    d.feed(b"\r\nEvent: After\r\n\r\n");
    let next = d.next_frame();
    assert!(
        matches!(next, Some(Ok(Frame::Message(ref m))) if m.event_name() == Some("After")),
        "{next:?}"
    );
}
