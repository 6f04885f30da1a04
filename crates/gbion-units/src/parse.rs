//! The quantity grammar: a number, then an optional unit expression.
//!
//! ```text
//! quantity  := number [unit-expr]
//! number    := [+-]digits[.digits][(e|E)[+-]digits]        (also ".5"; "−" U+2212 is a minus)
//! unit-expr := ['/'] factor { ( ' ' | '*' | '·' | '/' ) factor }   ('/' divides by the next factor only)
//! factor    := atom [exponent]
//! exponent  := '^' [+-]digits | [+-]digits | superscripts        (cm^2, cm2, s-1, s^-1, cm², s⁻¹)
//! ```
//! Atoms are listed in [`UNIT_TABLE`]. Whitespace between the number and the unit is optional.

use crate::{Dimension, UnitError};

/// A parsed quantity: its value in SI units (m, s, K) and its dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    pub value_si: f64,
    pub dimension: Dimension,
}

/// One unit symbol: its size in SI units, its dimension, and an additive offset to kelvin (non-zero only
/// for degrees Celsius, which are therefore allowed only as a lone unit).
struct Unit {
    symbols: &'static [&'static str],
    scale: f64,
    dimension: Dimension,
    offset_k: f64,
}

const fn unit(symbols: &'static [&'static str], scale: f64, dimension: Dimension) -> Unit {
    Unit {
        symbols,
        scale,
        dimension,
        offset_k: 0.0,
    }
}

const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

/// Every unit symbol the parser accepts.
const UNIT_TABLE: &[Unit] = &[
    unit(&["m"], 1.0, Dimension::LENGTH),
    unit(&["km"], 1e3, Dimension::LENGTH),
    unit(&["cm"], 1e-2, Dimension::LENGTH),
    unit(&["mm"], 1e-3, Dimension::LENGTH),
    unit(&["um", "µm", "μm", "micron", "microns"], 1e-6, Dimension::LENGTH),
    unit(&["nm"], 1e-9, Dimension::LENGTH),
    unit(&["pm"], 1e-12, Dimension::LENGTH),
    unit(&["Å", "Å", "A", "angstrom", "Angstrom"], 1e-10, Dimension::LENGTH),
    unit(&["s", "sec"], 1.0, Dimension::TIME),
    unit(&["ms"], 1e-3, Dimension::TIME),
    unit(&["us", "µs", "μs"], 1e-6, Dimension::TIME),
    unit(&["ns"], 1e-9, Dimension::TIME),
    unit(&["ps"], 1e-12, Dimension::TIME),
    unit(&["fs"], 1e-15, Dimension::TIME),
    unit(&["min"], 60.0, Dimension::TIME),
    unit(&["h", "hr", "hour", "hours"], HOUR, Dimension::TIME),
    unit(&["d", "day", "days"], DAY, Dimension::TIME),
    unit(&["w", "wk", "week", "weeks"], 7.0 * DAY, Dimension::TIME),
    unit(&["K"], 1.0, Dimension::TEMPERATURE),
    Unit {
        symbols: &["C", "°C", "degC", "℃"],
        scale: 1.0,
        dimension: Dimension::TEMPERATURE,
        offset_k: 273.15,
    },
];

const KNOWN_UNITS: &str = "m km cm mm um/µm/μm nm pm Å/A, s ms us ns ps fs min h d w (weeks), K C/°C, \
                           combined with ^n, /, * or spaces (e.g. cm^2/s, cm2/s, cm s^-1)";

fn lookup(symbol: &str) -> Option<&'static Unit> {
    UNIT_TABLE.iter().find(|u| u.symbols.contains(&symbol))
}

impl Quantity {
    /// Parse `s`; a bare number is dimensionless.
    pub fn parse(s: &str) -> Result<Quantity, UnitError> {
        Self::parse_with_default(s, "")
    }

    /// Parse `s`; a bare number is read in `default_unit` (a unit expression, `""` for dimensionless).
    pub fn parse_with_default(s: &str, default_unit: &str) -> Result<Quantity, UnitError> {
        let input = s.trim();
        if input.is_empty() {
            return Err(UnitError::Empty);
        }
        let (number, rest) = split_number(input)?;
        let unit_text = rest.trim();
        let (unit_text, context) = if unit_text.is_empty() {
            (default_unit.trim(), default_unit)
        } else {
            (unit_text, input)
        };
        let unit = parse_unit_expr(unit_text, context)?;
        let value_si = unit.apply(number);
        if !value_si.is_finite() {
            return Err(UnitError::NotFinite {
                input: input.to_string(),
            });
        }
        Ok(Quantity {
            value_si,
            dimension: unit.dimension,
        })
    }
}

/// A parsed unit expression: `value_si = number * scale + offset_k`.
struct UnitExpr {
    scale: f64,
    dimension: Dimension,
    offset_k: f64,
}

impl UnitExpr {
    fn apply(&self, number: f64) -> f64 {
        number * self.scale + self.offset_k
    }
}

fn is_minus(c: char) -> bool {
    c == '-' || c == '−'
}

/// Split the leading decimal number from `input`; returns the number and the remaining text.
fn split_number(input: &str) -> Result<(f64, &str), UnitError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let bad = || UnitError::BadNumber {
        input: input.to_string(),
    };
    let mut i = 0;
    let mut text = String::new();
    if let Some(&(_, c)) = chars.first()
        && (c == '+' || is_minus(c))
    {
        text.push(if c == '+' { '+' } else { '-' });
        i += 1;
    }
    let digits_from = |mut i: usize, text: &mut String| {
        while let Some(&(_, c)) = chars.get(i).filter(|(_, c)| c.is_ascii_digit()) {
            text.push(c);
            i += 1;
        }
        i
    };
    let int_end = digits_from(i, &mut text);
    let mut n_digits = int_end - i;
    i = int_end;
    if chars.get(i).is_some_and(|&(_, c)| c == '.') {
        text.push('.');
        let frac_end = digits_from(i + 1, &mut text);
        n_digits += frac_end - (i + 1);
        i = frac_end;
    }
    if n_digits == 0 {
        return Err(bad());
    }
    if let Some(exp_end) = exponent_end(&chars, i) {
        text.push('e');
        for &(_, c) in &chars[i + 1..exp_end] {
            text.push(if is_minus(c) { '-' } else { c });
        }
        i = exp_end;
    }
    let number: f64 = text.parse().map_err(|_| bad())?;
    if !number.is_finite() {
        return Err(UnitError::NotFinite {
            input: input.to_string(),
        });
    }
    let byte = chars.get(i).map_or(input.len(), |&(b, _)| b);
    Ok((number, &input[byte..]))
}

/// If `chars[i..]` starts a decimal exponent (`e-8`, `E+3`, `e21`), the index just past it.
fn exponent_end(chars: &[(usize, char)], i: usize) -> Option<usize> {
    if !matches!(chars.get(i), Some((_, 'e' | 'E'))) {
        return None;
    }
    let mut j = i + 1;
    if chars.get(j).is_some_and(|&(_, c)| c == '+' || is_minus(c)) {
        j += 1;
    }
    let start = j;
    while chars.get(j).is_some_and(|&(_, c)| c.is_ascii_digit()) {
        j += 1;
    }
    (j > start).then_some(j)
}

fn is_atom_char(c: char) -> bool {
    c.is_alphabetic() || c == '°' || c == '℃'
}

fn superscript_digit(c: char) -> Option<i32> {
    match c {
        '⁰' => Some(0),
        '¹' => Some(1),
        '²' => Some(2),
        '³' => Some(3),
        '⁴' => Some(4),
        '⁵' => Some(5),
        '⁶' => Some(6),
        '⁷' => Some(7),
        '⁸' => Some(8),
        '⁹' => Some(9),
        _ => None,
    }
}

/// A cursor over the characters of a unit expression.
struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    input: &'a str,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn malformed(&self, reason: &'static str) -> UnitError {
        UnitError::Malformed {
            input: self.input.to_string(),
            reason,
        }
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// An optional exponent after an atom; 1 when there is none.
    fn exponent(&mut self) -> Result<i32, UnitError> {
        if self.peek().and_then(superscript_digit).is_some() || self.peek() == Some('⁻') {
            return self.superscript_exponent();
        }
        let caret = self.peek() == Some('^');
        if caret {
            self.pos += 1;
        }
        let negative = match self.peek() {
            Some(c) if is_minus(c) => true,
            Some('+') => false,
            _ => {
                return self.plain_digits(caret, false);
            }
        };
        self.pos += 1;
        self.plain_digits(true, negative)
    }

    fn plain_digits(&mut self, required: bool, negative: bool) -> Result<i32, UnitError> {
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return if required {
                Err(self.malformed("an exponent needs digits, e.g. cm^2 or s^-1"))
            } else {
                Ok(1)
            };
        }
        let e: i32 = digits.parse().map_err(|_| self.malformed("exponent too large"))?;
        Ok(if negative { -e } else { e })
    }

    fn superscript_exponent(&mut self) -> Result<i32, UnitError> {
        let negative = self.peek() == Some('⁻');
        if negative {
            self.pos += 1;
        }
        let mut e = 0i32;
        let mut any = false;
        while let Some(d) = self.peek().and_then(superscript_digit) {
            e = e
                .checked_mul(10)
                .and_then(|e| e.checked_add(d))
                .ok_or_else(|| self.malformed("exponent too large"))?;
            any = true;
            self.pos += 1;
        }
        if !any {
            return Err(self.malformed("a superscript minus needs digits, e.g. s⁻¹"));
        }
        Ok(if negative { -e } else { e })
    }
}

/// Parse a unit expression (no number). `context` is the text reported in errors.
fn parse_unit_expr(text: &str, context: &str) -> Result<UnitExpr, UnitError> {
    let mut cur = Cursor {
        chars: text.chars().collect(),
        pos: 0,
        input: context,
    };
    let mut expr = UnitExpr {
        scale: 1.0,
        dimension: Dimension::NONE,
        offset_k: 0.0,
    };
    let mut celsius_seen = false;
    let mut n_factors = 0;
    let mut total_power_of_first = 0;
    cur.skip_spaces();
    if cur.peek().is_none() {
        return Ok(expr);
    }
    loop {
        let sign = match cur.peek() {
            Some('/') => -1,
            Some('*' | '·' | '⋅') if n_factors == 0 => {
                return Err(cur.malformed("a unit cannot start with '*'"));
            }
            _ => 1,
        };
        if matches!(cur.peek(), Some('/' | '*' | '·' | '⋅')) {
            cur.pos += 1;
            cur.skip_spaces();
        }
        let symbol = cur.take_while(is_atom_char);
        if symbol.is_empty() {
            return Err(cur.malformed("expected a unit symbol"));
        }
        let u = lookup(&symbol).ok_or_else(|| UnitError::UnknownUnit {
            unit: symbol.clone(),
            input: context.to_string(),
            known: KNOWN_UNITS,
        })?;
        let power = sign * cur.exponent()?;
        if power == 0 {
            return Err(cur.malformed("a zero exponent is not a unit"));
        }
        expr.scale *= u.scale.powi(power);
        expr.dimension = expr.dimension.mul(u.dimension.pow(power));
        if u.offset_k != 0.0 {
            celsius_seen = true;
            expr.offset_k = u.offset_k;
        }
        if n_factors == 0 {
            total_power_of_first = power;
        }
        n_factors += 1;
        let spaced = cur.skip_spaces();
        match cur.peek() {
            None => break,
            Some('/' | '*' | '·' | '⋅') => {}
            Some(c) if spaced && is_atom_char(c) => {}
            Some(_) => {
                return Err(cur.malformed("unexpected character; units combine with ^n, /, * or spaces"));
            }
        }
    }
    if celsius_seen && (n_factors != 1 || total_power_of_first != 1) {
        return Err(UnitError::AffineInCompound {
            input: context.to_string(),
        });
    }
    Ok(expr)
}
