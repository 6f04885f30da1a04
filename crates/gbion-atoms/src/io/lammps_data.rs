//! LAMMPS data files (`read_data` / `write_data`), and the LAMMPS conventions shared with the dump format:
//! the box (`xlo xhi`, tilt factors `xy xz yz`), the rotation of a general cell into LAMMPS' restricted
//! triclinic form, type ↔ element maps, and metal-unit velocities.
//!
//! Units are LAMMPS `metal`: Å, amu, e, and velocities in Å/ps, converted to gbion's Å/fs on read
//! (÷ 1000) and back on write (× 1000).
//!
//! Reading: the header (`atoms`, `atom types`, `xlo xhi`, `ylo yhi`, `zlo zhi`, `xy xz yz`; any other
//! counted header line such as `N bonds` is tolerated), `Masses` (a `# Li` comment after the mass names the
//! element), `Atoms` in styles `atomic` (`id type x y z`), `charge` (`id type q x y z`), `full`
//! (`id mol type q x y z`) and `molecular` (`id mol type x y z`), each optionally followed by image flags
//! `ix iy iz`, and `Velocities`. Other sections (bonds, coefficients, ...) are skipped. The style comes from
//! the `Atoms # style` comment, else [`ReadOptions::atom_style`], else the column count (atomic or charge).
//! Atoms are sorted by id; ids are kept as the Int property `id`, types as `type`, image flags as `image`
//! (3 columns), molecule ids as `mol`. Positions are kept as written; a box origin (xlo, ylo, zlo) other
//! than zero is kept in the info key `lammps_origin` so that writing back reproduces the file. The data
//! file does not say which directions are periodic (that is the input script's `boundary`): all three are
//! taken as periodic.
//!
//! The element of type t is: `type_map[t − 1]` when given, else the `# Symbol` comment of its `Masses`
//! line, else the element whose standard mass is within 0.1 amu of its mass (an error if none or several).
//!
//! Writing: LAMMPS needs a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz). A cell already in that form is
//! written as is (with the origin from `lammps_origin`); any other right-handed cell is **rotated** into it,
//! with positions, velocities and forces rotated alike (as ASE does), so the written frame is a rotated
//! copy. A direction that is not periodic and has no cell vector gets a bounding box 1 Å wider than the
//! atoms on each side. Types are numbered by `type_map`, else by the `type` tag when it is consistent with
//! the elements, else by first appearance; each type's mass is that of its first atom, with a `# Symbol`
//! comment; ids come from the `id` tag when it holds distinct positive ids. Tilt factors are not reduced:
//! a strongly skewed cell may need `box tilt large` in old LAMMPS versions.

use crate::io::{ReadOptions, WriteOptions};
use crate::linalg::{Mat3, Vec3, determinant, dot, inverse, mat_mul, norm, scale, vec_mat};
use crate::{Cell, Element, Error, InfoValue, Property, Result, Structure};
use fields::Lines;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

/// Velocity in LAMMPS metal units (Å/ps) per gbion unit (Å/fs).
pub(crate) const METAL_VELOCITY_PER_A_FS: f64 = 1000.0;
/// How far (Å) a bounding box written for a non-periodic direction without a cell vector extends beyond
/// the outermost atoms.
const BOUNDING_BOX_PADDING: f64 = 1.0;
/// Largest number of entries reserved up front from a count in a file (more are pushed as they are read).
pub(crate) const MAX_RESERVE: usize = 1 << 16;
/// Mass tolerance (amu) when an element is inferred from a mass.
const MASS_TOLERANCE: f64 = 0.1;
/// Info key holding the LAMMPS box origin (xlo, ylo, zlo) when it is not zero.
pub(crate) const ORIGIN_KEY: &str = "lammps_origin";

/// Field parsing on top of the crate's [`super::text::LineReader`], shared by the LAMMPS and MLIP readers:
/// owned lines, and numbers that name their field and quote what was found.
pub(crate) mod fields {
    use crate::io::text::{LineReader, parse_real, quoted};
    use crate::{Error, Result};
    use std::io::BufRead;

    /// Numbered lines of a text stream.
    pub(crate) struct Lines<R: BufRead> {
        reader: LineReader<R>,
    }

    impl<R: BufRead> Lines<R> {
        pub(crate) fn new(input: R, source: &str) -> Self {
            Lines {
                reader: LineReader::new(input, source),
            }
        }

        /// The file name given for error messages.
        pub(crate) fn source(&self) -> &str {
            self.reader.source_name()
        }

        /// 1-based number of the line read last.
        pub(crate) fn number(&self) -> usize {
            self.reader.line_number()
        }

        /// The next line without its line ending, or `None` at the end of the input.
        pub(crate) fn next_line(&mut self) -> Result<Option<String>> {
            Ok(self.reader.next_line()?.map(str::to_string))
        }

        /// The next line that is not blank, or `None` at the end of the input.
        pub(crate) fn next_nonblank(&mut self) -> Result<Option<String>> {
            while let Some(line) = self.next_line()? {
                if !line.trim().is_empty() {
                    return Ok(Some(line));
                }
            }
            Ok(None)
        }

        /// The next line, where the end of the input is an error saying what was `expected`.
        pub(crate) fn require_line(&mut self, expected: &str) -> Result<String> {
            self.next_line()?.ok_or_else(|| self.end_of_file(expected))
        }

        /// The error for an input that ends where `expected` should follow (on the line after the last).
        pub(crate) fn end_of_file(&self, expected: &str) -> Error {
            Error::parse(
                self.source(),
                self.number() + 1,
                format!("expected {expected}, found the end of the file"),
            )
        }

        /// A parse error at the current line.
        pub(crate) fn error(&self, message: impl Into<String>) -> Error {
            self.reader.error(message)
        }

        /// A finite real number from `token`, naming `field` when it is missing or malformed.
        pub(crate) fn real(&self, token: Option<&str>, field: &str) -> Result<f64> {
            let token = self.token(token, field)?;
            parse_real(token)
                .ok_or_else(|| self.error(format!("expected a finite number for {field}, found {}", quoted(token))))
        }

        /// An integer from `token`, naming `field` when it is missing or malformed.
        pub(crate) fn integer(&self, token: Option<&str>, field: &str) -> Result<i64> {
            let token = self.token(token, field)?;
            token
                .parse::<i64>()
                .map_err(|_| self.error(format!("expected an integer for {field}, found {}", quoted(token))))
        }

        /// A non-negative count from `token`.
        pub(crate) fn count(&self, token: Option<&str>, field: &str) -> Result<usize> {
            let token = self.token(token, field)?;
            token.parse::<usize>().map_err(|_| {
                self.error(format!(
                    "expected a non-negative integer for {field}, found {}",
                    quoted(token)
                ))
            })
        }

        /// Three finite numbers from the next three tokens.
        pub(crate) fn vec3<'a>(
            &self,
            tokens: &mut impl Iterator<Item = &'a str>,
            fields: [&str; 3],
        ) -> Result<[f64; 3]> {
            Ok([
                self.real(tokens.next(), fields[0])?,
                self.real(tokens.next(), fields[1])?,
                self.real(tokens.next(), fields[2])?,
            ])
        }

        fn token<'a>(&self, token: Option<&'a str>, field: &str) -> Result<&'a str> {
            token.ok_or_else(|| self.error(format!("expected {field}, found the end of the line")))
        }
    }

    /// `x` in the shortest decimal form that reads back to the same `f64` (at most 17 significant digits).
    pub(crate) fn real_to_string(x: f64) -> String {
        format!("{x:?}")
    }
}

/// Type (0-based index) of every atom and the element of every type, for formats that number species.
///
/// With `type_map`, an atom's type is the index of its element in the map (an element missing from the
/// map is an error). Otherwise the integer tag `tag` (with 0- or 1-based values, `base`) is used when every
/// atom has one and each type names a single element with no unused type in between; otherwise types
/// are numbered by first appearance of each element.
pub(crate) fn species_types(
    structure: &Structure,
    type_map: Option<&[Element]>,
    tag: &str,
    base: i64,
) -> Result<(Vec<usize>, Vec<Element>)> {
    if let Some(map) = type_map {
        let types = structure
            .elements
            .iter()
            .map(|e| {
                map.iter().position(|m| m == e).ok_or_else(|| {
                    let names: Vec<_> = map.iter().map(|m| m.symbol()).collect();
                    Error::Invalid(format!("element {e} is not in the type map [{}]", names.join(", ")))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok((types, map.to_vec()));
    }
    if let Some(found) = types_from_tag(structure, tag, base) {
        return Ok(found);
    }
    let table = structure.distinct_elements();
    let types = structure
        .elements
        .iter()
        .map(|e| table.iter().position(|t| t == e).unwrap_or(0))
        .collect();
    Ok((types, table))
}

/// Types from an integer tag, when it is consistent with the elements and has no gaps.
fn types_from_tag(structure: &Structure, tag: &str, base: i64) -> Option<(Vec<usize>, Vec<Element>)> {
    let values = structure.int_tag(tag)?;
    let types: Vec<usize> = values
        .iter()
        .map(|&t| {
            usize::try_from(t.checked_sub(base)?)
                .ok()
                .filter(|&t| t < structure.len().max(1) * 2)
        })
        .collect::<Option<_>>()?;
    let count = types.iter().max().map_or(0, |m| m + 1);
    let mut table: Vec<Option<Element>> = vec![None; count];
    for (&t, &e) in types.iter().zip(&structure.elements) {
        match table[t] {
            None => table[t] = Some(e),
            Some(existing) if existing != e => return None,
            Some(_) => {}
        }
    }
    let table: Vec<Element> = table.into_iter().collect::<Option<_>>()?;
    Some((types, table))
}

/// The element of each type from `Masses`: the `# Symbol` comment, else a unique element within
/// [`MASS_TOLERANCE`] of the mass.
pub(crate) fn element_from_mass(mass: f64) -> std::result::Result<Element, String> {
    let candidates: Vec<Element> = (1..=118)
        .filter_map(|z| Element::from_number(z).ok())
        .filter(|e| (e.mass() - mass).abs() <= MASS_TOLERANCE)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("no element has a mass within {MASS_TOLERANCE} amu of {mass}")),
        several => {
            let names: Vec<_> = several.iter().map(|e| e.symbol()).collect();
            Err(format!(
                "mass {mass} is ambiguous ({}); give a type map",
                names.join(", ")
            ))
        }
    }
}

/// A LAMMPS box: origin (xlo, ylo, zlo), edge lengths (lx, ly, lz) and tilt factors (xy, xz, yz).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LammpsBox {
    pub origin: Vec3,
    pub lengths: Vec3,
    pub tilt: Vec3,
}

impl LammpsBox {
    /// The cell matrix a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz).
    pub fn matrix(&self) -> Mat3 {
        let [lx, ly, lz] = self.lengths;
        let [xy, xz, yz] = self.tilt;
        [[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]
    }

    /// Whether any tilt factor is non-zero.
    pub fn is_triclinic(&self) -> bool {
        self.tilt.iter().any(|t| *t != 0.0)
    }

    /// `hi` bounds: xhi = xlo + lx, ...
    pub fn hi(&self) -> Vec3 {
        [0, 1, 2].map(|k| self.origin[k] + self.lengths[k])
    }

    /// The cell with the given periodicity; the origin goes to the structure's info, not the cell.
    pub fn cell(&self, pbc: [bool; 3]) -> Result<Cell> {
        Cell::new(self.matrix(), pbc)
    }

    /// Record a non-zero origin in `info` under [`ORIGIN_KEY`].
    pub fn store_origin(&self, info: &mut BTreeMap<String, InfoValue>) {
        if self.origin != [0.0; 3] {
            info.insert(ORIGIN_KEY.to_string(), InfoValue::RealArray(self.origin.to_vec()));
        }
    }
}

/// A structure in LAMMPS' frame: box, and positions, velocities (Å/fs) and forces in the (possibly
/// rotated) frame of that box.
pub(crate) struct LammpsFrame {
    pub lammps_box: LammpsBox,
    pub positions: Vec<Vec3>,
    pub velocities: Option<Vec<Vec3>>,
    pub forces: Option<Vec<Vec3>>,
}

/// Bring `structure` into LAMMPS' restricted triclinic form (see the module documentation).
pub(crate) fn lammps_frame(structure: &Structure) -> Result<LammpsFrame> {
    let (matrix, origin) = bounded_cell(structure);
    let lammps_box_of = |origin: Vec3, m: &Mat3| LammpsBox {
        origin,
        lengths: [m[0][0], m[1][1], m[2][2]],
        tilt: [m[1][0], m[2][0], m[2][1]],
    };
    if is_lammps_form(&matrix) {
        return Ok(LammpsFrame {
            lammps_box: lammps_box_of(origin, &matrix),
            positions: structure.positions.clone(),
            velocities: structure.velocities.clone(),
            forces: structure.results.forces.clone(),
        });
    }
    if determinant(&matrix) <= 0.0 {
        return Err(Error::Invalid(
            "LAMMPS needs a right-handed cell (a · (b × c) > 0); this cell is left-handed".into(),
        ));
    }
    let target = restricted_triclinic(&matrix);
    let inv = inverse(&matrix).ok_or_else(|| Error::InvalidCell("the cell is singular".into()))?;
    let rotation = mat_mul(&inv, &target);
    let rotate = |v: &Vec<Vec3>| v.iter().map(|r| vec_mat(*r, &rotation)).collect::<Vec<_>>();
    Ok(LammpsFrame {
        lammps_box: lammps_box_of(vec_mat(origin, &rotation), &target),
        positions: rotate(&structure.positions),
        velocities: structure.velocities.as_ref().map(rotate),
        forces: structure.results.forces.as_ref().map(rotate),
    })
}

/// Whether `m` is a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz) with positive lx, ly, lz.
fn is_lammps_form(m: &Mat3) -> bool {
    m[0][1] == 0.0 && m[0][2] == 0.0 && m[1][2] == 0.0 && m[0][0] > 0.0 && m[1][1] > 0.0 && m[2][2] > 0.0
}

/// The restricted triclinic matrix with the same lengths and angles as the right-handed `m`:
/// lx = |a|, xy = b·â, ly = √(|b|² − xy²), xz = c·â, yz = (b·c − xy·xz)/ly, lz = √(|c|² − xz² − yz²)
/// (LAMMPS manual, "Triclinic (non-orthogonal) simulation boxes").
fn restricted_triclinic(m: &Mat3) -> Mat3 {
    let [a, b, c] = *m;
    let lx = norm(a);
    let a_hat = scale(a, 1.0 / lx);
    let xy = dot(b, a_hat);
    let ly = (dot(b, b) - xy * xy).max(0.0).sqrt();
    let xz = dot(c, a_hat);
    let yz = (dot(b, c) - xy * xz) / ly;
    let lz = (dot(c, c) - xz * xz - yz * yz).max(0.0).sqrt();
    [[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]
}

/// The cell matrix with every zero vector (a non-periodic direction) replaced by a bounding box of the
/// atoms along the completed direction, and the box origin (from `lammps_origin`, or the bounding box).
fn bounded_cell(structure: &Structure) -> (Mat3, Vec3) {
    let mut matrix = *structure.cell.matrix();
    let mut origin = match structure.info.get(ORIGIN_KEY) {
        Some(InfoValue::RealArray(o)) if o.len() == 3 && o.iter().all(|v| v.is_finite()) => [o[0], o[1], o[2]],
        _ => [0.0; 3],
    };
    for axis in 0..3 {
        if norm(matrix[axis]) != 0.0 {
            continue;
        }
        let mut unit = [0.0; 3];
        unit[axis] = 1.0;
        let direction = structure.cell.to_cartesian(unit);
        let extent = structure
            .positions
            .iter()
            .map(|r| structure.cell.to_fractional(*r)[axis])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(s), hi.max(s)));
        let (lo, hi) = if extent.0.is_finite() { extent } else { (0.0, 0.0) };
        matrix[axis] = scale(direction, hi - lo + 2.0 * BOUNDING_BOX_PADDING);
        for (o, d) in origin.iter_mut().zip(direction) {
            *o += d * (lo - BOUNDING_BOX_PADDING);
        }
    }
    (matrix, origin)
}

/// An atom style of the `Atoms` section: which columns come between the id and the position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtomStyle {
    /// `id type x y z`
    Atomic,
    /// `id type q x y z`
    Charge,
    /// `id mol type q x y z`
    Full,
    /// `id mol type x y z`
    Molecular,
}

impl AtomStyle {
    fn from_name(name: &str) -> Option<AtomStyle> {
        match name.to_ascii_lowercase().as_str() {
            "atomic" => Some(AtomStyle::Atomic),
            "charge" => Some(AtomStyle::Charge),
            "full" => Some(AtomStyle::Full),
            "molecular" => Some(AtomStyle::Molecular),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AtomStyle::Atomic => "atomic",
            AtomStyle::Charge => "charge",
            AtomStyle::Full => "full",
            AtomStyle::Molecular => "molecular",
        }
    }

    fn has_mol(self) -> bool {
        matches!(self, AtomStyle::Full | AtomStyle::Molecular)
    }

    fn has_charge(self) -> bool {
        matches!(self, AtomStyle::Full | AtomStyle::Charge)
    }

    /// Columns without image flags.
    fn columns(self) -> usize {
        5 + usize::from(self.has_mol()) + usize::from(self.has_charge())
    }

    fn column_names(self) -> &'static str {
        match self {
            AtomStyle::Atomic => "id type x y z",
            AtomStyle::Charge => "id type q x y z",
            AtomStyle::Full => "id mol type q x y z",
            AtomStyle::Molecular => "id mol type x y z",
        }
    }

    /// Parse a style name, where an unknown name is an error listing the supported ones.
    fn parse(name: &str) -> std::result::Result<AtomStyle, String> {
        AtomStyle::from_name(name)
            .ok_or_else(|| format!("atom style \"{name}\" is not supported (atomic, charge, full, molecular)"))
    }
}

/// Section names of LAMMPS data files (`read_data` documentation).
const SECTIONS: [&str; 25] = [
    "Atoms",
    "Velocities",
    "Masses",
    "Ellipsoids",
    "Lines",
    "Triangles",
    "Bodies",
    "Bonds",
    "Angles",
    "Dihedrals",
    "Impropers",
    "Pair Coeffs",
    "PairIJ Coeffs",
    "Bond Coeffs",
    "Angle Coeffs",
    "Dihedral Coeffs",
    "Improper Coeffs",
    "BondBond Coeffs",
    "BondAngle Coeffs",
    "MiddleBondTorsion Coeffs",
    "EndBondTorsion Coeffs",
    "AngleTorsion Coeffs",
    "AngleAngleTorsion Coeffs",
    "BondBond13 Coeffs",
    "AngleAngle Coeffs",
];

/// Split a line into its content and its `#` comment (both trimmed).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    match line.split_once('#') {
        Some((content, comment)) => (content.trim(), Some(comment.trim())),
        None => (line.trim(), None),
    }
}

/// The section a line starts, if it is a section header.
fn section_of(content: &str) -> Option<&'static str> {
    let words: Vec<&str> = content.split_whitespace().collect();
    let joined = words.join(" ");
    SECTIONS.iter().copied().find(|s| *s == joined)
}

/// One line of the `Atoms` section.
struct AtomLine {
    id: i64,
    mol: Option<i64>,
    atom_type: usize,
    charge: Option<f64>,
    position: Vec3,
    image: Option<[i64; 3]>,
    line: usize,
}

/// Everything read from a data file before it becomes a [`Structure`].
#[derive(Default)]
struct DataFile {
    n_atoms: Option<usize>,
    n_types: Option<usize>,
    lammps_box: Option<LammpsBox>,
    /// Mass, `# Symbol` comment and line of each type (1-based).
    masses: BTreeMap<usize, (f64, Option<String>, usize)>,
    atoms: Vec<AtomLine>,
    style: Option<AtomStyle>,
    velocities: Vec<(i64, Vec3, usize)>,
    has_atoms_section: bool,
}

/// Streaming reader of a LAMMPS data file (one frame).
pub struct Reader<R: BufRead> {
    lines: Lines<R>,
    options: ReadOptions,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, source_name: &str, options: &ReadOptions) -> Self {
        Reader {
            lines: Lines::new(input, source_name),
            options: options.clone(),
            done: false,
        }
    }

    fn read(&mut self) -> Result<Structure> {
        let mut data = DataFile::default();
        if self.lines.next_line()?.is_none() {
            return Err(self
                .lines
                .error("empty file: expected the title line of a LAMMPS data file"));
        }
        let mut section = self.read_header(&mut data)?;
        while let Some((name, comment)) = section {
            section = match name {
                "Masses" => self.read_masses(&mut data)?,
                "Atoms" => self.read_atoms(&mut data, comment.as_deref())?,
                "Velocities" => self.read_velocities(&mut data)?,
                _ => self.skip_section()?,
            };
        }
        self.build(data)
    }

    /// Header lines up to the first section; returns that section (name and comment).
    fn read_header(&mut self, data: &mut DataFile) -> Result<Option<(&'static str, Option<String>)>> {
        let mut lo_hi: [Option<[f64; 2]>; 3] = [None; 3];
        let mut tilt = [0.0; 3];
        let found = loop {
            let Some(line) = self.lines.next_line()? else {
                break None;
            };
            let (content, comment) = split_comment(&line);
            if content.is_empty() {
                continue;
            }
            if let Some(section) = section_of(content) {
                break Some((section, comment.map(str::to_string)));
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            let keyword = |n: usize| words[words.len().saturating_sub(n)..].join(" ");
            if keyword(2) == "atom types" {
                data.n_types = Some(self.lines.count(words.first().copied(), "the number of atom types")?);
            } else if keyword(1) == "atoms" && words.len() == 2 {
                data.n_atoms = Some(self.lines.count(words.first().copied(), "the number of atoms")?);
            } else if let Some(axis) = ["xlo xhi", "ylo yhi", "zlo zhi"].iter().position(|k| keyword(2) == *k) {
                let field = ["xlo", "ylo", "zlo"][axis];
                let lo = self.lines.real(words.first().copied(), field)?;
                let hi_field = ["xhi", "yhi", "zhi"][axis];
                let hi = self
                    .lines
                    .real(words.get(1).copied().filter(|_| words.len() == 4), hi_field)?;
                if !(hi - lo > 0.0 && (hi - lo).is_finite()) {
                    return Err(self
                        .lines
                        .error(format!("{hi_field} ({hi}) must exceed {field} ({lo})")));
                }
                lo_hi[axis] = Some([lo, hi]);
            } else if keyword(3) == "xy xz yz" && words.len() == 6 {
                let mut tokens = words.iter().copied();
                tilt = self.lines.vec3(&mut tokens, ["xy", "xz", "yz"])?;
            } else if words.len() >= 2 && words[0].parse::<f64>().is_ok() {
                // Other counted header lines (bonds, extra bond per atom, ellipsoids, ...): tolerated.
            } else {
                return Err(self.lines.error(format!(
                    "expected a header line (\"N atoms\", \"xlo xhi\", ...) or a section name, found \"{}\"",
                    line.trim()
                )));
            }
        };
        data.lammps_box = Some(box_from(lo_hi, tilt));
        Ok(found)
    }

    /// Read `count` non-blank entry lines of a section, calling `entry` on each; then find the next
    /// section header.
    fn read_entries(
        &mut self,
        count: usize,
        what: &str,
        mut entry: impl FnMut(&Lines<R>, &str, Option<&str>) -> Result<()>,
    ) -> Result<Option<(&'static str, Option<String>)>> {
        for read in 0..count {
            let line = loop {
                let line = self
                    .lines
                    .require_line(&format!("{what} entry {} of {count}", read + 1))?;
                if !split_comment(&line).0.is_empty() {
                    break line;
                }
            };
            let (content, comment) = split_comment(&line);
            entry(&self.lines, content, comment)?;
        }
        self.next_section()
    }

    /// The next section header after the entries of a section; anything else is an error.
    fn next_section(&mut self) -> Result<Option<(&'static str, Option<String>)>> {
        while let Some(line) = self.lines.next_line()? {
            let (content, comment) = split_comment(&line);
            if content.is_empty() {
                continue;
            }
            return match section_of(content) {
                Some(section) => Ok(Some((section, comment.map(str::to_string)))),
                None => Err(self.lines.error(format!(
                    "expected a section name (Atoms, Velocities, Masses, ...) after the entries announced in the header, found \"{}\"",
                    line.trim()
                ))),
            };
        }
        Ok(None)
    }

    /// Skip an unsupported section up to the next section header.
    fn skip_section(&mut self) -> Result<Option<(&'static str, Option<String>)>> {
        while let Some(line) = self.lines.next_line()? {
            let (content, comment) = split_comment(&line);
            if let Some(section) = section_of(content) {
                return Ok(Some((section, comment.map(str::to_string))));
            }
        }
        Ok(None)
    }

    fn read_masses(&mut self, data: &mut DataFile) -> Result<Option<(&'static str, Option<String>)>> {
        let n_types = data
            .n_types
            .ok_or_else(|| self.lines.error("Masses section before the \"atom types\" header line"))?;
        let masses = &mut data.masses;
        self.read_entries(n_types, "Masses", |lines, content, comment| {
            let mut tokens = content.split_whitespace();
            let t = lines.count(tokens.next(), "the atom type")?;
            let mass = lines.real(tokens.next(), "the mass")?;
            if t == 0 || t > n_types {
                return Err(lines.error(format!("atom type {t} is outside 1..={n_types}")));
            }
            if mass <= 0.0 {
                return Err(lines.error(format!("mass of type {t} must be positive, found {mass}")));
            }
            let symbol = comment.and_then(|c| c.split_whitespace().next()).map(str::to_string);
            masses.insert(t, (mass, symbol, lines.number()));
            Ok(())
        })
    }

    fn read_atoms(
        &mut self,
        data: &mut DataFile,
        comment: Option<&str>,
    ) -> Result<Option<(&'static str, Option<String>)>> {
        let n_atoms = data
            .n_atoms
            .ok_or_else(|| self.lines.error("Atoms section before the \"atoms\" header line"))?;
        let n_types = data.n_types.unwrap_or(0);
        let declared = match comment.and_then(|c| c.split_whitespace().next()) {
            Some(name) => Some(AtomStyle::parse(name).map_err(|m| self.lines.error(m))?),
            None => match &self.options.atom_style {
                Some(name) => Some(AtomStyle::parse(name).map_err(|m| self.lines.error(m))?),
                None => None,
            },
        };
        data.has_atoms_section = true;
        let atoms = &mut data.atoms;
        atoms.reserve(n_atoms.min(MAX_RESERVE));
        let mut style = declared;
        let result = self.read_entries(n_atoms, "Atoms", |lines, content, _| {
            let tokens: Vec<&str> = content.split_whitespace().collect();
            let style = *style.get_or_insert(match tokens.len() {
                5 | 8 => AtomStyle::Atomic,
                6 | 9 => AtomStyle::Charge,
                n => {
                    return Err(lines.error(format!(
                        "cannot tell the atom style from {n} columns (atomic has 5 or 8, charge 6 or 9); name it in \"Atoms # style\""
                    )));
                }
            });
            atoms.push(parse_atom_line(lines, &tokens, style, n_types)?);
            Ok(())
        });
        data.style = style;
        result
    }

    fn read_velocities(&mut self, data: &mut DataFile) -> Result<Option<(&'static str, Option<String>)>> {
        let n_atoms = data
            .n_atoms
            .ok_or_else(|| self.lines.error("Velocities section before the \"atoms\" header line"))?;
        let velocities = &mut data.velocities;
        velocities.reserve(n_atoms.min(MAX_RESERVE));
        self.read_entries(n_atoms, "Velocities", |lines, content, _| {
            let mut tokens = content.split_whitespace();
            let id = lines.integer(tokens.next(), "the atom id")?;
            let v = lines.vec3(&mut tokens, ["vx", "vy", "vz"])?;
            if let Some(extra) = tokens.next() {
                return Err(lines.error(format!("expected 4 values (id vx vy vz), found extra \"{extra}\"")));
            }
            velocities.push((id, scale(v, 1.0 / METAL_VELOCITY_PER_A_FS), lines.number()));
            Ok(())
        })
    }

    /// Turn what was read into a structure: sort by id, resolve elements, attach velocities.
    fn build(&self, mut data: DataFile) -> Result<Structure> {
        let n_atoms = data.n_atoms.unwrap_or(0);
        if n_atoms > 0 && !data.has_atoms_section {
            return Err(self.lines.error(format!(
                "the header announces {n_atoms} atoms but there is no Atoms section"
            )));
        }
        data.atoms.sort_by_key(|a| a.id);
        if let Some(pair) = data.atoms.windows(2).find(|w| w[0].id == w[1].id) {
            let source = self.lines.source();
            return Err(Error::parse(
                source,
                pair[1].line,
                format!("atom id {} appears twice", pair[1].id),
            ));
        }
        let lammps_box = data.lammps_box.clone().unwrap_or(LammpsBox {
            origin: [-0.5; 3],
            lengths: [1.0; 3],
            tilt: [0.0; 3],
        });
        let cell = lammps_box
            .cell([true; 3])
            .map_err(|e| self.lines.error(e.to_string()))?;
        let type_elements = self.type_elements(&data)?;
        let of_type = |a: &AtomLine| type_elements.get(&a.atom_type).copied().unwrap_or((Element(0), 0.0));
        let elements = data.atoms.iter().map(|a| of_type(a).0).collect();
        let positions = data.atoms.iter().map(|a| a.position).collect();
        let mut structure = Structure::new(cell, elements, positions)?;
        structure.masses = data.atoms.iter().map(|a| of_type(a).1).collect();
        lammps_box.store_origin(&mut structure.info);
        attach_atom_columns(&mut structure, &data.atoms, data.style)?;
        if !data.velocities.is_empty() {
            structure.velocities = Some(self.velocities_by_id(&data)?);
        }
        Ok(structure)
    }

    /// Element and mass of each type (1-based) used by some atom.
    fn type_elements(&self, data: &DataFile) -> Result<BTreeMap<usize, (Element, f64)>> {
        let mut first_line = BTreeMap::new();
        for atom in &data.atoms {
            first_line.entry(atom.atom_type).or_insert(atom.line);
        }
        let source = self.lines.source();
        first_line
            .into_iter()
            .map(|(t, line)| {
                let mass_entry = data.masses.get(&t);
                let element = self
                    .element_of_type(t, mass_entry)
                    .map_err(|message| Error::parse(source, mass_entry.map_or(line, |m| m.2), message))?;
                Ok((t, (element, mass_entry.map_or(element.mass(), |m| m.0))))
            })
            .collect()
    }

    fn element_of_type(
        &self,
        t: usize,
        mass: Option<&(f64, Option<String>, usize)>,
    ) -> std::result::Result<Element, String> {
        if let Some(map) = &self.options.type_map {
            return map
                .get(t - 1)
                .copied()
                .ok_or_else(|| format!("atom type {t} is beyond the type map of {} elements", map.len()));
        }
        match mass {
            Some((_, Some(symbol), _)) if Element::from_symbol(symbol).is_ok() => {
                Element::from_symbol(symbol).map_err(|e| e.to_string())
            }
            Some((m, _, _)) => element_from_mass(*m).map_err(|e| format!("atom type {t}: {e}")),
            None => Err(format!(
                "atom type {t} has no element: give a type map or a Masses entry"
            )),
        }
    }

    /// Velocities in the order of the (sorted) atoms.
    fn velocities_by_id(&self, data: &DataFile) -> Result<Vec<Vec3>> {
        let source = self.lines.source();
        let index: HashMap<i64, usize> = data.atoms.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        let mut velocities: Vec<Option<Vec3>> = vec![None; data.atoms.len()];
        for &(id, v, line) in &data.velocities {
            let slot = index.get(&id).and_then(|&i| velocities.get_mut(i)).ok_or_else(|| {
                Error::parse(
                    source,
                    line,
                    format!("velocity for atom id {id}, which is not in Atoms"),
                )
            })?;
            if slot.replace(v).is_some() {
                return Err(Error::parse(source, line, format!("second velocity for atom id {id}")));
            }
        }
        Ok(velocities.into_iter().map(|v| v.unwrap_or([0.0; 3])).collect())
    }
}

/// The box from validated `lo hi` pairs (LAMMPS' default −0.5 … 0.5 where absent) and tilt factors.
fn box_from(lo_hi: [Option<[f64; 2]>; 3], tilt: Vec3) -> LammpsBox {
    let pairs = lo_hi.map(|p| p.unwrap_or([-0.5, 0.5]));
    LammpsBox {
        origin: pairs.map(|[lo, _]| lo),
        lengths: pairs.map(|[lo, hi]| hi - lo),
        tilt,
    }
}

/// Parse one `Atoms` line in `style`, with optional image flags.
fn parse_atom_line<R: BufRead>(
    lines: &Lines<R>,
    tokens: &[&str],
    style: AtomStyle,
    n_types: usize,
) -> Result<AtomLine> {
    let base = style.columns();
    if tokens.len() != base && tokens.len() != base + 3 {
        return Err(lines.error(format!(
            "expected {base} or {} values for atom style {} ({} [ix iy iz]), found {}",
            base + 3,
            style.name(),
            style.column_names(),
            tokens.len()
        )));
    }
    let mut it = tokens.iter().copied();
    let id = lines.integer(it.next(), "the atom id")?;
    let mol = if style.has_mol() {
        Some(lines.integer(it.next(), "the molecule id")?)
    } else {
        None
    };
    let atom_type = lines.count(it.next(), "the atom type")?;
    if atom_type == 0 || atom_type > n_types {
        return Err(lines.error(format!("atom type {atom_type} is outside 1..={n_types}")));
    }
    let charge = if style.has_charge() {
        Some(lines.real(it.next(), "the charge q")?)
    } else {
        None
    };
    let position = lines.vec3(&mut it, ["x", "y", "z"])?;
    let image = if tokens.len() == base + 3 {
        Some([
            lines.integer(it.next(), "ix")?,
            lines.integer(it.next(), "iy")?,
            lines.integer(it.next(), "iz")?,
        ])
    } else {
        None
    };
    Ok(AtomLine {
        id,
        mol,
        atom_type,
        charge,
        position,
        image,
        line: lines.number(),
    })
}

/// Attach ids, types, charges, molecule ids and image flags (when every atom has them) to `structure`.
fn attach_atom_columns(structure: &mut Structure, atoms: &[AtomLine], style: Option<AtomStyle>) -> Result<()> {
    structure.set_int_tag("id", atoms.iter().map(|a| a.id).collect())?;
    structure.set_int_tag("type", atoms.iter().map(|a| a.atom_type as i64).collect())?;
    if style.is_some_and(AtomStyle::has_charge) {
        structure.charges = Some(atoms.iter().map(|a| a.charge.unwrap_or(0.0)).collect());
    }
    if style.is_some_and(AtomStyle::has_mol) {
        structure.set_int_tag("mol", atoms.iter().map(|a| a.mol.unwrap_or(0)).collect())?;
    }
    if !atoms.is_empty() && atoms.iter().all(|a| a.image.is_some()) {
        let data = atoms.iter().flat_map(|a| a.image.unwrap_or([0; 3])).collect();
        structure.set_property("image", Property::Int { data, columns: 3 })?;
    }
    Ok(())
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Structure>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.done = true;
        Some(self.read())
    }
}

/// Atom ids to write: the `id` tag when it holds distinct positive ids, else 1..=N.
pub(crate) fn atom_ids(structure: &Structure) -> Vec<i64> {
    if let Some(ids) = structure.int_tag("id") {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        if sorted.first().is_none_or(|&f| f > 0) && sorted.windows(2).all(|w| w[0] != w[1]) {
            return ids.to_vec();
        }
    }
    (1..=structure.len() as i64).collect()
}

/// Image flags to write: the 3-column Int property `image`, if present.
pub(crate) fn image_flags(structure: &Structure) -> Option<&[i64]> {
    match structure.properties.get("image") {
        Some(Property::Int { data, columns: 3 }) if data.len() == 3 * structure.len() => Some(data),
        _ => None,
    }
}

/// The atom style to write: the option, else `charge` with charges, else `atomic`.
fn write_style(structure: &Structure, options: &WriteOptions) -> Result<AtomStyle> {
    match &options.atom_style {
        Some(name) => AtomStyle::parse(name).map_err(Error::Invalid),
        None if structure.charges.is_some() => Ok(AtomStyle::Charge),
        None => Ok(AtomStyle::Atomic),
    }
}

/// Write `frame` as a LAMMPS data file (units metal; see the module documentation for the rotation).
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, options: &WriteOptions) -> Result<()> {
    frame.validate()?;
    let style = write_style(frame, options)?;
    let lammps = lammps_frame(frame)?;
    let (types, type_elements) = species_types(frame, options.type_map.as_deref(), "type", 1)?;
    let ids = atom_ids(frame);
    let mut text = String::new();
    write_header(&mut text, frame.len(), &type_elements, &lammps.lammps_box);
    write_masses(&mut text, frame, &types, &type_elements);
    write_atoms(&mut text, frame, style, &ids, &types, &lammps.positions);
    if let Some(velocities) = &lammps.velocities {
        text.push_str("\nVelocities\n\n");
        for (id, v) in ids.iter().zip(velocities) {
            let v = scale(*v, METAL_VELOCITY_PER_A_FS);
            text.push_str(&format!("{id} {}\n", join_reals(&v)));
        }
    }
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "LAMMPS data output".into(),
        source,
    })
}

fn write_header(text: &mut String, n_atoms: usize, type_elements: &[Element], lammps_box: &LammpsBox) {
    let r = fields::real_to_string;
    let hi = lammps_box.hi();
    let lo = lammps_box.origin;
    text.push_str("LAMMPS data file written by gbion (units metal)\n\n");
    text.push_str(&format!("{n_atoms} atoms\n{} atom types\n\n", type_elements.len()));
    for (axis, name) in ["x", "y", "z"].iter().enumerate() {
        text.push_str(&format!("{} {} {name}lo {name}hi\n", r(lo[axis]), r(hi[axis])));
    }
    if lammps_box.is_triclinic() {
        text.push_str(&format!("{} xy xz yz\n", join_reals(&lammps_box.tilt)));
    }
}

fn write_masses(text: &mut String, frame: &Structure, types: &[usize], type_elements: &[Element]) {
    text.push_str("\nMasses\n\n");
    for (t, element) in type_elements.iter().enumerate() {
        let mass = types
            .iter()
            .position(|&u| u == t)
            .map_or(element.mass(), |i| frame.masses[i]);
        text.push_str(&format!("{} {} # {element}\n", t + 1, fields::real_to_string(mass)));
    }
}

fn write_atoms(
    text: &mut String,
    frame: &Structure,
    style: AtomStyle,
    ids: &[i64],
    types: &[usize],
    positions: &[Vec3],
) {
    let mol = frame.int_tag("mol");
    let images = image_flags(frame);
    text.push_str(&format!("\nAtoms # {}\n\n", style.name()));
    for i in 0..frame.len() {
        let mut line = format!("{}", ids[i]);
        if style.has_mol() {
            line.push_str(&format!(" {}", mol.map_or(0, |m| m[i])));
        }
        line.push_str(&format!(" {}", types[i] + 1));
        if style.has_charge() {
            let q = frame.charges.as_ref().map_or(0.0, |q| q[i]);
            line.push_str(&format!(" {}", fields::real_to_string(q)));
        }
        line.push_str(&format!(" {}", join_reals(&positions[i])));
        if let Some(image) = images {
            line.push_str(&format!(" {} {} {}", image[3 * i], image[3 * i + 1], image[3 * i + 2]));
        }
        text.push_str(&line);
        text.push('\n');
    }
}

/// Numbers in their shortest exact form, separated by spaces.
pub(crate) fn join_reals(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| fields::real_to_string(*v))
        .collect::<Vec<_>>()
        .join(" ")
}
