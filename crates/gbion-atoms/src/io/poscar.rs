//! VASP POSCAR/CONTCAR (VASP 5 and 6; VASP 4 without a species line when the comment names the species or
//! a type map is given): one frame per file.
//!
//! Layout (<https://www.vasp.at/wiki/index.php/POSCAR>):
//! 1. comment (kept as the info value `comment`, trimmed; written back as it is, or as the species list when
//!    there is none);
//! 2. scaling factor: one positive number s multiplies the lattice vectors and Cartesian positions; one
//!    negative number is the target cell volume V (Å³), s = ∛(V / |det M|); three positive numbers scale
//!    the x, y, z Cartesian components separately;
//! 3. three lattice vectors (rows a, b, c, in Å before scaling);
//! 4. species line (VASP 5; VASP 6 `Na_pv/hash` labels read as `Na`), then the counts per species;
//! 5. optional `Selective dynamics` (any line starting with `s` or `S`);
//! 6. `Direct` or `Cartesian` (first letter, case-insensitive; `K` means Cartesian): fractional
//!    coordinates, or Cartesian coordinates in Å that are scaled like the lattice;
//! 7. one line per atom, with three `T`/`F` flags (T = may move along that lattice direction) under
//!    selective dynamics. The flags are kept as the 3-column Bool property `selective_dynamics`, and atoms
//!    with all three flags `F` get the `fixed` tag 1 (0 otherwise);
//! 8. CONTCAR only: an optional `Lattice velocities and vectors` block of MD runs (skipped), then a blank or
//!    `Cartesian` line and one velocity per atom. VASP writes velocities as Cartesian Å/fs (the VASP wiki's
//!    POSCAR page and forum; ASE's reader converts them from Å/fs too). `Direct` velocities are lattice
//!    vectors per MD time step (POTIM), which a POSCAR does not state, so they are refused with an error.
//!    A predictor-corrector block after the velocities is ignored.
//!
//! Writing: atoms grouped by species in order of first appearance (the order is kept when they already
//! are grouped), scaling factor 1, lattice and Cartesian positions in the shortest decimal form that reads
//! back to the same `f64` (≤ 17 significant digits), so a write → read round trip is exact; selective
//! dynamics when `selective_dynamics` or `fixed` is present; velocities (Å/fs) after a blank line.
//! [`write_poscar`] can write fractional (`Direct`) coordinates instead. A POSCAR holds no masses, charges,
//! results or other properties; they are not written.

use crate::io::text::{LineReader, leading_reals, parse_real, quoted};
use crate::io::{ReadOptions, WriteOptions};
use crate::linalg::{Mat3, Vec3, determinant};
use crate::structure::tags;
use crate::{Cell, Element, Error, InfoValue, Property, Result, Structure};
use std::io::{BufRead, Write};

/// Most atoms' worth of storage reserved before the atoms are actually read.
const MAX_RESERVED_ATOMS: usize = 4096;

/// Name of the Bool property (3 columns, T = may move) holding the selective-dynamics flags.
pub const SELECTIVE_DYNAMICS: &str = "selective_dynamics";

/// Reads the single frame of a POSCAR/CONTCAR.
pub struct Reader<R: BufRead> {
    lines: LineReader<R>,
    type_map: Option<Vec<Element>>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader of `input`; `source_name` names it in error messages. `options.type_map` gives the species
    /// of VASP 4 files, which have no species line.
    pub fn new(input: R, source_name: &str, options: &ReadOptions) -> Self {
        Reader {
            lines: LineReader::new(input, source_name),
            type_map: options.type_map.clone(),
            done: false,
        }
    }

    fn read(&mut self) -> Result<Structure> {
        let comment = self.lines.expect_line("the comment line")?.trim().to_string();
        let scale = self.read_scale()?;
        let (lattice, factors) = self.read_lattice(&scale)?;
        let (kinds, count) = self.read_species(&comment)?;
        let cell = Cell::periodic(lattice).map_err(|e| self.lines.error(e.to_string()))?;
        let mode = self.read_mode_lines()?;
        let mut positions = Vec::with_capacity(count.min(MAX_RESERVED_ATOMS));
        let mut flags = mode
            .selective
            .then(|| Vec::with_capacity(3 * count.min(MAX_RESERVED_ATOMS)));
        for atom in 1..=count {
            let line = self
                .lines
                .expect_line(format_args!("the position of atom {atom} of {count}"))?;
            let (position, atom_flags) =
                parse_position_line(line, mode.selective).map_err(|m| self.lines.error(format!("atom {atom}: {m}")))?;
            let position = match mode.cartesian {
                true => scale_components(position, factors),
                false => cell.to_cartesian(position),
            };
            if !position.iter().all(|x| x.is_finite()) {
                return Err(self
                    .lines
                    .error(format!("atom {atom}: the scaled position is out of range")));
            }
            positions.push(position);
            if let (Some(all), Some(f)) = (flags.as_mut(), atom_flags) {
                all.extend(f);
            }
        }
        let species = kinds.iter().flat_map(|(e, n)| std::iter::repeat_n(*e, *n)).collect();
        let mut frame = Structure::new(cell, species, positions)?;
        frame.info.insert("comment".into(), InfoValue::Str(comment));
        if let Some(flags) = flags {
            set_selective_dynamics(&mut frame, flags)?;
        }
        frame.velocities = self.read_velocity_block(count)?;
        Ok(frame)
    }

    fn read_scale(&mut self) -> Result<Scale> {
        let line = self.lines.expect_line("the scaling factor")?;
        let values: Vec<&str> = line.split_whitespace().take(3).collect();
        let numbers: Vec<f64> = values.iter().map_while(|t| parse_real(t)).collect();
        let found = quoted(line.trim());
        match numbers.as_slice() {
            [s] if *s > 0.0 => Ok(Scale::Factor([*s; 3])),
            [v] if *v < 0.0 => Ok(Scale::Volume(-v)),
            [a, b, c] if [a, b, c].iter().all(|s| **s > 0.0) => Ok(Scale::Factor([*a, *b, *c])),
            _ => Err(self.lines.error(format!(
                "scaling factor: expected one non-zero number or three positive numbers, found {}",
                found
            ))),
        }
    }

    /// The three lattice vectors, scaled, and the Cartesian scaling factors applied.
    fn read_lattice(&mut self, scale: &Scale) -> Result<(Mat3, Vec3)> {
        let mut rows = [[0.0; 3]; 3];
        for (row, name) in rows.iter_mut().zip(["a", "b", "c"]) {
            let line = self.lines.expect_line(format_args!("lattice vector {name}"))?;
            *row = leading_reals::<3>(&mut line.split_whitespace())
                .map_err(|m| self.lines.error(format!("lattice vector {name}: {m}")))?;
        }
        let volume = determinant(&rows).abs();
        if volume.is_nan() || volume <= 0.0 {
            return Err(self.lines.error("the lattice vectors span no volume"));
        }
        let factors = scale.factors(volume);
        Ok((scale_columns(rows, factors), factors))
    }

    /// Each species with its count, and the total, from the species and counts lines (or, for VASP 4, the
    /// type map or the comment line).
    fn read_species(&mut self, comment: &str) -> Result<(Vec<(Element, usize)>, usize)> {
        let line = self.lines.expect_line("the species or counts line")?.to_string();
        let first_is_count = line.split_whitespace().next().is_some_and(|t| t.parse::<u64>().is_ok());
        let (symbols_line, counts_line) = if first_is_count {
            (None, line)
        } else {
            let symbols_line = self.lines.line_number();
            let counts = self.lines.expect_line("the counts line")?.to_string();
            (Some((symbols_line, line)), counts)
        };
        let counts = parse_counts(&counts_line).map_err(|m| self.lines.error(format!("counts: {m}")))?;
        let elements = match symbols_line {
            Some((number, text)) => parse_species_line(&text, counts.len())
                .map_err(|m| Error::parse(self.lines.source_name(), number, format!("species: {m}")))?,
            None => self.vasp4_species(comment, counts.len())?,
        };
        let total = counts
            .iter()
            .try_fold(0usize, |sum, c| sum.checked_add(*c))
            .ok_or_else(|| self.lines.error("counts: the total number of atoms is too large"))?;
        Ok((elements.into_iter().zip(counts).collect(), total))
    }

    /// Species of a VASP 4 file: the type map, else the comment line's first words if they are symbols.
    fn vasp4_species(&self, comment: &str, kinds: usize) -> Result<Vec<Element>> {
        if let Some(map) = &self.type_map {
            return match map.get(..kinds) {
                Some(elements) => Ok(elements.to_vec()),
                None => Err(self
                    .lines
                    .error(format!("counts: {kinds} species but the type map names {}", map.len()))),
            };
        }
        let from_comment: Option<Vec<Element>> = comment
            .split_whitespace()
            .take(kinds)
            .map(|w| Element::from_symbol(w).ok())
            .collect();
        match from_comment {
            Some(elements) if elements.len() == kinds => Ok(elements),
            _ => Err(self.lines.error(format!(
                "no species line (VASP 4 format) and the comment line does not start with {kinds} element \
                 symbols; add a species line above the counts (VASP 5) or give a type map"
            ))),
        }
    }

    /// The optional `Selective dynamics` line and the `Direct`/`Cartesian` line.
    fn read_mode_lines(&mut self) -> Result<Mode> {
        let mut line = self.lines.expect_line("Direct or Cartesian")?.trim().to_string();
        let selective = line.starts_with(['s', 'S']);
        if selective {
            line = self.lines.expect_line("Direct or Cartesian")?.trim().to_string();
        }
        let cartesian = coordinate_mode(&line).ok_or_else(|| {
            self.lines
                .error(format!("expected Direct or Cartesian, found {}", quoted(&line)))
        })?;
        Ok(Mode { selective, cartesian })
    }

    /// The optional lattice-velocity block and velocities of a CONTCAR (Å/fs, Cartesian).
    fn read_velocity_block(&mut self, count: usize) -> Result<Option<Vec<Vec3>>> {
        let Some(mut line) = self.lines.next_line()?.map(|l| l.trim().to_string()) else {
            return Ok(None);
        };
        if line.starts_with(['l', 'L']) {
            for what in ["the initialisation line", "a lattice velocity", "a lattice velocity"] {
                self.lines.expect_line(what)?;
            }
            for _ in 0..4 {
                self.lines.expect_line("a lattice velocity or vector")?;
            }
            match self.lines.next_line()? {
                Some(l) => line = l.trim().to_string(),
                None => return Ok(None),
            }
        }
        let cartesian = match line.is_empty() {
            true => true,
            false => coordinate_mode(&line).ok_or_else(|| {
                self.lines.error(format!(
                    "expected a blank line or Cartesian/Direct before velocities, found {}",
                    quoted(&line)
                ))
            })?,
        };
        let mut velocities = Vec::with_capacity(count.min(MAX_RESERVED_ATOMS));
        for atom in 1..=count {
            let Some(line) = self.lines.next_line()? else {
                return match atom {
                    1 => Ok(None),
                    _ => Err(self
                        .lines
                        .error(format!("expected {count} velocities, found {}", atom - 1))),
                };
            };
            if atom == 1 && line.split_whitespace().count() <= 1 {
                return Ok(None);
            }
            if !cartesian {
                return Err(self.lines.error(
                    "velocities in Direct coordinates are lattice vectors per MD time step (POTIM), which a \
                     POSCAR does not give; write them as Cartesian Å/fs",
                ));
            }
            let v = leading_reals::<3>(&mut line.split_whitespace())
                .map_err(|m| self.lines.error(format!("velocity of atom {atom}: {m}")))?;
            velocities.push(v);
        }
        Ok(Some(velocities))
    }
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

/// The scaling line of a POSCAR.
enum Scale {
    /// Factors for the x, y, z Cartesian components (all equal for a single factor).
    Factor(Vec3),
    /// Target cell volume (Å³).
    Volume(f64),
}

impl Scale {
    /// Factors for the x, y, z Cartesian components; for a target volume V and an unscaled cell of volume
    /// |det M|, ∛(V / |det M|) in every direction.
    fn factors(&self, volume: f64) -> Vec3 {
        match self {
            Scale::Factor(f) => *f,
            Scale::Volume(target) => [(target / volume).cbrt(); 3],
        }
    }
}

/// Each vector's Cartesian components multiplied by the factors.
fn scale_components(v: Vec3, factors: Vec3) -> Vec3 {
    [v[0] * factors[0], v[1] * factors[1], v[2] * factors[2]]
}

fn scale_columns(rows: Mat3, factors: Vec3) -> Mat3 {
    rows.map(|row| scale_components(row, factors))
}

/// Selective-dynamics and coordinate mode.
struct Mode {
    selective: bool,
    cartesian: bool,
}

/// `Some(true)` for Cartesian (`C`, `K`), `Some(false)` for `Direct`, by first letter.
fn coordinate_mode(line: &str) -> Option<bool> {
    match line.chars().next()? {
        'c' | 'C' | 'k' | 'K' => Some(true),
        'd' | 'D' => Some(false),
        _ => None,
    }
}

/// The counts line: positive integers, up to a `!` comment.
fn parse_counts(line: &str) -> std::result::Result<Vec<usize>, String> {
    let counts: Vec<usize> = line
        .split_whitespace()
        .take_while(|t| !t.starts_with('!'))
        .map(|t| {
            t.parse::<usize>()
                .ok()
                .filter(|&c| c > 0)
                .ok_or_else(|| format!("expected positive integers, found {}", quoted(t)))
        })
        .collect::<std::result::Result<_, _>>()?;
    if counts.is_empty() {
        return Err(format!(
            "expected the number of atoms of each species, found {}",
            quoted(line.trim())
        ));
    }
    Ok(counts)
}

/// The species line: one symbol per count (VASP 6 labels such as `Na_pv/6a2f546d` read as `Na`).
fn parse_species_line(line: &str, kinds: usize) -> std::result::Result<Vec<Element>, String> {
    let symbols: Vec<&str> = line.split_whitespace().take_while(|t| !t.starts_with('!')).collect();
    if symbols.len() != kinds {
        return Err(format!(
            "{} symbols for {kinds} counts ({})",
            symbols.len(),
            quoted(line.trim())
        ));
    }
    symbols
        .iter()
        .map(|label| {
            let symbol = label
                .split('/')
                .next()
                .unwrap_or(label)
                .split('_')
                .next()
                .unwrap_or(label);
            Element::from_symbol(symbol).map_err(|_| format!("expected an element symbol, found {}", quoted(label)))
        })
        .collect()
}

/// Three coordinates and, under selective dynamics, three flags (true = may move).
fn parse_position_line(line: &str, selective: bool) -> std::result::Result<(Vec3, Option<[bool; 3]>), String> {
    let mut tokens = line.split_whitespace();
    let position = leading_reals::<3>(&mut tokens)?;
    if !selective {
        return Ok((position, None));
    }
    let mut flags = [true; 3];
    for flag in &mut flags {
        *flag = match tokens.next() {
            Some("T" | "t") => true,
            Some("F" | "f") => false,
            Some(other) => return Err(format!("selective dynamics: expected T or F, found {}", quoted(other))),
            None => return Err("selective dynamics: expected 3 flags T or F after the coordinates".into()),
        };
    }
    Ok((position, Some(flags)))
}

/// Store the flags as the `selective_dynamics` property and the `fixed` tag.
fn set_selective_dynamics(frame: &mut Structure, flags: Vec<bool>) -> Result<()> {
    let fixed = flags
        .chunks_exact(3)
        .map(|f| i64::from(f.iter().all(|may_move| !may_move)))
        .collect();
    frame.set_property(
        SELECTIVE_DYNAMICS,
        Property::Bool {
            data: flags,
            columns: 3,
        },
    )?;
    frame.set_int_tag(tags::FIXED, fixed)
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/// How positions are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coordinates {
    /// Cartesian Å (exact round trip).
    Cartesian,
    /// Fractional coordinates.
    Direct,
}

/// Write one frame as a POSCAR with Cartesian coordinates (see the module documentation).
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, _options: &WriteOptions) -> Result<()> {
    write_poscar(out, frame, Coordinates::Cartesian)
}

/// Write one frame as a POSCAR with the given coordinates.
pub fn write_poscar<W: Write>(out: &mut W, frame: &Structure, coordinates: Coordinates) -> Result<()> {
    frame.validate()?;
    if frame.is_empty() {
        return Err(Error::Invalid("a POSCAR needs at least one atom".into()));
    }
    if frame.cell.volume().is_nan() || frame.cell.volume() <= 0.0 {
        return Err(Error::Invalid(
            "a POSCAR needs a cell with three lattice vectors spanning a volume".into(),
        ));
    }
    let flags = selective_flags(frame)?;
    let order = grouped_order(&frame.elements);
    let text = poscar_text(frame, &order, flags.as_deref(), coordinates);
    out.write_all(text.as_bytes())
        .map_err(|e| Error::Invalid(format!("cannot write POSCAR: {e}")))
}

/// Atom indices grouped by element in order of first appearance, stable within each element.
fn grouped_order(elements: &[Element]) -> Vec<usize> {
    let mut kinds: Vec<Element> = Vec::new();
    for e in elements {
        if !kinds.contains(e) {
            kinds.push(*e);
        }
    }
    kinds
        .iter()
        .flat_map(|k| (0..elements.len()).filter(move |&i| elements[i] == *k))
        .collect()
}

/// Per-atom flags (T = may move) from `selective_dynamics` and `fixed`, or `None` when neither is present.
fn selective_flags(frame: &Structure) -> Result<Option<Vec<[bool; 3]>>> {
    let from_property = match frame.properties.get(SELECTIVE_DYNAMICS) {
        None => None,
        Some(Property::Bool { data, columns: 3 }) => Some(data),
        Some(_) => {
            return Err(Error::Invalid(format!(
                "property {SELECTIVE_DYNAMICS:?} must be Bool with 3 columns"
            )));
        }
    };
    let fixed = frame.int_tag(tags::FIXED);
    if from_property.is_none() && fixed.is_none() {
        return Ok(None);
    }
    let flags = (0..frame.len())
        .map(|i| {
            let free = from_property.map_or([true; 3], |d| [d[3 * i], d[3 * i + 1], d[3 * i + 2]]);
            let held = fixed.is_some_and(|f| f[i] != 0);
            free.map(|may_move| may_move && !held)
        })
        .collect();
    Ok(Some(flags))
}

/// A real in the shortest form that reads back exactly, right-aligned.
fn real(x: f64) -> String {
    format!("{x:>24?}")
}

fn poscar_text(frame: &Structure, order: &[usize], flags: Option<&[[bool; 3]]>, coordinates: Coordinates) -> String {
    let kinds = frame.distinct_elements();
    let symbols: Vec<&str> = kinds.iter().map(|e| e.symbol()).collect();
    let counts: Vec<String> = kinds
        .iter()
        .map(|k| frame.elements.iter().filter(|e| *e == k).count().to_string())
        .collect();
    let comment = match frame.info.get("comment") {
        Some(InfoValue::Str(c)) if !c.contains('\n') => c.trim().to_string(),
        _ => symbols.join(" "),
    };
    let mut text = format!("{comment}\n1.0\n");
    for row in frame.cell.matrix() {
        text += &format!("{} {} {}\n", real(row[0]), real(row[1]), real(row[2]));
    }
    text += &format!("{}\n{}\n", symbols.join(" "), counts.join(" "));
    if flags.is_some() {
        text += "Selective dynamics\n";
    }
    text += match coordinates {
        Coordinates::Cartesian => "Cartesian\n",
        Coordinates::Direct => "Direct\n",
    };
    for &i in order {
        let r = match coordinates {
            Coordinates::Cartesian => frame.positions[i],
            Coordinates::Direct => frame.cell.to_fractional(frame.positions[i]),
        };
        text += &format!("{} {} {}", real(r[0]), real(r[1]), real(r[2]));
        if let Some(f) = flags {
            let letters: Vec<&str> = f[i].iter().map(|m| if *m { "T" } else { "F" }).collect();
            text += &format!(" {}", letters.join(" "));
        }
        text.push('\n');
    }
    if let Some(v) = &frame.velocities {
        text.push('\n');
        for &i in order {
            text += &format!("{} {} {}\n", real(v[i][0]), real(v[i][1]), real(v[i][2]));
        }
    }
    text
}
