//! Line-oriented text input shared by the readers: a [`LineReader`] that streams one line at a time from a
//! `BufRead` (reusing one buffer, so memory stays constant on any file length), counts 1-based line numbers
//! and builds [`Error::Parse`] values at the current line; and number parsers that refuse NaN and infinity.
//!
//! Messages built here follow one form: what was expected, then what was found, quoted —
//! `expected 3 numbers, found "abc"`.

use crate::{Error, Result};
use std::io::BufRead;

/// Streams the lines of a text input, tracking the 1-based number of the last line read.
pub(crate) struct LineReader<R: BufRead> {
    input: R,
    source_name: String,
    line_number: usize,
    bytes: Vec<u8>,
    line: String,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(input: R, source_name: &str) -> Self {
        LineReader {
            input,
            source_name: source_name.to_string(),
            line_number: 0,
            bytes: Vec::new(),
            line: String::new(),
        }
    }

    /// The next line without its end-of-line (`\n` or `\r\n`), or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<&str>> {
        self.bytes.clear();
        let read = self
            .input
            .read_until(b'\n', &mut self.bytes)
            .map_err(|e| Error::parse(&self.source_name, self.line_number + 1, format!("cannot read: {e}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        while matches!(self.bytes.last(), Some(b'\n' | b'\r')) {
            self.bytes.pop();
        }
        self.line.clear();
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => self.line.push_str(text),
            Err(e) => {
                return Err(self.error(format!("not valid UTF-8 text (byte {})", e.valid_up_to() + 1)));
            }
        }
        Ok(Some(&self.line))
    }

    /// The next line, or an error naming `what` was expected when the input has ended (`what` is only
    /// formatted then, so `format_args!` costs nothing on the normal path).
    pub(crate) fn expect_line(&mut self, what: impl std::fmt::Display) -> Result<&str> {
        if self.next_line()?.is_none() {
            return Err(Error::parse(
                &self.source_name,
                self.line_number + 1,
                format!("expected {what}, found the end of the file"),
            ));
        }
        Ok(&self.line)
    }

    /// The 1-based number of the last line returned (0 before the first).
    pub(crate) fn line_number(&self) -> usize {
        self.line_number
    }

    /// The name used in error messages.
    pub(crate) fn source_name(&self) -> &str {
        &self.source_name
    }

    /// A parse error at the last line returned.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::parse(&self.source_name, self.line_number, message)
    }
}

/// A finite real number. Accepts Fortran exponents (`1.0D-3`) as VASP and LAMMPS files may contain them.
pub(crate) fn parse_real(token: &str) -> Option<f64> {
    let value = match token.parse::<f64>() {
        Ok(v) => v,
        Err(_) if token.contains(['d', 'D']) => token.replace(['d', 'D'], "e").parse::<f64>().ok()?,
        Err(_) => return None,
    };
    value.is_finite().then_some(value)
}

/// Exactly `N` finite reals from the start of `tokens` (more tokens may follow; they are not read).
/// The error message says what was found: `expected 3 numbers, found "abc"` or
/// `expected 3 numbers, found 2 ("1.0 2.0")`.
pub(crate) fn leading_reals<'a, const N: usize>(
    tokens: &mut impl Iterator<Item = &'a str>,
) -> std::result::Result<[f64; N], String> {
    let mut values = [0.0; N];
    let mut found = Vec::with_capacity(N);
    for value in values.iter_mut() {
        let Some(token) = tokens.next() else {
            return Err(format!(
                "expected {N} numbers, found {} ({})",
                found.len(),
                quoted(&found.join(" "))
            ));
        };
        *value = parse_real(token).ok_or_else(|| format!("expected {N} numbers, found {}", quoted(token)))?;
        found.push(token);
    }
    Ok(values)
}

/// Quote a token for an error message, cut to a readable length.
pub(crate) fn quoted(token: &str) -> String {
    const LONGEST: usize = 60;
    if token.chars().count() <= LONGEST {
        format!("{token:?}")
    } else {
        let head: String = token.chars().take(LONGEST).collect();
        format!("{head:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_stripped_of_line_ends() {
        let mut reader = LineReader::new("a\r\nb\n\nc".as_bytes(), "f");
        assert_eq!(reader.next_line().unwrap(), Some("a"));
        assert_eq!(reader.next_line().unwrap(), Some("b"));
        assert_eq!(reader.next_line().unwrap(), Some(""));
        assert_eq!(reader.next_line().unwrap(), Some("c"));
        assert_eq!(reader.line_number(), 4);
        assert_eq!(reader.next_line().unwrap(), None);
        let end = reader.expect_line("a count").unwrap_err().to_string();
        assert_eq!(end, "f line 5: expected a count, found the end of the file");
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_line() {
        let mut reader = LineReader::new(&b"ok\n\xff\xfe\n"[..], "f");
        reader.next_line().unwrap();
        let message = reader.next_line().unwrap_err().to_string();
        assert!(message.starts_with("f line 2: not valid UTF-8"), "{message}");
    }

    #[test]
    fn reals_refuse_non_finite_values_and_read_fortran_exponents() {
        assert_eq!(parse_real("1.5D-2"), Some(0.015));
        assert_eq!(parse_real("-2e3"), Some(-2000.0));
        for bad in ["nan", "inf", "-infinity", "1e400", "abc", ""] {
            assert_eq!(parse_real(bad), None, "{bad}");
        }
        let mut tokens = "1.0 abc 3.0".split_whitespace();
        assert_eq!(
            leading_reals::<3>(&mut tokens).unwrap_err(),
            r#"expected 3 numbers, found "abc""#
        );
        let mut tokens = "1.0 2.0".split_whitespace();
        assert_eq!(
            leading_reals::<3>(&mut tokens).unwrap_err(),
            r#"expected 3 numbers, found 2 ("1.0 2.0")"#
        );
        let mut tokens = "1 2 3 T".split_whitespace();
        assert_eq!(leading_reals::<3>(&mut tokens).unwrap(), [1.0, 2.0, 3.0]);
        assert_eq!(tokens.next(), Some("T"));
    }
}
