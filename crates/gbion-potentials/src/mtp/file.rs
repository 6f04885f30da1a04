//! The MLIP `.mtp` file (MLIP-2 and MLIP-3, `version = 1.1.0`, potential `MTP1m`): [`MtpParameters`] holds
//! a file's contents as numbers, [`MtpParameters::parse`] reads one and [`MtpParameters::to_mtp_string`]
//! writes one in MLIP's flat layout.
//!
//! ```text
//! MTP                                         (tab indentation shown as four spaces)
//! version = 1.1.0
//! potential_name = MTP1m
//! scaling = 3.000000000000000e-02            (optional; absent in untrained templates: 1)
//! species_count = 2
//! potential_tag =
//! radial_basis_type = RBChebyshev
//!     min_dist = 1.200000000000000e+00
//!     max_dist = 5.000000000000000e+00
//!     radial_basis_size = 8
//!     radial_funcs_count = 2
//!     radial_coeffs                               (optional, trained files only)
//!         0-0                                     (block c[centre type][neighbour type])
//!             {c_00, …, c_07}                     (radial_funcs_count rows of radial_basis_size numbers)
//!         0-1
//!         …
//! alpha_moments_count = 18
//! alpha_index_basic_count = 11
//! alpha_index_basic = {{μ, a, b, c}, …}
//! alpha_index_times_count = 14
//! alpha_index_times = {{i1, i2, multiplicity, i3}, …}
//! alpha_scalar_moments = 9
//! alpha_moment_mapping = {0, 10, …}
//! species_coeffs = {…}                          (optional, trained files only)
//! moment_coeffs = {…}                           (optional, trained files only)
//! ```
//!
//! Reading: `key = value` lines are taken with surrounding whitespace stripped, so the tab indentation
//! (which MLIP-2's untrained templates apply inconsistently, e.g. to `alpha_moments_count`) does not matter;
//! a `{…}` list may continue over several lines. MLIP-3's untrained templates (`.almtp`) use the same keys.
//! Every count is checked against its list and every index against its range; errors name the file, the
//! 1-based line and the field.
//!
//! Writing: MLIP's layout and number format (`%.15e`, as MLIP and motep write); a value that 16
//! significant digits do not reproduce exactly is written with 17, so a written file always reads back to
//! the same numbers.

use crate::{Error, Result};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// The only radial basis MLIP's `MTP1m` potential uses (Chebyshev polynomials times (max_dist − r)²).
const RADIAL_BASIS_TYPE: &str = "RBChebyshev";

/// The contents of an `.mtp` file.
#[derive(Clone, Debug, PartialEq)]
pub struct MtpParameters {
    /// `version` (MLIP writes `1.1.0`).
    pub version: String,
    /// `potential_name` (`MTP1m`).
    pub potential_name: String,
    /// `scaling`, the factor of the radial basis; `None` when the file has no such line (then 1).
    pub scaling: Option<f64>,
    /// `species_count`: the number of atom types.
    pub species_count: usize,
    /// `potential_tag` (usually empty).
    pub potential_tag: String,
    /// `min_dist` (Å): the lower end of the Chebyshev interval (not a hard limit).
    pub min_dist: f64,
    /// `max_dist` (Å): the cutoff.
    pub max_dist: f64,
    /// `radial_basis_size`: the number of Chebyshev polynomials.
    pub radial_basis_size: usize,
    /// `radial_funcs_count`: the number of radial functions f_μ.
    pub radial_funcs_count: usize,
    /// `radial_coeffs` c[centre type][neighbour type][μ][k], flattened in that order (row-major); `None` in
    /// untrained templates.
    pub radial_coeffs: Option<Vec<f64>>,
    /// `alpha_moments_count`: basic moments plus products.
    pub alpha_moments_count: usize,
    /// `alpha_index_basic`: rows {μ, a, b, c} of the basic moments Σ_j f_μ(r_ij) (x/r)^a (y/r)^b (z/r)^c.
    pub alpha_index_basic: Vec<[usize; 4]>,
    /// `alpha_index_times`: rows {i1, i2, multiplicity, i3}, meaning M_i3 += multiplicity · M_i1 · M_i2.
    pub alpha_index_times: Vec<[usize; 4]>,
    /// `alpha_moment_mapping`: the moments that are basis functions (length `alpha_scalar_moments`).
    pub alpha_moment_mapping: Vec<usize>,
    /// `species_coeffs` (eV), one per type; `None` in untrained templates.
    pub species_coeffs: Option<Vec<f64>>,
    /// `moment_coeffs` (eV), one per basis function; `None` in untrained templates.
    pub moment_coeffs: Option<Vec<f64>>,
}

impl MtpParameters {
    /// Read an `.mtp` file.
    pub fn read(path: &Path) -> Result<MtpParameters> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::parse(&name, 0, format!("cannot read: {e}")))?;
        MtpParameters::parse(&text, &name)
    }

    /// Parse the text of an `.mtp` file; `source_name` names it in error messages.
    pub fn parse(text: &str, source_name: &str) -> Result<MtpParameters> {
        let raw = RawFile::scan(text, source_name)?;
        raw.into_parameters()
    }

    /// Write the file atomically (a temporary file beside `path`, then renamed).
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let name = path.display().to_string();
        let io_error = |e: std::io::Error| Error::parse(&name, 0, format!("cannot write: {e}"));
        self.check()
            .map_err(|(field, message)| Error::Invalid(format!("{field}: {message}")))?;
        let mut tmp = gbion_atoms::io::temp_file_beside(path).map_err(io_error)?;
        tmp.write_all(self.to_mtp_string().as_bytes()).map_err(io_error)?;
        tmp.persist(path).map_err(|e| io_error(e.error))?;
        Ok(())
    }

    /// The file text in MLIP's flat layout.
    pub fn to_mtp_string(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line("MTP".into());
        line(format!("version = {}", self.version));
        line(format!("potential_name = {}", self.potential_name));
        if let Some(scaling) = self.scaling {
            line(format!("scaling = {}", c_float(scaling)));
        }
        line(format!("species_count = {}", self.species_count));
        line(format!("potential_tag = {}", self.potential_tag));
        line(format!("radial_basis_type = {RADIAL_BASIS_TYPE}"));
        line(format!("\tmin_dist = {}", c_float(self.min_dist)));
        line(format!("\tmax_dist = {}", c_float(self.max_dist)));
        line(format!("\tradial_basis_size = {}", self.radial_basis_size));
        line(format!("\tradial_funcs_count = {}", self.radial_funcs_count));
        if let Some(coeffs) = &self.radial_coeffs {
            line("\tradial_coeffs".into());
            let mut rows = coeffs.chunks(self.radial_basis_size.max(1));
            for centre in 0..self.species_count {
                for neighbour in 0..self.species_count {
                    line(format!("\t\t{centre}-{neighbour}"));
                    for row in rows.by_ref().take(self.radial_funcs_count) {
                        line(format!("\t\t\t{}", float_list(row)));
                    }
                }
            }
        }
        line(format!("alpha_moments_count = {}", self.alpha_moments_count));
        line(format!("alpha_index_basic_count = {}", self.alpha_index_basic.len()));
        line(format!("alpha_index_basic = {}", nested_list(&self.alpha_index_basic)));
        line(format!("alpha_index_times_count = {}", self.alpha_index_times.len()));
        line(format!("alpha_index_times = {}", nested_list(&self.alpha_index_times)));
        line(format!("alpha_scalar_moments = {}", self.alpha_moment_mapping.len()));
        line(format!(
            "alpha_moment_mapping = {}",
            int_list(&self.alpha_moment_mapping)
        ));
        if let Some(coeffs) = &self.species_coeffs {
            line(format!("species_coeffs = {}", float_list(coeffs)));
        }
        if let Some(coeffs) = &self.moment_coeffs {
            line(format!("moment_coeffs = {}", float_list(coeffs)));
        }
        out
    }

    /// Whether the file carries the coefficients an evaluation needs (radial, species and moment).
    pub fn is_trained(&self) -> bool {
        self.radial_coeffs.is_some() && self.species_coeffs.is_some() && self.moment_coeffs.is_some()
    }

    /// The number of radial coefficients: species² · radial_funcs_count · radial_basis_size.
    pub fn radial_coeffs_len(&self) -> usize {
        self.species_count * self.species_count * self.radial_funcs_count * self.radial_basis_size
    }

    /// Check counts and index ranges; on failure, the offending field and what is wrong.
    pub(crate) fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let positive = |field: &'static str, value: usize| {
            if value == 0 {
                Err((field, "must be at least 1".to_string()))
            } else {
                Ok(())
            }
        };
        positive("species_count", self.species_count)?;
        positive("radial_basis_size", self.radial_basis_size)?;
        positive("radial_funcs_count", self.radial_funcs_count)?;
        if !(self.min_dist.is_finite() && self.max_dist.is_finite() && self.min_dist < self.max_dist) {
            return Err((
                "max_dist",
                format!("min_dist {} must be below max_dist {}", self.min_dist, self.max_dist),
            ));
        }
        if self.min_dist < 0.0 {
            return Err(("min_dist", format!("must not be negative, found {}", self.min_dist)));
        }
        if let Some(s) = self.scaling.filter(|s| !s.is_finite()) {
            return Err(("scaling", format!("must be finite, found {s}")));
        }
        let basic_count = self.alpha_index_basic.len();
        if basic_count > self.alpha_moments_count {
            return Err((
                "alpha_index_basic",
                format!(
                    "{basic_count} basic moments exceed alpha_moments_count {}",
                    self.alpha_moments_count
                ),
            ));
        }
        if let Some((row, [mu, ..])) = self
            .alpha_index_basic
            .iter()
            .enumerate()
            .find(|(_, r)| r[0] >= self.radial_funcs_count)
        {
            return Err((
                "alpha_index_basic",
                format!(
                    "row {row}: radial function {mu} is not below radial_funcs_count {}",
                    self.radial_funcs_count
                ),
            ));
        }
        for (row, &[left, right, _, target]) in self.alpha_index_times.iter().enumerate() {
            if target < basic_count || target >= self.alpha_moments_count || left >= target || right >= target {
                return Err((
                    "alpha_index_times",
                    format!(
                        "row {row} {{{left}, {right}, _, {target}}}: need factors below the product and \
                         {basic_count} ≤ product < alpha_moments_count {}",
                        self.alpha_moments_count
                    ),
                ));
            }
        }
        if let Some(&m) = self
            .alpha_moment_mapping
            .iter()
            .find(|&&m| m >= self.alpha_moments_count)
        {
            return Err((
                "alpha_moment_mapping",
                format!(
                    "moment {m} is not below alpha_moments_count {}",
                    self.alpha_moments_count
                ),
            ));
        }
        let lengths = [
            (
                "radial_coeffs",
                self.radial_coeffs.as_ref().map(Vec::len),
                self.radial_coeffs_len(),
            ),
            (
                "species_coeffs",
                self.species_coeffs.as_ref().map(Vec::len),
                self.species_count,
            ),
            (
                "moment_coeffs",
                self.moment_coeffs.as_ref().map(Vec::len),
                self.alpha_moment_mapping.len(),
            ),
        ];
        for (field, found, expected) in lengths {
            if let Some(found) = found.filter(|&n| n != expected) {
                return Err((field, format!("expected {expected} numbers, found {found}")));
            }
        }
        Ok(())
    }
}

/// A value as it appears in the file, with the line it starts on.
struct Entry {
    line: usize,
    value: String,
}

/// One `a-b` block of `radial_coeffs` with its rows.
struct RadialBlock {
    line: usize,
    centre: usize,
    neighbour: usize,
    rows: Vec<(usize, Vec<f64>)>,
}

/// The file split into `key = value` entries and radial blocks, before the values are interpreted.
struct RawFile<'a> {
    source_name: &'a str,
    entries: HashMap<String, Entry>,
    radial_line: Option<usize>,
    blocks: Vec<RadialBlock>,
    last_line: usize,
}

impl<'a> RawFile<'a> {
    fn scan(text: &str, source_name: &'a str) -> Result<RawFile<'a>> {
        let mut raw = RawFile {
            source_name,
            entries: HashMap::new(),
            radial_line: None,
            blocks: Vec::new(),
            last_line: 0,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty());
        match lines.next() {
            Some((_, "MTP")) => {}
            Some((n, other)) => return Err(raw.error(n, format!("expected the header \"MTP\", found \"{other}\""))),
            None => return Err(raw.error(1, "expected the header \"MTP\", found an empty file")),
        }
        let mut in_radial = false;
        while let Some((n, line)) = lines.next() {
            raw.last_line = n;
            if let Some((key, value)) = line.split_once('=') {
                in_radial = false;
                let key = key.trim().to_string();
                let mut value = value.trim().to_string();
                while value.matches('{').count() > value.matches('}').count() {
                    let (_, more) = lines
                        .next()
                        .ok_or_else(|| raw.error(n, format!("{key}: unclosed '{{'")))?;
                    value.push(' ');
                    value.push_str(more);
                }
                if raw.entries.insert(key.clone(), Entry { line: n, value }).is_some() {
                    return Err(raw.error(n, format!("{key}: given twice")));
                }
            } else if line == "radial_coeffs" {
                if raw.radial_line.replace(n).is_some() {
                    return Err(raw.error(n, "radial_coeffs: given twice"));
                }
                in_radial = true;
            } else if in_radial {
                raw.scan_radial_line(n, line)?;
            } else {
                return Err(raw.error(n, format!("expected \"key = value\", found \"{line}\"")));
            }
        }
        Ok(raw)
    }

    /// A block header `a-b` or a row `{…}` inside `radial_coeffs`.
    fn scan_radial_line(&mut self, n: usize, line: &str) -> Result<()> {
        if line.starts_with('{') {
            let row = parse_list(line).and_then(|items| items.iter().map(|s| parse_float(s)).collect());
            let row = row.map_err(|m| self.error(n, format!("radial_coeffs: {m}")))?;
            let block = self.blocks.last_mut().ok_or_else(|| {
                Error::parse(
                    self.source_name,
                    n,
                    "radial_coeffs: a row before the first \"a-b\" block header",
                )
            })?;
            block.rows.push((n, row));
            return Ok(());
        }
        let pair = line
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
        let (centre, neighbour) = pair.ok_or_else(|| {
            self.error(
                n,
                format!("radial_coeffs: expected a block header \"a-b\" or a row \"{{…}}\", found \"{line}\""),
            )
        })?;
        self.blocks.push(RadialBlock {
            line: n,
            centre,
            neighbour,
            rows: Vec::new(),
        });
        Ok(())
    }

    fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::parse(self.source_name, line, message)
    }

    fn entry(&self, key: &str) -> Result<&Entry> {
        self.entries.get(key).ok_or_else(|| {
            self.error(
                self.last_line + 1,
                format!("{key}: missing (the file ended without it)"),
            )
        })
    }

    fn field<T>(&self, key: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<T> {
        let entry = self.entry(key)?;
        parse(&entry.value).map_err(|m| self.error(entry.line, format!("{key}: {m}")))
    }

    fn optional<T>(&self, key: &str, parse: impl Fn(&str) -> std::result::Result<T, String>) -> Result<Option<T>> {
        match self.entries.contains_key(key) {
            true => self.field(key, parse).map(Some),
            false => Ok(None),
        }
    }

    /// A count field that must equal the length of the list it describes.
    fn count(&self, key: &str, actual: usize, list_key: &str) -> Result<()> {
        let count = self.field(key, parse_usize)?;
        if count != actual {
            let line = self.entry(list_key)?.line;
            return Err(self.error(
                line,
                format!("{list_key}: {key} is {count} but the list has {actual} entries"),
            ));
        }
        Ok(())
    }

    fn into_parameters(self) -> Result<MtpParameters> {
        let text = |s: &str| Ok::<_, String>(s.to_string());
        let basis_type = self.field("radial_basis_type", text)?;
        if basis_type != RADIAL_BASIS_TYPE {
            let line = self.entry("radial_basis_type")?.line;
            return Err(self.error(
                line,
                format!("radial_basis_type: only {RADIAL_BASIS_TYPE} is known, found \"{basis_type}\""),
            ));
        }
        let rows4 = |s: &str| parse_nested(s).and_then(|rows| rows.iter().map(|r| parse_row4(r)).collect());
        let floats = |s: &str| parse_list(s).and_then(|items| items.iter().map(|i| parse_float(i)).collect());
        let ints = |s: &str| parse_list(s).and_then(|items| items.iter().map(|i| parse_usize(i)).collect());
        let mut parameters = MtpParameters {
            version: self.field("version", text)?,
            potential_name: self.field("potential_name", text)?,
            scaling: self.optional("scaling", parse_float)?,
            species_count: self.field("species_count", parse_usize)?,
            potential_tag: self.optional("potential_tag", text)?.unwrap_or_default(),
            min_dist: self.field("min_dist", parse_float)?,
            max_dist: self.field("max_dist", parse_float)?,
            radial_basis_size: self.field("radial_basis_size", parse_usize)?,
            radial_funcs_count: self.field("radial_funcs_count", parse_usize)?,
            radial_coeffs: None,
            alpha_moments_count: self.field("alpha_moments_count", parse_usize)?,
            alpha_index_basic: self.field("alpha_index_basic", rows4)?,
            alpha_index_times: self.field("alpha_index_times", rows4)?,
            alpha_moment_mapping: self.field("alpha_moment_mapping", ints)?,
            species_coeffs: self.optional("species_coeffs", floats)?,
            moment_coeffs: self.optional("moment_coeffs", floats)?,
        };
        self.count(
            "alpha_index_basic_count",
            parameters.alpha_index_basic.len(),
            "alpha_index_basic",
        )?;
        self.count(
            "alpha_index_times_count",
            parameters.alpha_index_times.len(),
            "alpha_index_times",
        )?;
        self.count(
            "alpha_scalar_moments",
            parameters.alpha_moment_mapping.len(),
            "alpha_moment_mapping",
        )?;
        parameters.radial_coeffs = self.radial_coeffs(&parameters)?;
        parameters.check().map_err(|(field, message)| {
            let line = self
                .entries
                .get(field)
                .map_or(self.radial_line.unwrap_or(0), |e| e.line);
            self.error(line, format!("{field}: {message}"))
        })?;
        Ok(parameters)
    }

    /// The radial blocks as c[centre][neighbour][μ][k], each block given exactly once with full rows.
    fn radial_coeffs(&self, p: &MtpParameters) -> Result<Option<Vec<f64>>> {
        let Some(start) = self.radial_line else { return Ok(None) };
        let species = p.species_count;
        let block_len = p.radial_funcs_count * p.radial_basis_size;
        let mut coeffs = vec![f64::NAN; p.radial_coeffs_len()];
        let mut seen = vec![false; species * species];
        for block in &self.blocks {
            let (a, b) = (block.centre, block.neighbour);
            if a >= species || b >= species {
                return Err(self.error(
                    block.line,
                    format!("radial_coeffs: block {a}-{b} names a type ≥ species_count {species}"),
                ));
            }
            if std::mem::replace(&mut seen[a * species + b], true) {
                return Err(self.error(block.line, format!("radial_coeffs: block {a}-{b} given twice")));
            }
            if block.rows.len() != p.radial_funcs_count {
                return Err(self.error(
                    block.line,
                    format!(
                        "radial_coeffs: block {a}-{b} has {} rows, radial_funcs_count is {}",
                        block.rows.len(),
                        p.radial_funcs_count
                    ),
                ));
            }
            for (mu, (line, row)) in block.rows.iter().enumerate() {
                if row.len() != p.radial_basis_size {
                    return Err(self.error(
                        *line,
                        format!(
                            "radial_coeffs: block {a}-{b} row {mu} has {} numbers, radial_basis_size is {}",
                            row.len(),
                            p.radial_basis_size
                        ),
                    ));
                }
                let offset = (a * species + b) * block_len + mu * p.radial_basis_size;
                coeffs[offset..offset + row.len()].copy_from_slice(row);
            }
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(self.error(
                start,
                format!(
                    "radial_coeffs: block {}-{} is missing",
                    missing / species,
                    missing % species
                ),
            ));
        }
        Ok(Some(coeffs))
    }
}

fn parse_usize(s: &str) -> std::result::Result<usize, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected a non-negative integer, found \"{}\"", s.trim()))
}

fn parse_float(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("expected a finite number, found \"{}\"", s.trim())),
    }
}

fn parse_row4(items: &[&str]) -> std::result::Result<[usize; 4], String> {
    match items {
        [a, b, c, d] => Ok([parse_usize(a)?, parse_usize(b)?, parse_usize(c)?, parse_usize(d)?]),
        _ => Err(format!("expected rows of 4 integers, found a row of {}", items.len())),
    }
}

/// The items of `{a, b, …}` (an empty list for `{}`).
fn parse_list(s: &str) -> std::result::Result<Vec<&str>, String> {
    let inner = s
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .filter(|t| !t.contains(['{', '}']))
        .ok_or_else(|| format!("expected a list {{a, b, …}}, found \"{}\"", shorten(s)))?;
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(inner.split(',').map(str::trim).collect())
}

/// The rows of `{{a, b}, {c, d}, …}`.
fn parse_nested(s: &str) -> std::result::Result<Vec<Vec<&str>>, String> {
    let bad = || {
        format!(
            "expected a list of lists {{{{a, b}}, {{c, d}}}}, found \"{}\"",
            shorten(s)
        )
    };
    let mut rest = s
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(bad)?
        .trim();
    let mut rows = Vec::new();
    while !rest.is_empty() {
        let end = rest.find('}').ok_or_else(bad)?;
        rows.push(parse_list(&rest[..=end])?);
        rest = rest[end + 1..].trim_start();
        rest = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if rest.is_empty() => rest,
            None => return Err(bad()),
        };
    }
    Ok(rows)
}

/// The start of a long value, for error messages.
fn shorten(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `x` as C's `%.15e` (`3.000000000000000e-02`), or with 16 decimals when 15 do not reproduce `x` exactly.
fn c_float(x: f64) -> String {
    let with = |decimals: usize| {
        let rust = format!("{x:.decimals$e}");
        let (mantissa, exponent) = rust.split_once('e').unwrap_or((&rust, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    };
    let short = with(15);
    if short.parse::<f64>().ok() == Some(x) {
        short
    } else {
        with(16)
    }
}

fn float_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|&v| c_float(v)).collect();
    format!("{{{}}}", items.join(", "))
}

fn int_list(values: &[usize]) -> String {
    let items: Vec<String> = values.iter().map(usize::to_string).collect();
    format!("{{{}}}", items.join(", "))
}

fn nested_list(rows: &[[usize; 4]]) -> String {
    let mut out = String::from("{");
    for (i, row) in rows.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(out, "{sep}{}", int_list(row));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_float_matches_printf() {
        assert_eq!(c_float(0.03), "3.000000000000000e-02");
        assert_eq!(c_float(-780.197_846_746_929), "-7.801978467469290e+02");
        assert_eq!(c_float(0.0), "0.000000000000000e+00");
        assert_eq!(c_float(1e-300), "1.000000000000000e-300");
        // 0.1 + 0.2 needs 17 significant digits.
        let x = 0.1 + 0.2;
        assert_eq!(c_float(x).parse::<f64>().unwrap(), x);
        assert_eq!(c_float(x), "3.0000000000000004e-01");
    }

    #[test]
    fn nested_lists_parse() {
        assert_eq!(
            parse_nested("{{0, 1}, {2,3}}").unwrap(),
            vec![vec!["0", "1"], vec!["2", "3"]]
        );
        assert_eq!(parse_nested("{}").unwrap(), Vec::<Vec<&str>>::new());
        assert!(parse_nested("{{0, 1} {2, 3}}").is_err());
        assert!(parse_list("{1, {2}}").is_err());
    }
}
