//! Phone numbers as the dialer accepts them: E.164-like, normalised before
//! they are stored, so a dial string can only ever receive digits.
//!
//! Written here rather than taken from a phone-number library: the rule the
//! dialer needs is "a number Asterisk can dial, nothing else", not country
//! metadata, and it must be the same rule at import and at dial time.

/// Shortest number accepted, digits (an internal extension).
pub const MIN_DIGITS: usize = 3;
/// Longest number accepted, digits (E.164's limit).
pub const MAX_DIGITS: usize = 15;

/// `raw` normalised: spaces, dots, dashes and parentheses removed, a leading
/// `+` kept (`00` becomes `+`), then 3 to 15 digits.
///
/// Errors: a message saying what is wrong (`letter 'x'`, `too short`).
pub fn normalize(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(r) => (true, r),
        None => match trimmed.strip_prefix("00") {
            Some(r) if r.len() > 2 => (true, r),
            _ => (false, trimmed),
        },
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' | '/' => {}
            _ => return Err(format!("`{c}` is not allowed in a phone number")),
        }
    }
    if digits.len() < MIN_DIGITS {
        return Err(format!(
            "too short ({} digits, at least {MIN_DIGITS})",
            digits.len()
        ));
    }
    if digits.len() > MAX_DIGITS {
        return Err(format!(
            "too long ({} digits, at most {MAX_DIGITS})",
            digits.len()
        ));
    }
    if plus && digits.starts_with('0') {
        return Err("a number after + cannot start with 0".into());
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_spellings_normalise() {
        assert_eq!(normalize(" +1 (555) 123-4567 "), Ok("+15551234567".into()));
        assert_eq!(normalize("0033 1 23 45 67 89"), Ok("+33123456789".into()));
        assert_eq!(normalize("555.1234"), Ok("5551234".into()));
        assert!(normalize("555-CALL-NOW").is_err_and(|e| e.contains("`C`")));
        assert!(normalize("12").is_err_and(|e| e.contains("too short")));
        assert!(normalize("+0123456").is_err());
        assert!(normalize("5551234,EXEC").is_err_and(|e| e.contains("`,`")));
        assert!(normalize("555\r\n1234").is_err());
    }

    proptest! {
        #[test]
        fn accepted_numbers_are_only_digits(s in ".{0,40}") {
            if let Ok(n) = normalize(&s) {
                let digits = n.strip_prefix('+').unwrap_or(&n);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()));
            }
        }
    }
}
