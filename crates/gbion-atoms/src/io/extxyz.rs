//! Extended XYZ with ASE's conventions (`ase/io/extxyz.py`, ASE 3.29): reading and writing, multi-frame,
//! streaming one frame at a time.
//!
//! A frame is a line with the atom count, a comment line of `key=value` pairs, and one line per atom whose
//! columns are described by `Properties=name:TYPE:ncols:...` (TYPE: `R` real, `I` integer, `S` string,
//! `L` logical `T`/`F`). Without `Properties` a frame is plain XYZ: `species:S:1:pos:R:3`.
//!
//! Comment line (as ASE's `key_val_str_to_dict`): values may be quoted with `"`, `'`, `{}` or `[]`; `\`
//! escapes the next character; a key without `=` is `true`; a value is read as integers if every
//! whitespace/comma separated token is one, else as reals, else as booleans (`T F true false True False
//! TRUE FALSE`), else kept as a string (`uid` always stays a string). One token gives a scalar, several an
//! array. Special keys:
//! - `Lattice`: 9 numbers, the lattice vectors a, b, c one after another (Å). `pbc` defaults to `T T T`
//!   when `Lattice` is present and to `F F F` otherwise.
//! - `energy` (eV) → [`Results::energy`](crate::Results).
//! - `stress` (eV/Å³, ASE sign): 9 numbers (3×3, read in Fortran order as ASE does) or 6 (Voigt xx yy zz
//!   yz xz xy) → [`Results::stress`](crate::Results) in Voigt order. Written as 9 numbers, as ASE does.
//! - `virial` (eV): 9 numbers, kept in `info`; when no `stress` is given and the cell has a volume V, the
//!   stress is set to σ = −W / V (the virial convention of ASE-based trainers such as MACE and NequIP).
//! - every other key → `info`.
//!
//! Per-atom columns: `species`/`symbols` (S) or `Z`/`numbers` (I, preferred when both are present) →
//! elements; `pos`/`positions` (R:3, Å) → positions; `masses` (R:1, amu); `momenta` (R:3, ASE units
//! amu·Å/t with t = Å·√(amu/eV) ≈ 10.18 fs; this is what ASE writes for velocities) or `velo`/`vel`/
//! `velocities` (R:3, Å/fs) → velocities (Å/fs), v = p / m · `ASE_FS`; `forces` (R:3, eV/Å) → forces;
//! `initial_charges`/`charge`/`charges` (R:1, e) → charges. When several columns name the same quantity the
//! first in those lists wins and the others are kept as properties (a second element column is dropped); a
//! recognised name with another type or width (`pos:I:3`) is an error. Every other column → `properties`.
//!
//! Writing produces what ASE writes and reads back identically: `Lattice` (when the cell has any non-zero
//! vector), `Properties=species:S:1:pos:R:3[:masses:R:1][:initial_charges:R:1][:momenta:R:3][:forces:R:3]`
//! followed by the other properties, then `energy`, `stress` (9 values), the info keys and `pbc`. Reals are
//! written in the shortest form that reads back to the same `f64`, so a gbion → gbion round trip is exact
//! (velocities pass through momenta and may differ in the last bit). What extended XYZ cannot carry: a
//! string that looks like a number or boolean reads back as one, a one-element array reads back as a
//! scalar (both as in ASE), and empty strings or arrays and strings with line breaks are refused on write.

use crate::io::text::{LineReader, parse_real, quoted};
use crate::io::{ReadOptions, WriteOptions};
use crate::linalg::{Mat3, Vec3};
use crate::{Cell, Element, Error, InfoValue, Property, Result, Structure};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// One femtosecond in ASE's time unit Å·√(amu/eV) (`ase.units.fs`, CODATA 2014, ASE's default):
/// 1e-15 s × 1e10 √(e / amu).
pub const ASE_FS: f64 = 0.09822694788464063;

/// Most values of one column reserved before the atoms are actually read (the atom count and the column
/// counts come from the file and may be absurd).
const MAX_RESERVED_VALUES: usize = 1 << 14;

/// Streams the frames of an extended XYZ input.
pub struct Reader<R: BufRead> {
    lines: LineReader<R>,
    finished: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader of `input`; `source_name` names it in error messages.
    pub fn new(input: R, source_name: &str, _options: &ReadOptions) -> Self {
        Reader {
            lines: LineReader::new(input, source_name),
            finished: false,
        }
    }

    /// The next frame, `None` at the end of the input (blank lines between and after frames are skipped).
    fn read_frame(&mut self) -> Result<Option<Structure>> {
        let count = loop {
            match self.lines.next_line()? {
                None => return Ok(None),
                Some(line) if line.trim().is_empty() => continue,
                Some(line) => match line.trim().parse::<usize>() {
                    Ok(count) => break count,
                    Err(_) => {
                        let message = format!("expected the number of atoms, found {}", quoted(line.trim()));
                        return Err(self.lines.error(message));
                    }
                },
            }
        };
        let comment = self
            .lines
            .expect_line(format_args!("the comment line of a frame of {count} atoms"))?;
        let header = Header::parse(comment).map_err(|m| self.lines.error(m))?;
        let columns = ColumnSpec::plan(&header.properties).map_err(|m| self.lines.error(format!("Properties: {m}")))?;
        let mut data: Vec<ColumnData> = columns.iter().map(|c| ColumnData::new(c, count)).collect();
        for atom in 0..count {
            let line = self.lines.expect_line(format_args!("atom {} of {count}", atom + 1))?;
            read_atom_line(line, &columns, &mut data, header.plain).map_err(|m| self.lines.error(m))?;
        }
        let comment_line = self.lines.line_number() - count;
        header
            .into_structure(&columns, data)
            .map(Some)
            .map_err(|m| Error::parse(self.lines.source_name(), comment_line, m))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Structure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        // The stream ends at the end of input or at the first error.
        let next = self.read_frame().transpose();
        self.finished = !matches!(next, Some(Ok(_)));
        next
    }
}

// ---------------------------------------------------------------------------------------------------------
// Comment line

/// Split a comment line into `(key, value)` pairs exactly as ASE's `key_val_str_to_dict` does; a bare key
/// has no value.
fn split_key_values(line: &str) -> std::result::Result<Vec<(String, Option<String>)>, String> {
    // Each pair is a list of parts: the key, then the value pieces separated by '='.
    let mut pairs: Vec<Vec<String>> = vec![vec![String::new()]];
    let mut delimiter: Option<char> = None;
    let mut escaped = false;
    for c in line.trim().chars() {
        if escaped {
            last_part(&mut pairs).push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if let Some(close) = delimiter {
            if c == close {
                delimiter = None;
            } else {
                last_part(&mut pairs).push(c);
            }
        } else if let Some(close) = closing_delimiter(c) {
            delimiter = Some(close);
        } else if c.is_whitespace() {
            if !last_part(&mut pairs).is_empty() {
                pairs.push(vec![String::new()]);
            }
        } else if c == '=' {
            if pairs.last().is_some_and(|p| p.len() == 1 && p[0].is_empty()) {
                pairs.pop();
                if pairs.is_empty() {
                    return Err("'=' with no key before it".into());
                }
            }
            pairs.last_mut().expect("checked non-empty").push(String::new());
        } else {
            last_part(&mut pairs).push(c);
        }
    }
    if let Some(close) = delimiter {
        return Err(format!("unclosed quote: missing {close:?}"));
    }
    Ok(pairs
        .into_iter()
        .filter(|p| !(p.len() == 1 && p[0].is_empty()))
        .map(|mut parts| {
            let key = parts.remove(0);
            let value = (!parts.is_empty()).then(|| parts.join("="));
            (key, value)
        })
        .collect())
}

/// The part being built: the last part of the last pair (the splitter never leaves either list empty).
fn last_part(pairs: &mut [Vec<String>]) -> &mut String {
    pairs
        .last_mut()
        .and_then(|p| p.last_mut())
        .expect("pairs are never left empty")
}

fn closing_delimiter(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\'' => Some('\''),
        '{' => Some('}'),
        '[' => Some(']'),
        _ => None,
    }
}

/// Interpret a value as ASE does: integers, else reals, else booleans, else a string. A bare key has the
/// value `T` (true; for `uid`, the string "T").
fn interpret_value(key: &str, value: Option<&str>) -> std::result::Result<InfoValue, String> {
    let text = value.unwrap_or("T");
    if key.eq_ignore_ascii_case("uid") {
        return Ok(InfoValue::Str(text.to_string()));
    }
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    if let Ok(ints) = tokens
        .iter()
        .map(|t| t.parse::<i64>())
        .collect::<std::result::Result<Vec<_>, _>>()
    {
        return Ok(match ints.as_slice() {
            [single] => InfoValue::Int(*single),
            _ => InfoValue::IntArray(ints),
        });
    }
    if let Ok(reals) = tokens
        .iter()
        .map(|t| t.parse::<f64>())
        .collect::<std::result::Result<Vec<_>, _>>()
    {
        if let Some(bad) = tokens.iter().zip(&reals).find(|(_, r)| !r.is_finite()) {
            return Err(format!("key {key}: non-finite number {}", quoted(bad.0)));
        }
        return Ok(match reals.as_slice() {
            [single] => InfoValue::Real(*single),
            _ => InfoValue::RealArray(reals),
        });
    }
    if let Some(bools) = tokens.iter().map(|t| parse_info_bool(t)).collect::<Option<Vec<_>>>() {
        return Ok(match bools.as_slice() {
            [single] => InfoValue::Bool(*single),
            _ => InfoValue::BoolArray(bools),
        });
    }
    Ok(InfoValue::Str(text.to_string()))
}

/// Booleans of the comment line, as ASE: `T`, `F`, `true`, `false`, `True`, `False`, `TRUE`, `FALSE`.
fn parse_info_bool(token: &str) -> Option<bool> {
    match token {
        "T" | "true" | "True" | "TRUE" => Some(true),
        "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The numbers of an info value (integers converted), if it is numeric.
fn numbers_of(value: &InfoValue) -> Option<Vec<f64>> {
    match value {
        InfoValue::Int(i) => Some(vec![*i as f64]),
        InfoValue::Real(r) => Some(vec![*r]),
        InfoValue::IntArray(a) => Some(a.iter().map(|&i| i as f64).collect()),
        InfoValue::RealArray(a) => Some(a.clone()),
        _ => None,
    }
}

/// Exactly `N` numbers of key `key`.
fn fixed_numbers<const N: usize>(key: &str, value: &InfoValue) -> std::result::Result<[f64; N], String> {
    numbers_of(value)
        .and_then(|v| <[f64; N]>::try_from(v).ok())
        .ok_or_else(|| format!("key {key}: expected {N} numbers, found {}", describe(value)))
}

/// A short description of an info value for error messages.
fn describe(value: &InfoValue) -> String {
    match value {
        InfoValue::Int(i) => format!("{i:?}"),
        InfoValue::Real(r) => format!("\"{r:?}\""),
        InfoValue::Bool(b) => format!("\"{}\"", if *b { "T" } else { "F" }),
        InfoValue::Str(s) => quoted(s),
        InfoValue::IntArray(a) => format!("{} integers", a.len()),
        InfoValue::RealArray(a) => format!("{} numbers", a.len()),
        InfoValue::BoolArray(a) => format!("{} booleans", a.len()),
    }
}

/// Lattice vectors a, b, c (rows) from ASE's 9 `Lattice` numbers: ASE reshapes them in Fortran order to
/// the transpose of its cell, so row r of the cell is numbers 3r..3r+3.
fn lattice_rows(values: [f64; 9]) -> Mat3 {
    [
        [values[0], values[1], values[2]],
        [values[3], values[4], values[5]],
        [values[6], values[7], values[8]],
    ]
}

/// Voigt stress (xx yy zz yz xz xy) from ASE's 9 `stress` numbers, reshaped in Fortran order:
/// s[i][j] = values[i + 3j].
fn voigt_from_nine(v: [f64; 9]) -> [f64; 6] {
    [v[0], v[4], v[8], v[7], v[6], v[3]]
}

/// The 9 numbers ASE writes for a Voigt stress: the full symmetric matrix flattened in Fortran order.
fn nine_from_voigt(s: [f64; 6]) -> [f64; 9] {
    let [xx, yy, zz, yz, xz, xy] = s;
    [xx, xy, xz, xy, yy, yz, xz, yz, zz]
}

/// What the comment line of a frame says.
struct Header {
    lattice: Option<Mat3>,
    pbc: Option<[bool; 3]>,
    properties: String,
    /// No `Properties` key: plain XYZ, extra columns are ignored.
    plain: bool,
    energy: Option<f64>,
    stress: Option<[f64; 6]>,
    virial: Option<[f64; 9]>,
    info: BTreeMap<String, InfoValue>,
}

impl Header {
    fn parse(line: &str) -> std::result::Result<Header, String> {
        let mut header = Header {
            lattice: None,
            pbc: None,
            properties: String::new(),
            plain: true,
            energy: None,
            stress: None,
            virial: None,
            info: BTreeMap::new(),
        };
        for (key, value) in split_key_values(line)? {
            let value = interpret_value(&key, value.as_deref())?;
            header.take(key, value)?;
        }
        if header.plain {
            header.properties = "species:S:1:pos:R:3".into();
        }
        Ok(header)
    }

    /// Record one key: a special key sets its field, any other goes to `info` (the last value wins).
    fn take(&mut self, key: String, value: InfoValue) -> std::result::Result<(), String> {
        match key.as_str() {
            "Lattice" => self.lattice = Some(lattice_rows(fixed_numbers::<9>(&key, &value)?)),
            "pbc" => self.pbc = Some(pbc_of(&value)?),
            "Properties" => match value {
                InfoValue::Str(s) => {
                    self.properties = s;
                    self.plain = false;
                }
                other => {
                    return Err(format!(
                        "key Properties: expected name:TYPE:ncols triples, found {}",
                        describe(&other)
                    ));
                }
            },
            "energy" => self.energy = Some(fixed_numbers::<1>(&key, &value)?[0]),
            "stress" => {
                self.stress = Some(match numbers_of(&value).map(|v| v.len()) {
                    Some(6) => fixed_numbers::<6>(&key, &value)?,
                    _ => voigt_from_nine(fixed_numbers::<9>(&key, &value)?),
                })
            }
            "virial" => {
                self.virial = Some(fixed_numbers::<9>(&key, &value)?);
                self.info.insert(key, value);
            }
            _ => {
                self.info.insert(key, value);
            }
        }
        Ok(())
    }

    /// Assemble the frame from the columns read.
    fn into_structure(self, columns: &[ColumnSpec], data: Vec<ColumnData>) -> std::result::Result<Structure, String> {
        let pbc = self.pbc.unwrap_or([self.lattice.is_some(); 3]);
        let cell = Cell::new(self.lattice.unwrap_or([[0.0; 3]; 3]), pbc).map_err(|e| match self.lattice {
            Some(_) => format!("Lattice: {e}"),
            None => format!("pbc is T along some direction but there is no Lattice ({e})"),
        })?;
        let mut frame = Structure {
            cell,
            ..Default::default()
        };
        let mut momenta = None;
        for (spec, column) in columns.iter().zip(data) {
            assign_column(&mut frame, spec, column, &mut momenta)?;
        }
        if frame.masses.is_empty() {
            frame.masses = frame.elements.iter().map(|e| e.mass()).collect();
        }
        if let Some(p) = momenta {
            let v = velocities_from_momenta(&p, &frame.masses);
            // Writing converts back to momenta: both directions must stay finite.
            if !momenta_from_velocities(&v, &frame.masses)
                .iter()
                .flatten()
                .all(|x| x.is_finite())
            {
                return Err("column momenta: velocities p / m out of range".into());
            }
            frame.velocities = Some(v);
        }
        frame.results.energy = self.energy;
        frame.results.stress = match (self.stress, self.virial) {
            (Some(stress), _) => Some(stress),
            (None, Some(w)) => stress_from_virial(w, frame.cell.volume())?,
            (None, None) => None,
        };
        frame.info = self.info;
        Ok(frame)
    }
}

/// σ = −W / V in Voigt order, or `None` without a volume.
fn stress_from_virial(w: [f64; 9], volume: f64) -> std::result::Result<Option<[f64; 6]>, String> {
    if volume.is_nan() || volume <= 0.0 {
        return Ok(None);
    }
    let stress = voigt_from_nine(w.map(|x| -x / volume));
    match stress.iter().all(|x| x.is_finite()) {
        true => Ok(Some(stress)),
        false => Err("key virial: −virial / volume is out of range".into()),
    }
}

/// Periodicity from `pbc`: one boolean for all directions or three.
fn pbc_of(value: &InfoValue) -> std::result::Result<[bool; 3], String> {
    match value {
        InfoValue::Bool(b) => Ok([*b; 3]),
        InfoValue::BoolArray(v) if v.len() == 3 => Ok([v[0], v[1], v[2]]),
        other => Err(format!(
            "key pbc: expected 3 booleans (T or F), found {}",
            describe(other)
        )),
    }
}

/// v = p / m in ASE units, converted to Å/fs.
fn velocities_from_momenta(momenta: &[Vec3], masses: &[f64]) -> Vec<Vec3> {
    momenta
        .iter()
        .zip(masses)
        .map(|(p, m)| p.map(|x| x / m * ASE_FS))
        .collect()
}

/// Momenta in ASE units of velocities in Å/fs: p = m v / `ASE_FS`.
fn momenta_from_velocities(velocities: &[Vec3], masses: &[f64]) -> Vec<Vec3> {
    velocities
        .iter()
        .zip(masses)
        .map(|(v, m)| v.map(|x| m * x / ASE_FS))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Per-atom columns

/// The value type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Real,
    Int,
    Str,
    Logical,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Real => 'R',
            Kind::Int => 'I',
            Kind::Str => 'S',
            Kind::Logical => 'L',
        }
    }
}

/// The quantity of a [`Structure`] a column fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Symbols,
    Numbers,
    Positions,
    Masses,
    Momenta,
    Velocities,
    Forces,
    Charges,
    /// An arbitrary named property, or a column whose quantity another column already gives.
    Property,
    /// A second element column (`species` next to `Z`): redundant, not kept.
    Redundant,
}

/// Column names the reader maps to structure fields, in order of preference within each field.
const RECOGNISED: [(&str, Target, Kind, usize); 15] = [
    ("Z", Target::Numbers, Kind::Int, 1),
    ("numbers", Target::Numbers, Kind::Int, 1),
    ("species", Target::Symbols, Kind::Str, 1),
    ("symbols", Target::Symbols, Kind::Str, 1),
    ("pos", Target::Positions, Kind::Real, 3),
    ("positions", Target::Positions, Kind::Real, 3),
    ("masses", Target::Masses, Kind::Real, 1),
    ("momenta", Target::Momenta, Kind::Real, 3),
    ("velo", Target::Velocities, Kind::Real, 3),
    ("vel", Target::Velocities, Kind::Real, 3),
    ("velocities", Target::Velocities, Kind::Real, 3),
    ("forces", Target::Forces, Kind::Real, 3),
    ("initial_charges", Target::Charges, Kind::Real, 1),
    ("charge", Target::Charges, Kind::Real, 1),
    ("charges", Target::Charges, Kind::Real, 1),
];

/// The field a column name stands for, its preference rank (lower wins), and the type it must have.
fn recognised(name: &str) -> Option<(Target, usize, Kind, usize)> {
    RECOGNISED
        .iter()
        .position(|(n, ..)| *n == name)
        .map(|rank| (RECOGNISED[rank].1, rank, RECOGNISED[rank].2, RECOGNISED[rank].3))
}

/// Whether two targets fill the same field: `Z`/`numbers` and `species`/`symbols` both give the elements,
/// `momenta` and `velo`/`vel`/`velocities` both give the velocities.
fn same_field(a: Target, b: Target) -> bool {
    let group = |t| match t {
        Target::Symbols | Target::Numbers => Target::Symbols,
        Target::Momenta | Target::Velocities => Target::Velocities,
        other => other,
    };
    group(a) == group(b)
}

/// One column group of `Properties`.
#[derive(Clone, Debug)]
struct ColumnSpec {
    name: String,
    kind: Kind,
    columns: usize,
    target: Target,
}

impl ColumnSpec {
    /// Parse `Properties` and decide which column fills which field.
    fn plan(properties: &str) -> std::result::Result<Vec<ColumnSpec>, String> {
        let mut specs = parse_properties(properties)?;
        let mut winners: Vec<(Target, usize, usize)> = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let Some((target, rank, kind, columns)) = recognised(&spec.name) else {
                continue;
            };
            if spec.kind != kind || spec.columns != columns {
                return Err(format!(
                    "{} must be {}:{columns}, found {}:{}",
                    quoted(&spec.name),
                    kind.letter(),
                    spec.kind.letter(),
                    spec.columns
                ));
            }
            match winners.iter_mut().find(|(t, ..)| same_field(*t, target)) {
                Some(winner) if winner.1 > rank => *winner = (target, rank, index),
                Some(_) => {}
                None => winners.push((target, rank, index)),
            }
        }
        for (target, _, index) in winners {
            specs[index].target = target;
        }
        for spec in specs.iter_mut().filter(|s| s.target == Target::Property) {
            if recognised(&spec.name).is_some_and(|(t, ..)| same_field(t, Target::Symbols)) {
                spec.target = Target::Redundant;
            }
        }
        let has = |t: Target| specs.iter().any(|s| same_field(s.target, t));
        if !has(Target::Symbols) {
            return Err("no species (S:1) or Z (I:1) column".into());
        }
        if !has(Target::Positions) {
            return Err("no pos (R:3) column".into());
        }
        Ok(specs)
    }
}

/// Split `name:TYPE:ncols:...` into column specs, all targeting properties until [`ColumnSpec::plan`].
fn parse_properties(properties: &str) -> std::result::Result<Vec<ColumnSpec>, String> {
    let fields: Vec<&str> = properties.split(':').collect();
    if !fields.len().is_multiple_of(3) {
        return Err(format!(
            "expected name:TYPE:ncols triples, found {}",
            quoted(properties)
        ));
    }
    let mut specs: Vec<ColumnSpec> = Vec::new();
    for triple in fields.chunks(3) {
        let (name, kind, count) = (triple[0], triple[1], triple[2]);
        let kind = match kind {
            "R" => Kind::Real,
            "I" => Kind::Int,
            "S" => Kind::Str,
            "L" => Kind::Logical,
            other => {
                return Err(format!(
                    "{}: expected type R, I, S or L, found {}",
                    quoted(name),
                    quoted(other)
                ));
            }
        };
        let columns = count.parse::<usize>().ok().filter(|&c| c > 0).ok_or_else(|| {
            format!(
                "{}: expected a positive column count, found {}",
                quoted(name),
                quoted(count)
            )
        })?;
        if !is_plain_name(name) || specs.iter().any(|s| s.name == name) {
            return Err(format!(
                "column name {} is empty, repeated or not a plain word",
                quoted(name)
            ));
        }
        if kind == Kind::Str && columns != 1 {
            return Err(format!(
                "{}: string columns must have 1 value per atom, found {columns}",
                quoted(name)
            ));
        }
        specs.push(ColumnSpec {
            name: name.to_string(),
            kind,
            columns,
            target: Target::Property,
        });
    }
    Ok(specs)
}

/// The values of one column group, atom-major.
enum ColumnData {
    Skipped,
    Elements(Vec<Element>),
    Real(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

impl ColumnData {
    fn new(spec: &ColumnSpec, atoms: usize) -> ColumnData {
        let capacity = atoms.saturating_mul(spec.columns).min(MAX_RESERVED_VALUES);
        match (spec.target, spec.kind) {
            (Target::Redundant, _) => ColumnData::Skipped,
            (Target::Symbols | Target::Numbers, _) => ColumnData::Elements(Vec::with_capacity(capacity)),
            (_, Kind::Real) => ColumnData::Real(Vec::with_capacity(capacity)),
            (_, Kind::Int) => ColumnData::Int(Vec::with_capacity(capacity)),
            (_, Kind::Logical) => ColumnData::Bool(Vec::with_capacity(capacity)),
            (_, Kind::Str) => ColumnData::Str(Vec::with_capacity(capacity)),
        }
    }

    /// Parse one token of this column.
    fn push(&mut self, spec: &ColumnSpec, token: &str) -> std::result::Result<(), String> {
        let expected = |what: &str| format!("column {}: expected {what}, found {}", spec.name, quoted(token));
        match self {
            ColumnData::Skipped => {}
            ColumnData::Real(v) if spec.target == Target::Masses => v.push(
                parse_real(token)
                    .filter(|m| *m > 0.0)
                    .ok_or_else(|| expected("a positive mass"))?,
            ),
            ColumnData::Elements(v) => v.push(match spec.target {
                Target::Numbers => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|z| Element::from_number(z).ok())
                    .ok_or_else(|| expected("an atomic number"))?,
                _ => Element::from_symbol(token).map_err(|_| expected("an element symbol"))?,
            }),
            ColumnData::Real(v) => v.push(parse_real(token).ok_or_else(|| expected("a finite real number"))?),
            ColumnData::Int(v) => v.push(token.parse().map_err(|_| expected("an integer"))?),
            ColumnData::Bool(v) => v.push(match token {
                "T" | "True" => true,
                "F" | "False" => false,
                _ => return Err(expected("T or F")),
            }),
            ColumnData::Str(v) => v.push(token.to_string()),
        }
        Ok(())
    }
}

/// Read one atom line into the columns.
fn read_atom_line(
    line: &str,
    specs: &[ColumnSpec],
    data: &mut [ColumnData],
    plain: bool,
) -> std::result::Result<(), String> {
    let expected = specs.iter().fold(0usize, |sum, s| sum.saturating_add(s.columns));
    let mut tokens = line.split_whitespace();
    for (spec, column) in specs.iter().zip(data.iter_mut()) {
        for _ in 0..spec.columns {
            let token = tokens.next().ok_or_else(|| {
                format!(
                    "expected {expected} values (Properties), found {}",
                    line.split_whitespace().count()
                )
            })?;
            column.push(spec, token)?;
        }
    }
    if !plain && tokens.next().is_some() {
        return Err(format!(
            "expected {expected} values (Properties), found {}",
            line.split_whitespace().count()
        ));
    }
    Ok(())
}

/// Triples of a 3-column real column.
fn triples(values: Vec<f64>) -> Vec<Vec3> {
    values.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

/// Move a column's values into the field it targets.
fn assign_column(
    frame: &mut Structure,
    spec: &ColumnSpec,
    column: ColumnData,
    momenta: &mut Option<Vec<Vec3>>,
) -> std::result::Result<(), String> {
    match (spec.target, column) {
        (Target::Symbols | Target::Numbers, ColumnData::Elements(e)) => frame.elements = e,
        (Target::Positions, ColumnData::Real(v)) => frame.positions = triples(v),
        (Target::Masses, ColumnData::Real(v)) => frame.masses = v,
        (Target::Redundant, _) => {}
        (Target::Momenta, ColumnData::Real(v)) => *momenta = Some(triples(v)),
        (Target::Velocities, ColumnData::Real(v)) => frame.velocities = Some(triples(v)),
        (Target::Forces, ColumnData::Real(v)) => frame.results.forces = Some(triples(v)),
        (Target::Charges, ColumnData::Real(v)) => frame.charges = Some(v),
        (Target::Property, data) => {
            let columns = spec.columns;
            let property = match data {
                ColumnData::Real(data) => Property::Real { data, columns },
                ColumnData::Int(data) => Property::Int { data, columns },
                ColumnData::Bool(data) => Property::Bool { data, columns },
                ColumnData::Str(data) => Property::Str(data),
                ColumnData::Elements(_) | ColumnData::Skipped => unreachable!("only fields use these"),
            };
            frame.properties.insert(spec.name.clone(), property);
        }
        _ => unreachable!("column storage is chosen from the target"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/// A real number in the shortest form that reads back to the same `f64`.
fn real(x: f64) -> String {
    format!("{x:?}")
}

/// Text for the comment line: quoted (with `"` and `\` escaped) when it contains anything the comment-line
/// parser would treat specially.
fn escape(text: &str) -> String {
    let special = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '{' | '}' | '[' | ']' | '=' | '\\' | ',');
    if !text.contains(special) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn bool_letter(b: bool) -> &'static str {
    if b { "T" } else { "F" }
}

/// The comment-line text of an info value, or why it cannot be written.
fn info_text(key: &str, value: &InfoValue) -> Result<String> {
    // An empty array is written as "," (no tokens), which ASE and gbion read back as an empty array.
    let join = |items: Vec<String>| -> Result<String> {
        match items.is_empty() {
            true => Ok(",".into()),
            false => Ok(items.join(" ")),
        }
    };
    let text = match value {
        InfoValue::Int(i) => i.to_string(),
        InfoValue::Real(r) => finite(key, *r).map(real)?,
        InfoValue::Bool(b) => bool_letter(*b).to_string(),
        InfoValue::Str(s) if s.is_empty() || s.contains('\n') => {
            return Err(Error::Invalid(format!(
                "info {key:?}: an empty string or one with a line break cannot be written to extended XYZ"
            )));
        }
        InfoValue::Str(s) => s.clone(),
        InfoValue::IntArray(a) => join(a.iter().map(i64::to_string).collect())?,
        InfoValue::RealArray(a) => join(a.iter().map(|r| finite(key, *r).map(real)).collect::<Result<_>>()?)?,
        InfoValue::BoolArray(a) => join(a.iter().map(|b| bool_letter(*b).to_string()).collect())?,
    };
    Ok(escape(&text))
}

fn finite(what: &str, x: f64) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::Invalid(format!("{what}: non-finite value {x}")))
    }
}

/// A column group to write: its header triple and how to print atom `i`.
struct OutColumn<'a> {
    name: &'a str,
    kind: Kind,
    columns: usize,
    values: OutValues<'a>,
}

enum OutValues<'a> {
    Symbols(&'a [Element]),
    Reals(std::borrow::Cow<'a, [f64]>),
    Ints(&'a [i64]),
    Bools(&'a [bool]),
    Strs(&'a [String]),
}

impl OutColumn<'_> {
    fn write_atom(&self, line: &mut String, atom: usize) {
        use std::fmt::Write as _;
        let range = atom * self.columns..(atom + 1) * self.columns;
        match &self.values {
            OutValues::Symbols(e) => {
                let _ = write!(line, "{:<2}", e[atom].symbol());
            }
            OutValues::Reals(v) => v[range].iter().for_each(|x| {
                let _ = write!(line, " {x:>24?}");
            }),
            OutValues::Ints(v) => v[range].iter().for_each(|x| {
                let _ = write!(line, " {x:>8}");
            }),
            OutValues::Bools(v) => v[range].iter().for_each(|x| {
                let _ = write!(line, " {}", bool_letter(*x));
            }),
            OutValues::Strs(v) => {
                let _ = write!(line, " {}", v[atom]);
            }
        }
    }
}

fn flat<'b>(v: &[Vec3]) -> std::borrow::Cow<'b, [f64]> {
    std::borrow::Cow::Owned(v.iter().flatten().copied().collect())
}

/// The columns a frame is written with, in ASE's order: species, pos, then the optional fields, then the
/// properties by name.
fn out_columns(frame: &Structure) -> Result<Vec<OutColumn<'_>>> {
    let column = |name, kind, columns, values| OutColumn {
        name,
        kind,
        columns,
        values,
    };
    let mut out = vec![
        column("species", Kind::Str, 1, OutValues::Symbols(&frame.elements)),
        column("pos", Kind::Real, 3, OutValues::Reals(flat(&frame.positions))),
    ];
    let standard = frame.elements.iter().zip(&frame.masses).all(|(e, m)| e.mass() == *m);
    if !standard {
        out.push(column(
            "masses",
            Kind::Real,
            1,
            OutValues::Reals(frame.masses.as_slice().into()),
        ));
    }
    if let Some(q) = &frame.charges {
        out.push(column(
            "initial_charges",
            Kind::Real,
            1,
            OutValues::Reals(q.as_slice().into()),
        ));
    }
    if let Some(v) = &frame.velocities {
        let p = momenta_from_velocities(v, &frame.masses);
        out.push(column("momenta", Kind::Real, 3, OutValues::Reals(flat(&p))));
    }
    if let Some(f) = &frame.results.forces {
        out.push(column("forces", Kind::Real, 3, OutValues::Reals(flat(f))));
    }
    for (name, property) in &frame.properties {
        check_property_name(name, &out)?;
        out.push(match property {
            Property::Real { data, columns } => {
                column(name, Kind::Real, *columns, OutValues::Reals(data.as_slice().into()))
            }
            Property::Int { data, columns } => column(name, Kind::Int, *columns, OutValues::Ints(data)),
            Property::Bool { data, columns } => column(name, Kind::Logical, *columns, OutValues::Bools(data)),
            Property::Str(data) => {
                if let Some(bad) = data.iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
                    return Err(Error::Invalid(format!(
                        "property {name:?}: the value {bad:?} cannot be written to an extended XYZ column"
                    )));
                }
                column(name, Kind::Str, 1, OutValues::Strs(data))
            }
        });
    }
    Ok(out)
}

/// A name that needs no quoting on the comment line (and so can be a column name).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && escape(name) == name && !name.contains(':')
}

/// A property may be written under its name only if the name is a single comment-line token and the
/// reader will read it back as the same property (not as a field such as charges or velocities).
fn check_property_name(name: &str, written: &[OutColumn]) -> Result<()> {
    if !is_plain_name(name) {
        return Err(Error::Invalid(format!(
            "property name {name:?} cannot be an extended XYZ column name"
        )));
    }
    if let Some((target, rank, ..)) = recognised(name) {
        let outranked = written
            .iter()
            .filter_map(|c| recognised(c.name))
            .any(|(t, r, ..)| same_field(t, target) && r < rank);
        if !outranked {
            return Err(Error::Invalid(format!(
                "property {name:?} would be read back as a structure field, not as a property"
            )));
        }
    }
    Ok(())
}

/// The comment line of a frame.
fn comment_line(frame: &Structure, columns: &[OutColumn]) -> Result<String> {
    let mut parts = Vec::new();
    let matrix = frame.cell.matrix();
    if matrix.iter().flatten().any(|x| *x != 0.0) {
        let values: Vec<String> = matrix.iter().flatten().map(|x| real(*x)).collect();
        parts.push(format!("Lattice=\"{}\"", values.join(" ")));
    }
    let triples: Vec<String> = columns
        .iter()
        .map(|c| format!("{}:{}:{}", c.name, c.kind.letter(), c.columns))
        .collect();
    parts.push(format!("Properties={}", triples.join(":")));
    if let Some(e) = frame.results.energy {
        parts.push(format!("energy={}", real(finite("energy", e)?)));
    }
    if let Some(s) = frame.results.stress {
        let nine = nine_from_voigt(s).map(|x| finite("stress", x).map(real));
        parts.push(format!(
            "stress=\"{}\"",
            nine.into_iter().collect::<Result<Vec<_>>>()?.join(" ")
        ));
    }
    for (key, value) in &frame.info {
        if matches!(key.as_str(), "Lattice" | "Properties" | "pbc" | "energy" | "stress") || key.is_empty() {
            return Err(Error::Invalid(format!(
                "info key {key:?} is reserved by extended XYZ; it is written from the structure itself"
            )));
        }
        if key == "virial" && !matches!(numbers_of(value), Some(v) if v.len() == 9) {
            return Err(Error::Invalid("info \"virial\" must hold 9 numbers".into()));
        }
        parts.push(format!("{}={}", escape(key), info_text(key, value)?));
    }
    let pbc: Vec<&str> = frame.cell.pbc().iter().map(|p| bool_letter(*p)).collect();
    parts.push(format!("pbc=\"{}\"", pbc.join(" ")));
    Ok(parts.join(" "))
}

/// Write one frame in extended XYZ (see the module documentation for the layout).
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, _options: &WriteOptions) -> Result<()> {
    frame.validate()?;
    let columns = out_columns(frame)?;
    let comment = comment_line(frame, &columns)?;
    let io = |e: std::io::Error| Error::Invalid(format!("cannot write extended XYZ: {e}"));
    writeln!(out, "{}\n{comment}", frame.len()).map_err(io)?;
    let mut line = String::new();
    for atom in 0..frame.len() {
        line.clear();
        for column in &columns {
            column.write_atom(&mut line, atom);
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ase_fs_is_ase_value() {
        let (e, amu) = (1.6021766208e-19_f64, 1.660539040e-27_f64);
        assert_eq!(1e-15 * (1e10 * (e / amu).sqrt()), ASE_FS);
    }

    #[test]
    fn comment_line_splits_as_ase() {
        let pairs = split_key_values(r#"a = 1 b="x y"z c={1 2 3} flag d=a\"q e=x=y"#).unwrap();
        let expect = |k: &str, v: Option<&str>| (k.to_string(), v.map(str::to_string));
        assert_eq!(
            pairs,
            vec![
                expect("a", Some("1")),
                expect("b", Some("x yz")),
                expect("c", Some("1 2 3")),
                expect("flag", None),
                expect("d", Some("a\"q")),
                expect("e", Some("x=y")),
            ]
        );
        assert!(split_key_values("=1").is_err());
        assert!(split_key_values("a=\"open").is_err());
    }

    #[test]
    fn values_are_typed_as_ase_types_them() {
        let v = |s: &str| interpret_value("k", Some(s)).unwrap();
        assert_eq!(v("3"), InfoValue::Int(3));
        assert_eq!(v("1,2"), InfoValue::IntArray(vec![1, 2]));
        assert_eq!(v("1 2.5"), InfoValue::RealArray(vec![1.0, 2.5]));
        assert_eq!(v("T F"), InfoValue::BoolArray(vec![true, false]));
        assert_eq!(v("TRUE"), InfoValue::Bool(true));
        assert_eq!(v("t"), InfoValue::Str("t".into()));
        assert_eq!(interpret_value("uid", Some("12")).unwrap(), InfoValue::Str("12".into()));
        assert_eq!(interpret_value("k", None).unwrap(), InfoValue::Bool(true));
        assert!(interpret_value("k", Some("1 nan")).is_err());
    }

    #[test]
    fn stress_nine_and_voigt_are_inverse() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(voigt_from_nine(nine_from_voigt(s)), s);
    }

    #[test]
    fn escaped_text_reads_back() {
        for text in [r#"say "hi" \ there"#, "a=b", "{x}", "plain"] {
            let line = format!("k={}", escape(text));
            assert_eq!(split_key_values(&line).unwrap()[0].1.as_deref(), Some(text), "{line}");
        }
    }
}
