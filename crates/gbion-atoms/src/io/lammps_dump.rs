//! LAMMPS text dumps (`dump custom` / `write_dump`): multi-frame, streamed one frame at a time.
//!
//! A frame is a sequence of `ITEM:` blocks: `TIMESTEP` (kept as the info key `timestep`), optional `UNITS`
//! and `TIME` (info `units`, `time`), `NUMBER OF ATOMS`, `BOX BOUNDS` and `ATOMS` with its column names.
//! Box bounds follow the LAMMPS manual (Howto triclinic): `BOX BOUNDS pp pp pp` gives `lo hi` per axis;
//! `BOX BOUNDS xy xz yz pp pp pp` gives bounding-box bounds and tilts, converted to the box as
//! xlo = xlo_bound − min(0, xy, xz, xy + xz), xhi = xhi_bound − max(0, xy, xz, xy + xz),
//! ylo = ylo_bound − min(0, yz), yhi = yhi_bound − max(0, yz), zlo = zlo_bound, zhi = zhi_bound.
//! A direction is periodic when its boundary flag is `pp`. The box origin, when not zero, is kept in the
//! info key `lammps_origin` (see [`super::lammps_data`]).
//!
//! Columns may come in any order: `id`, `type`, `element`, `mass`, `q`, positions as `x y z` (as written),
//! `xu yu zu` (unwrapped), `xs ys zs` (scaled: r = origin + s·M) or `xsu ysu zsu` (first present wins, in
//! that order), `ix iy iz` (Int property `image`), `vx vy vz` (Å/ps in metal units → Å/fs), `fx fy fz`
//! (eV/Å → `results.forces`); any other column becomes a Real property of that name. Atoms are sorted by
//! id (kept as the Int property `id`; the type as `type`). The element comes from the `element` column,
//! else `type_map`, else the `mass` column (a unique element within 0.1 amu), else it is an error.
//!
//! Writing gives `id type element x y z`, then `ix iy iz` when the `image` property exists, `vx vy vz` with
//! velocities, `fx fy fz` with forces and `q` with charges, with box bounds as LAMMPS writes them; a cell
//! not in LAMMPS form is rotated as for data files.

use super::lammps_data::{
    LammpsBox, MAX_RESERVE, METAL_VELOCITY_PER_A_FS, atom_ids, element_from_mass, fields::Lines, image_flags,
    join_reals, lammps_frame, species_types,
};
use crate::io::{ReadOptions, WriteOptions};
use crate::linalg::{Vec3, add, scale};
use crate::{Element, Error, InfoValue, Property, Result, Structure};
use std::io::{BufRead, Write};

/// Positions: column names of each kind, in order of preference, and whether they are scaled.
const POSITION_COLUMNS: [([&str; 3], bool); 4] = [
    (["x", "y", "z"], false),
    (["xu", "yu", "zu"], false),
    (["xs", "ys", "zs"], true),
    (["xsu", "ysu", "zsu"], true),
];
/// Columns with a fixed meaning; every other column becomes a Real property.
const KNOWN_COLUMNS: [&str; 23] = [
    "id", "type", "element", "mass", "q", "x", "y", "z", "xu", "yu", "zu", "xs", "ys", "zs", "xsu", "ysu", "zsu", "ix",
    "iy", "iz", "vx", "vy", "vz",
];
const FORCE_COLUMNS: [&str; 3] = ["fx", "fy", "fz"];

/// The header of one frame, before its atom lines.
#[derive(Default)]
struct FrameHeader {
    timestep: Option<i64>,
    time: Option<f64>,
    units: Option<String>,
    n_atoms: Option<usize>,
    lammps_box: Option<LammpsBox>,
    pbc: [bool; 3],
}

/// Column indices of the `ITEM: ATOMS` line.
struct Columns {
    names: Vec<String>,
    id: Option<usize>,
    atom_type: Option<usize>,
    element: Option<usize>,
    mass: Option<usize>,
    charge: Option<usize>,
    position: [usize; 3],
    scaled: bool,
    image: Option<[usize; 3]>,
    velocity: Option<[usize; 3]>,
    force: Option<[usize; 3]>,
    /// Other columns: (index, name).
    extra: Vec<(usize, String)>,
}

impl Columns {
    fn parse<R: BufRead>(lines: &Lines<R>, names: &str) -> Result<Columns> {
        let names: Vec<String> = names.split_whitespace().map(str::to_string).collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(lines.error(format!("column \"{name}\" appears twice in ITEM: ATOMS")));
            }
        }
        let triple = |set: [&str; 3]| -> Result<Option<[usize; 3]>> {
            match set.map(find) {
                [Some(a), Some(b), Some(c)] => Ok(Some([a, b, c])),
                [None, None, None] => Ok(None),
                _ => Err(lines.error(format!("ITEM: ATOMS has some but not all of {}", set.join(" ")))),
            }
        };
        let mut position = None;
        for (set, scaled) in POSITION_COLUMNS {
            if let Some(found) = triple(set)? {
                position.get_or_insert((found, scaled));
            }
        }
        let (position, scaled) = position
            .ok_or_else(|| lines.error("ITEM: ATOMS has no positions (x y z, xu yu zu, xs ys zs or xsu ysu zsu)"))?;
        let extra = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !KNOWN_COLUMNS.contains(&n.as_str()) && !FORCE_COLUMNS.contains(&n.as_str()))
            .map(|(i, n)| (i, n.clone()))
            .collect();
        Ok(Columns {
            id: find("id"),
            atom_type: find("type"),
            element: find("element"),
            mass: find("mass"),
            charge: find("q"),
            position,
            scaled,
            image: triple(["ix", "iy", "iz"])?,
            velocity: triple(["vx", "vy", "vz"])?,
            force: triple(FORCE_COLUMNS)?,
            extra,
            names,
        })
    }
}

/// One atom line, parsed.
struct AtomRow {
    id: Option<i64>,
    atom_type: Option<i64>,
    element: Option<Element>,
    mass: Option<f64>,
    charge: Option<f64>,
    position: Vec3,
    image: Option<[i64; 3]>,
    velocity: Option<Vec3>,
    force: Option<Vec3>,
    extra: Vec<f64>,
    line: usize,
}

/// Streaming reader of a LAMMPS text dump.
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

    /// The next frame, or `None` at the end of the input.
    fn read_frame(&mut self) -> Result<Option<Structure>> {
        let mut header = FrameHeader::default();
        let mut item = match self.lines.next_nonblank()? {
            Some(line) => line,
            None => return Ok(None),
        };
        loop {
            let name = item
                .trim()
                .strip_prefix("ITEM:")
                .map(str::trim)
                .ok_or_else(|| {
                    self.lines
                        .error(format!("expected an \"ITEM:\" line, found \"{}\"", item.trim()))
                })?
                .to_string();
            if let Some(columns) = name.strip_prefix("ATOMS") {
                let columns = Columns::parse(&self.lines, columns)?;
                return self.read_atoms(header, &columns).map(Some);
            }
            self.read_item(&name, &mut header)?;
            item = self.lines.require_line("the next ITEM: line")?;
        }
    }

    /// Read the value lines of one non-ATOMS item into `header`.
    fn read_item(&mut self, name: &str, header: &mut FrameHeader) -> Result<()> {
        let value = |this: &mut Self, what: &str| this.lines.require_line(what);
        if name == "TIMESTEP" {
            let line = value(self, "the timestep")?;
            header.timestep = Some(self.lines.integer(line.split_whitespace().next(), "the timestep")?);
        } else if name == "TIME" {
            let line = value(self, "the time")?;
            header.time = Some(self.lines.real(line.split_whitespace().next(), "the time")?);
        } else if name == "UNITS" {
            header.units = Some(value(self, "the units")?.trim().to_string());
        } else if name == "NUMBER OF ATOMS" {
            let line = value(self, "the number of atoms")?;
            header.n_atoms = Some(
                self.lines
                    .count(line.split_whitespace().next(), "the number of atoms")?,
            );
        } else if let Some(flags) = name.strip_prefix("BOX BOUNDS") {
            self.read_box(flags, header)?;
        } else {
            return Err(self.lines.error(format!(
                "unknown item \"ITEM: {name}\" (expected TIMESTEP, NUMBER OF ATOMS, BOX BOUNDS or ATOMS)"
            )));
        }
        Ok(())
    }

    /// `BOX BOUNDS [xy xz yz] f f f` and its three lines.
    fn read_box(&mut self, flags: &str, header: &mut FrameHeader) -> Result<()> {
        let words: Vec<&str> = flags.split_whitespace().collect();
        let (triclinic, boundary) = match words.as_slice() {
            ["xy", "xz", "yz", rest @ ..] => (true, rest),
            rest => (false, rest),
        };
        if boundary.is_empty() {
            // Dumps of LAMMPS versions before 2009 carry no boundary flags: periodic, as LAMMPS' default.
            header.pbc = [true; 3];
        } else if boundary.len() != 3 {
            return Err(self.lines.error(format!(
                "expected three boundary flags (e.g. \"pp pp pp\") after BOX BOUNDS, found \"{}\"",
                flags.trim()
            )));
        } else {
            header.pbc = [0, 1, 2].map(|k| boundary[k] == "pp");
        }
        let mut bounds = [[0.0; 3]; 3];
        for (axis, row) in bounds.iter_mut().enumerate() {
            let line = self.lines.require_line("a box bounds line")?;
            let mut tokens = line.split_whitespace();
            let names = [["xlo", "xhi", "xy"], ["ylo", "yhi", "xz"], ["zlo", "zhi", "yz"]][axis];
            row[0] = self.lines.real(tokens.next(), names[0])?;
            row[1] = self.lines.real(tokens.next(), names[1])?;
            if triclinic {
                row[2] = self.lines.real(tokens.next(), names[2])?;
            }
        }
        let lammps_box = box_from_bounds(&bounds);
        if let Some(axis) = (0..3).find(|&k| !(lammps_box.lengths[k] > 0.0 && lammps_box.lengths[k].is_finite())) {
            return Err(self.lines.error(format!(
                "box length along {} is {} (must be positive)",
                ["x", "y", "z"][axis],
                lammps_box.lengths[axis]
            )));
        }
        header.lammps_box = Some(lammps_box);
        Ok(())
    }

    fn read_atoms(&mut self, header: FrameHeader, columns: &Columns) -> Result<Structure> {
        let n_atoms = header
            .n_atoms
            .ok_or_else(|| self.lines.error("ITEM: ATOMS before ITEM: NUMBER OF ATOMS"))?;
        let lammps_box = header
            .lammps_box
            .clone()
            .ok_or_else(|| self.lines.error("ITEM: ATOMS before ITEM: BOX BOUNDS"))?;
        let cell = lammps_box
            .cell(header.pbc)
            .map_err(|e| self.lines.error(e.to_string()))?;
        let mut rows = Vec::with_capacity(n_atoms.min(MAX_RESERVE));
        for k in 0..n_atoms {
            let line = self.lines.require_line(&format!("atom {} of {n_atoms}", k + 1))?;
            rows.push(self.parse_row(&line, columns)?);
        }
        if rows.iter().all(|r| r.id.is_some()) {
            rows.sort_by_key(|r| r.id);
            if let Some(pair) = rows.windows(2).find(|w| w[0].id == w[1].id) {
                let source = self.lines.source();
                return Err(Error::parse(
                    source,
                    pair[1].line,
                    format!("atom id {} appears twice", pair[1].id.unwrap_or(0)),
                ));
            }
        }
        let elements = rows
            .iter()
            .map(|r| self.element_of(r, columns))
            .collect::<Result<Vec<_>>>()?;
        let positions = rows
            .iter()
            .map(|r| {
                if columns.scaled {
                    add(lammps_box.origin, cell.to_cartesian(r.position))
                } else {
                    r.position
                }
            })
            .collect();
        let mut structure = Structure::new(cell, elements, positions)?;
        if columns.mass.is_some() {
            structure.masses = rows.iter().map(|r| r.mass.unwrap_or(0.0)).collect();
        }
        lammps_box.store_origin(&mut structure.info);
        attach_columns(&mut structure, &rows, columns)?;
        if let Some(t) = header.timestep {
            structure.info.insert("timestep".into(), InfoValue::Int(t));
        }
        if let Some(t) = header.time {
            structure.info.insert("time".into(), InfoValue::Real(t));
        }
        if let Some(u) = header.units {
            structure.info.insert("units".into(), InfoValue::Str(u));
        }
        Ok(structure)
    }

    fn parse_row(&self, line: &str, columns: &Columns) -> Result<AtomRow> {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() != columns.names.len() {
            return Err(self.lines.error(format!(
                "expected {} values ({}), found {}",
                columns.names.len(),
                columns.names.join(" "),
                tokens.len()
            )));
        }
        let lines = &self.lines;
        let real = |i: usize| lines.real(tokens.get(i).copied(), &columns.names[i]);
        let integer = |i: usize| lines.integer(tokens.get(i).copied(), &columns.names[i]);
        let real3 = |c: [usize; 3]| -> Result<Vec3> { Ok([real(c[0])?, real(c[1])?, real(c[2])?]) };
        let element = match columns.element {
            Some(i) => Some(Element::from_symbol(tokens[i]).map_err(|_| {
                lines.error(format!(
                    "expected an element symbol for element, found \"{}\"",
                    tokens[i]
                ))
            })?),
            None => None,
        };
        let mass = columns.mass.map(real).transpose()?;
        if let Some(m) = mass.filter(|m| *m <= 0.0) {
            return Err(lines.error(format!("mass must be positive, found {m}")));
        }
        Ok(AtomRow {
            id: columns.id.map(integer).transpose()?,
            atom_type: columns.atom_type.map(integer).transpose()?,
            element,
            mass,
            charge: columns.charge.map(real).transpose()?,
            position: real3(columns.position)?,
            image: match columns.image {
                Some(c) => Some([integer(c[0])?, integer(c[1])?, integer(c[2])?]),
                None => None,
            },
            velocity: columns.velocity.map(real3).transpose()?,
            force: columns.force.map(real3).transpose()?,
            extra: columns.extra.iter().map(|(i, _)| real(*i)).collect::<Result<_>>()?,
            line: lines.number(),
        })
    }

    /// The element of an atom: `element` column, else the type map, else the mass column.
    fn element_of(&self, row: &AtomRow, columns: &Columns) -> Result<Element> {
        if let Some(e) = row.element {
            return Ok(e);
        }
        let error = |message: String| Error::parse(self.lines.source(), row.line, message);
        if let (Some(map), Some(t)) = (&self.options.type_map, row.atom_type) {
            return usize::try_from(t)
                .ok()
                .and_then(|t| t.checked_sub(1))
                .and_then(|i| map.get(i))
                .copied()
                .ok_or_else(|| {
                    error(format!(
                        "atom type {t} is not in the type map of {} elements",
                        map.len()
                    ))
                });
        }
        if let Some(m) = row.mass {
            return element_from_mass(m).map_err(error);
        }
        let have = if columns.atom_type.is_some() {
            "types but no type map"
        } else {
            "no type column"
        };
        Err(error(format!(
            "the dump has no element column and {have}: dump the element column or give a type map"
        )))
    }
}

/// Attach the optional per-atom columns of `rows` to `structure`.
fn attach_columns(structure: &mut Structure, rows: &[AtomRow], columns: &Columns) -> Result<()> {
    if columns.id.is_some() {
        structure.set_int_tag("id", rows.iter().map(|r| r.id.unwrap_or(0)).collect())?;
    }
    if columns.atom_type.is_some() {
        structure.set_int_tag("type", rows.iter().map(|r| r.atom_type.unwrap_or(0)).collect())?;
    }
    if columns.charge.is_some() {
        structure.charges = Some(rows.iter().map(|r| r.charge.unwrap_or(0.0)).collect());
    }
    if columns.image.is_some() {
        let data = rows.iter().flat_map(|r| r.image.unwrap_or([0; 3])).collect();
        structure.set_property("image", Property::Int { data, columns: 3 })?;
    }
    if columns.velocity.is_some() {
        let to_a_fs = |r: &AtomRow| scale(r.velocity.unwrap_or([0.0; 3]), 1.0 / METAL_VELOCITY_PER_A_FS);
        structure.velocities = Some(rows.iter().map(to_a_fs).collect());
    }
    if columns.force.is_some() {
        structure.results.forces = Some(rows.iter().map(|r| r.force.unwrap_or([0.0; 3])).collect());
    }
    for (k, (_, name)) in columns.extra.iter().enumerate() {
        let data = rows.iter().map(|r| r.extra.get(k).copied().unwrap_or(0.0)).collect();
        structure.set_property(name, Property::Real { data, columns: 1 })?;
    }
    Ok(())
}

/// The box from dump bounds rows `[lo_bound, hi_bound, tilt]` (tilt rows xy, xz, yz; zero when orthogonal).
fn box_from_bounds(bounds: &[[f64; 3]; 3]) -> LammpsBox {
    let (xy, xz, yz) = (bounds[0][2], bounds[1][2], bounds[2][2]);
    let x_shifts = [0.0, xy, xz, xy + xz];
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = [
        bounds[0][0] - min(&x_shifts),
        bounds[1][0] - min(&[0.0, yz]),
        bounds[2][0],
    ];
    let hi = [
        bounds[0][1] - max(&x_shifts),
        bounds[1][1] - max(&[0.0, yz]),
        bounds[2][1],
    ];
    LammpsBox {
        origin: lo,
        lengths: [0, 1, 2].map(|k| hi[k] - lo[k]),
        tilt: [xy, xz, yz],
    }
}

/// Dump bounds rows `[lo_bound, hi_bound]` of a box, the inverse of [`box_from_bounds`].
fn bounds_of_box(lammps_box: &LammpsBox) -> [[f64; 2]; 3] {
    let [xy, xz, yz] = lammps_box.tilt;
    let lo = lammps_box.origin;
    let hi = lammps_box.hi();
    let x_shifts = [0.0, xy, xz, xy + xz];
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    [
        [lo[0] + min(&x_shifts), hi[0] + max(&x_shifts)],
        [lo[1] + min(&[0.0, yz]), hi[1] + max(&[0.0, yz])],
        [lo[2], hi[2]],
    ]
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Structure>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The stream ends at the end of input or at the first error.
        let next = self.read_frame().transpose();
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

/// Write `frame` as one LAMMPS dump frame (see the module documentation for the columns).
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, options: &WriteOptions) -> Result<()> {
    frame.validate()?;
    let lammps = lammps_frame(frame)?;
    let (types, _) = species_types(frame, options.type_map.as_deref(), "type", 1)?;
    let ids = atom_ids(frame);
    let images = image_flags(frame);
    let timestep = match frame.info.get("timestep") {
        Some(InfoValue::Int(t)) => *t,
        _ => 0,
    };
    let mut text = format!("ITEM: TIMESTEP\n{timestep}\nITEM: NUMBER OF ATOMS\n{}\n", frame.len());
    let flags = frame.cell.pbc().map(|p| if p { "pp" } else { "ff" }).join(" ");
    let bounds = bounds_of_box(&lammps.lammps_box);
    if lammps.lammps_box.is_triclinic() {
        text.push_str(&format!("ITEM: BOX BOUNDS xy xz yz {flags}\n"));
        for (row, tilt) in bounds.iter().zip(lammps.lammps_box.tilt) {
            text.push_str(&format!("{} {}\n", join_reals(row), join_reals(&[tilt])));
        }
    } else {
        text.push_str(&format!("ITEM: BOX BOUNDS {flags}\n"));
        for row in &bounds {
            text.push_str(&format!("{}\n", join_reals(row)));
        }
    }
    let mut names = String::from("id type element x y z");
    for (present, columns) in [
        (images.is_some(), " ix iy iz"),
        (lammps.velocities.is_some(), " vx vy vz"),
        (lammps.forces.is_some(), " fx fy fz"),
        (frame.charges.is_some(), " q"),
    ] {
        if present {
            names.push_str(columns);
        }
    }
    text.push_str(&format!("ITEM: ATOMS {names}\n"));
    for i in 0..frame.len() {
        text.push_str(&format!(
            "{} {} {} {}",
            ids[i],
            types[i] + 1,
            frame.elements[i],
            join_reals(&lammps.positions[i])
        ));
        if let Some(image) = images {
            text.push_str(&format!(" {} {} {}", image[3 * i], image[3 * i + 1], image[3 * i + 2]));
        }
        if let Some(v) = &lammps.velocities {
            text.push_str(&format!(" {}", join_reals(&scale(v[i], METAL_VELOCITY_PER_A_FS))));
        }
        if let Some(f) = &lammps.forces {
            text.push_str(&format!(" {}", join_reals(&f[i])));
        }
        if let Some(q) = &frame.charges {
            text.push_str(&format!(" {}", join_reals(&[q[i]])));
        }
        text.push('\n');
    }
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "LAMMPS dump output".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounding-box bounds LAMMPS writes and the box they come from convert into each other, for
    /// every sign pattern of the tilt factors.
    #[test]
    fn bounds_and_box_are_inverse_for_all_tilt_signs() {
        for xy in [-1.5, 0.0, 1.25] {
            for xz in [-0.75, 0.0, 2.0] {
                for yz in [-0.5, 0.0, 0.625] {
                    let original = LammpsBox {
                        origin: [0.5, -0.25, 1.0],
                        lengths: [8.0, 7.0, 6.0],
                        tilt: [xy, xz, yz],
                    };
                    let bounds = bounds_of_box(&original);
                    let rows = [0, 1, 2].map(|k| [bounds[k][0], bounds[k][1], original.tilt[k]]);
                    let back = box_from_bounds(&rows);
                    assert_eq!(back, original, "tilts {xy} {xz} {yz}");
                    // The bounding box contains every corner of the box.
                    let m = original.matrix();
                    for corner in 0..8 {
                        let s = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1].map(f64::from);
                        let r = add(original.origin, crate::linalg::vec_mat(s, &m));
                        for k in 0..3 {
                            assert!(bounds[k][0] <= r[k] + 1e-12 && r[k] <= bounds[k][1] + 1e-12);
                        }
                    }
                }
            }
        }
    }
}
