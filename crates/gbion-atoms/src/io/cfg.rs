//! MLIP `.cfg` files, the training-set format of the MLIP package (MLIP-2/MLIP-3, Novikov et al. 2021):
//! multi-frame, streamed one `BEGIN_CFG … END_CFG` block at a time.
//!
//! ```text
//! BEGIN_CFG
//!  Size
//!     3
//!  Supercell
//!     3.3 0.0 0.0
//!     1.1 3.2 0.0
//!     0.7 -0.9 3.4
//!  AtomData:  id type cartes_x cartes_y cartes_z fx fy fz
//!     1 1 4.36 2.01 2.76 1.21 -2.98 -1.65
//!     ...
//!  Energy
//!     -12.2367
//!  PlusStress:  xx yy zz yz xz xy
//!     -1.81 -0.53 1.18 1.65 -0.84 0.95
//!  Feature   EFS_by  VASP
//! END_CFG
//! ```
//!
//! * `Supercell` holds 0 to 3 rows: the periodic lattice vectors (Å); missing rows are non-periodic.
//! * `AtomData` columns are found by name in any order: `id` (ignored; atoms keep file order), `type`
//!   (0-based, kept as the Int property `mtp_type`), `cartes_x/y/z` (Å) or `direct_x/y/z` (fractional),
//!   `fx fy fz` (eV/Å); any other column (e.g. `nbh_grades`) becomes a Real property of that name.
//! * `Energy` (eV). `PlusStress` (eV, Voigt xx yy zz yz xz xy in the order the header names) is −V·σ, the
//!   virial; it becomes `results.stress` σ = −PlusStress / V (eV/Å³, ASE sign). With fewer than three
//!   periodic vectors there is no volume, and PlusStress is kept as the info key `plus_stress`.
//! * `EnergyWeight` (the following line holds the weight) becomes the info key `energy_weight`.
//! * `Feature name value` lines become info: the value as an Int, else a Real, else a string. A name
//!   repeated within a frame keeps every value, joined by newlines, and is written back as one `Feature`
//!   line per value (MLIP keeps repeated features, e.g. `EFS_by`).
//!
//! Elements: the file holds type indices only. The element of type t is `type_map[t]` when given, else the
//! t-th symbol of a `Feature elements` line (gbion writes one, e.g. `Feature elements Zr O`); otherwise
//! reading is an error that asks for a type map — guessing would silently mislabel species.
//!
//! Writing uses the shortest decimal form of each number that reads back exactly (at most 17 significant
//! digits). Types are `type_map` indices, else the `mtp_type` tag, else numbered by first appearance.

use super::lammps_data::{MAX_RESERVE, fields::Lines, fields::real_to_string, join_reals, species_types};
use crate::io::{ReadOptions, WriteOptions};
use crate::{Cell, Element, Error, InfoValue, Property, Result, Structure};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// Int property holding each atom's 0-based MLIP type.
pub const TYPE_TAG: &str = "mtp_type";
/// Feature naming the element of each type, in type order.
pub const ELEMENTS_FEATURE: &str = "elements";
/// Info key of the energy weight.
pub const ENERGY_WEIGHT_KEY: &str = "energy_weight";
/// Info key of PlusStress when the cell has no volume.
pub const PLUS_STRESS_KEY: &str = "plus_stress";
/// Voigt component names in gbion's order.
const VOIGT: [&str; 6] = ["xx", "yy", "zz", "yz", "xz", "xy"];

/// `AtomData` column indices.
struct AtomColumns {
    count: usize,
    names: Vec<String>,
    atom_type: usize,
    position: [usize; 3],
    direct: bool,
    force: Option<[usize; 3]>,
    extra: Vec<usize>,
}

impl AtomColumns {
    fn parse<R: BufRead>(lines: &Lines<R>, header: &str) -> Result<AtomColumns> {
        let names: Vec<String> = header.split_whitespace().map(str::to_string).collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let triple = |prefix: &str| -> Result<Option<[usize; 3]>> {
            let set = ["x", "y", "z"].map(|c| format!("{prefix}{c}"));
            match set.clone().map(|n| find(&n)) {
                [Some(a), Some(b), Some(c)] => Ok(Some([a, b, c])),
                [None, None, None] => Ok(None),
                _ => Err(lines.error(format!("AtomData has some but not all of {}", set.join(" ")))),
            }
        };
        let atom_type = find("type").ok_or_else(|| lines.error("AtomData has no \"type\" column"))?;
        let (position, direct) = match (triple("cartes_")?, triple("direct_")?) {
            (Some(p), _) => (p, false),
            (None, Some(p)) => (p, true),
            (None, None) => return Err(lines.error("AtomData has no positions (cartes_x … or direct_x …)")),
        };
        let force = triple("f")?;
        let used: Vec<usize> = [Some(atom_type), find("id")]
            .into_iter()
            .flatten()
            .chain(position)
            .chain(force.into_iter().flatten())
            .collect();
        let extra = (0..names.len()).filter(|i| !used.contains(i)).collect();
        Ok(AtomColumns {
            count: names.len(),
            names,
            atom_type,
            position,
            direct,
            force,
            extra,
        })
    }
}

/// What one `BEGIN_CFG … END_CFG` block holds, before it becomes a [`Structure`].
#[derive(Default)]
struct Block {
    size: Option<usize>,
    supercell: Vec<[f64; 3]>,
    types: Vec<usize>,
    positions: Vec<[f64; 3]>,
    direct: bool,
    forces: Option<Vec<[f64; 3]>>,
    extra: Vec<(String, Vec<f64>)>,
    energy: Option<f64>,
    plus_stress: Option<[f64; 6]>,
    features: BTreeMap<String, Vec<String>>,
    /// Elements named by a `Feature elements` line.
    named_elements: Option<Vec<Element>>,
    energy_weight: Option<f64>,
    /// Line of the first atom, for element errors.
    atom_line: usize,
}

/// Streaming reader of MLIP `.cfg` files.
pub struct Reader<R: BufRead> {
    lines: Lines<R>,
    options: ReadOptions,
    /// A line read ahead while looking for the end of a `Supercell` block.
    pending: Option<String>,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, source_name: &str, options: &ReadOptions) -> Self {
        Reader {
            lines: Lines::new(input, source_name),
            options: options.clone(),
            pending: None,
            done: false,
        }
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        match self.pending.take() {
            Some(line) => Ok(Some(line)),
            None => self.lines.next_line(),
        }
    }

    /// The next frame, or `None` at the end of the input.
    fn read_frame(&mut self) -> Result<Option<Structure>> {
        let begin = match self.lines.next_nonblank()? {
            Some(line) => line,
            None => return Ok(None),
        };
        if begin.trim() != "BEGIN_CFG" {
            return Err(self
                .lines
                .error(format!("expected BEGIN_CFG, found \"{}\"", begin.trim())));
        }
        let mut block = Block::default();
        loop {
            let line = self.next_line()?.ok_or_else(|| self.lines.end_of_file("END_CFG"))?;
            let trimmed = line.trim();
            let (keyword, rest) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
            match keyword.trim_end_matches(':') {
                "" => continue,
                "END_CFG" => break,
                "Size" => block.size = Some(self.value_line("Size", |l, t| l.count(t, "Size"))?),
                "Supercell" | "SuperCell" => self.read_supercell(&mut block)?,
                "AtomData" => self.read_atoms(&mut block, rest)?,
                "Energy" => block.energy = Some(self.value_line("Energy", |l, t| l.real(t, "Energy"))?),
                "EnergyWeight" => {
                    block.energy_weight = Some(self.value_line("EnergyWeight", |l, t| l.real(t, "EnergyWeight"))?)
                }
                "PlusStress" => block.plus_stress = Some(self.read_plus_stress(rest)?),
                "Feature" => {
                    let rest = rest.trim();
                    let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    if name.is_empty() {
                        return Err(self.lines.error("Feature line without a name"));
                    }
                    if name == ELEMENTS_FEATURE {
                        let symbols = value.split_whitespace().map(Element::from_symbol);
                        let named = symbols
                            .collect::<Result<Vec<_>>>()
                            .map_err(|e| self.lines.error(format!("Feature {ELEMENTS_FEATURE}: {e}")))?;
                        block.named_elements = Some(named);
                    } else {
                        let values = block.features.entry(name.to_string()).or_default();
                        values.push(value.trim().to_string());
                    }
                }
                _ => {
                    return Err(self.lines.error(format!(
                        "expected Size, Supercell, AtomData, Energy, PlusStress, Feature, EnergyWeight or END_CFG, found \"{trimmed}\""
                    )));
                }
            }
        }
        self.build(block).map(Some)
    }

    /// The first number on the line after a keyword line.
    fn value_line<T>(&mut self, what: &str, parse: impl Fn(&Lines<R>, Option<&str>) -> Result<T>) -> Result<T> {
        let line = self.lines.require_line(&format!("the value of {what}"))?;
        let mut tokens = line.split_whitespace();
        let value = parse(&self.lines, tokens.next())?;
        match tokens.next() {
            Some(extra) => Err(self
                .lines
                .error(format!("expected one value for {what}, found extra \"{extra}\""))),
            None => Ok(value),
        }
    }

    /// Up to three rows of three numbers; the first other line is kept for the main loop.
    fn read_supercell(&mut self, block: &mut Block) -> Result<()> {
        block.supercell.clear();
        while let Some(line) = self.lines.next_line()? {
            let starts_with_number = line.split_whitespace().next().is_some_and(|t| t.parse::<f64>().is_ok());
            if !starts_with_number || block.supercell.len() == 3 {
                self.pending = Some(line);
                return Ok(());
            }
            let mut tokens = line.split_whitespace();
            block.supercell.push(
                self.lines
                    .vec3(&mut tokens, ["the x component", "the y component", "the z component"])?,
            );
            if let Some(extra) = tokens.next() {
                return Err(self.lines.error(format!(
                    "expected 3 numbers in a Supercell row, found extra \"{extra}\""
                )));
            }
        }
        Ok(())
    }

    fn read_atoms(&mut self, block: &mut Block, header: &str) -> Result<()> {
        let columns = AtomColumns::parse(&self.lines, header)?;
        let size = block.size.ok_or_else(|| self.lines.error("AtomData before Size"))?;
        block.direct = columns.direct;
        block.types = Vec::with_capacity(size.min(MAX_RESERVE));
        block.positions = Vec::with_capacity(size.min(MAX_RESERVE));
        let mut forces = columns.force.map(|_| Vec::with_capacity(size.min(MAX_RESERVE)));
        let mut extra: Vec<Vec<f64>> = vec![Vec::new(); columns.extra.len()];
        block.atom_line = self.lines.number() + 1;
        for k in 0..size {
            let line = self.lines.require_line(&format!("atom {} of {size}", k + 1))?;
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.len() != columns.count {
                return Err(self.lines.error(format!(
                    "expected {} values ({}), found {}",
                    columns.count,
                    columns.names.join(" "),
                    tokens.len()
                )));
            }
            let field = |i: usize| (tokens.get(i).copied(), columns.names[i].as_str());
            let real = |i: usize| self.lines.real(field(i).0, field(i).1);
            let real3 = |c: [usize; 3]| -> Result<[f64; 3]> { Ok([real(c[0])?, real(c[1])?, real(c[2])?]) };
            block.types.push(self.lines.count(field(columns.atom_type).0, "type")?);
            block.positions.push(real3(columns.position)?);
            if let (Some(f), Some(c)) = (forces.as_mut(), columns.force) {
                f.push(real3(c)?);
            }
            for (values, &i) in extra.iter_mut().zip(&columns.extra) {
                values.push(real(i)?);
            }
        }
        block.forces = forces;
        block.extra = columns
            .extra
            .iter()
            .map(|&i| columns.names[i].clone())
            .zip(extra)
            .collect();
        Ok(())
    }

    fn read_plus_stress(&mut self, header: &str) -> Result<[f64; 6]> {
        let names: Vec<&str> = header.split_whitespace().collect();
        let order: Vec<usize> = if names.is_empty() {
            (0..6).collect()
        } else {
            names
                .iter()
                .map(|n| VOIGT.iter().position(|v| v == n))
                .collect::<Option<Vec<_>>>()
                .filter(|o| o.len() == 6 && (0..6).all(|k| o.contains(&k)))
                .ok_or_else(|| {
                    self.lines.error(format!(
                        "expected PlusStress columns xx yy zz yz xz xy, found \"{}\"",
                        header.trim()
                    ))
                })?
        };
        let line = self.lines.require_line("the PlusStress values")?;
        let mut tokens = line.split_whitespace();
        let mut stress = [0.0; 6];
        for &k in &order {
            stress[k] = self.lines.real(tokens.next(), &format!("PlusStress {}", VOIGT[k]))?;
        }
        if let Some(extra) = tokens.next() {
            return Err(self
                .lines
                .error(format!("expected 6 PlusStress values, found extra \"{extra}\"")));
        }
        Ok(stress)
    }

    fn build(&self, mut block: Block) -> Result<Structure> {
        let size = block.size.ok_or_else(|| self.lines.error("END_CFG before Size"))?;
        if block.positions.len() != size {
            return Err(self.lines.error(format!(
                "Size is {size} but AtomData holds {} atoms",
                block.positions.len()
            )));
        }
        let cell = supercell(&block.supercell).map_err(|e| self.lines.error(e.to_string()))?;
        let element_table = match &self.options.type_map {
            Some(map) => map.clone(),
            None => block.named_elements.take().unwrap_or_default(),
        };
        let elements = block
            .types
            .iter()
            .map(|&t| {
                element_table.get(t).copied().ok_or_else(|| {
                    let message = format!(
                        "type {t} has no element: {} element(s) are named; give a type map (element of type 0, 1, ...)",
                        element_table.len()
                    );
                    Error::parse(self.lines.source(), block.atom_line, message)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let positions = if block.direct {
            block.positions.iter().map(|s| cell.to_cartesian(*s)).collect()
        } else {
            std::mem::take(&mut block.positions)
        };
        let mut structure = Structure::new(cell, elements, positions)?;
        structure.set_int_tag(TYPE_TAG, block.types.iter().map(|&t| t as i64).collect())?;
        for (name, data) in block.extra {
            structure.set_property(&name, Property::Real { data, columns: 1 })?;
        }
        structure.results.forces = block.forces;
        structure.results.energy = block.energy;
        if let Some(plus) = block.plus_stress {
            let volume = structure.cell.volume();
            if block.supercell.len() == 3 && volume > 0.0 {
                structure.results.stress = Some(plus.map(|p| -p / volume));
            } else {
                structure
                    .info
                    .insert(PLUS_STRESS_KEY.into(), InfoValue::RealArray(plus.to_vec()));
            }
        }
        if let Some(w) = block.energy_weight {
            structure.info.insert(ENERGY_WEIGHT_KEY.into(), InfoValue::Real(w));
        }
        for (name, values) in block.features {
            structure.info.insert(name, feature_value(&values.join("\n")));
        }
        Ok(structure)
    }
}

/// The cell of `Supercell` rows: given rows are periodic, missing ones are zero and open.
fn supercell(rows: &[[f64; 3]]) -> Result<Cell> {
    let mut matrix = [[0.0; 3]; 3];
    let mut pbc = [false; 3];
    for (k, row) in rows.iter().enumerate().take(3) {
        matrix[k] = *row;
        pbc[k] = true;
    }
    Cell::new(matrix, pbc)
}

/// A feature value as an Int, else a Real, else a string.
fn feature_value(value: &str) -> InfoValue {
    if let Ok(i) = value.parse::<i64>() {
        InfoValue::Int(i)
    } else if let Some(x) = value.parse::<f64>().ok().filter(|x| x.is_finite()) {
        InfoValue::Real(x)
    } else {
        InfoValue::Str(value.to_string())
    }
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

/// The text of an info value on a `Feature` line, or `None` for values a feature cannot hold.
fn feature_text(value: &InfoValue) -> Option<String> {
    let join = |v: Vec<String>| v.join(" ");
    match value {
        InfoValue::Int(i) => Some(i.to_string()),
        InfoValue::Real(x) => Some(real_to_string(*x)),
        InfoValue::Bool(b) => Some(if *b { "T" } else { "F" }.to_string()),
        InfoValue::Str(s) => Some(s.clone()),
        InfoValue::IntArray(v) => Some(join(v.iter().map(i64::to_string).collect())),
        InfoValue::RealArray(v) => Some(join_reals(v)),
        InfoValue::BoolArray(v) => Some(join(v.iter().map(|b| if *b { "T" } else { "F" }.to_string()).collect())),
    }
}

/// Write `frame` as one `BEGIN_CFG … END_CFG` block.
pub fn write_frame<W: Write>(out: &mut W, frame: &Structure, options: &WriteOptions) -> Result<()> {
    frame.validate()?;
    let pbc = frame.cell.pbc();
    let periodic = pbc.iter().take_while(|p| **p).count();
    if pbc[periodic..].iter().any(|p| *p) {
        return Err(Error::Invalid(format!(
            "MLIP .cfg lists the periodic lattice vectors first; periodicity {pbc:?} cannot be written"
        )));
    }
    let (types, type_elements) = species_types(frame, options.type_map.as_deref(), TYPE_TAG, 0)?;
    let mut text = format!("BEGIN_CFG\n Size\n    {}\n", frame.len());
    if periodic > 0 {
        text.push_str(" Supercell\n");
        for row in &frame.cell.matrix()[..periodic] {
            text.push_str(&format!("    {}\n", join_reals(row)));
        }
    }
    write_atom_data(&mut text, frame, &types);
    if let Some(e) = frame.results.energy {
        text.push_str(&format!(" Energy\n    {}\n", real_to_string(e)));
    }
    let plus_stress = match (frame.results.stress, frame.info.get(PLUS_STRESS_KEY)) {
        (Some(stress), _) if periodic == 3 => Some(stress.map(|s| -s * frame.cell.volume()).to_vec()),
        (_, Some(InfoValue::RealArray(p))) if p.len() == 6 => Some(p.clone()),
        _ => None,
    };
    if let Some(p) = plus_stress {
        text.push_str(&format!(" PlusStress:  xx yy zz yz xz xy\n    {}\n", join_reals(&p)));
    }
    if let Some(InfoValue::Real(w)) = frame.info.get(ENERGY_WEIGHT_KEY) {
        text.push_str(&format!(" EnergyWeight\n    {}\n", real_to_string(*w)));
    }
    let symbols: Vec<&str> = type_elements.iter().map(|e| e.symbol()).collect();
    text.push_str(&format!(" Feature   {ELEMENTS_FEATURE} {}\n", symbols.join(" ")));
    for (name, value) in &frame.info {
        if [ENERGY_WEIGHT_KEY, PLUS_STRESS_KEY, ELEMENTS_FEATURE].contains(&name.as_str())
            || name.contains(char::is_whitespace)
        {
            continue;
        }
        if let Some(value) = feature_text(value) {
            for line in value.split('\n') {
                text.push_str(&format!(" Feature   {name} {line}\n"));
            }
        }
    }
    text.push_str("END_CFG\n\n");
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "MLIP .cfg output".into(),
        source,
    })
}

/// The `AtomData` block: id, type, Cartesian positions, forces when present, and every one-column Real
/// property as an extra column.
fn write_atom_data(text: &mut String, frame: &Structure, types: &[usize]) {
    let extra: Vec<(&String, &Vec<f64>)> = frame
        .properties
        .iter()
        .filter_map(|(name, p)| match p {
            Property::Real { data, columns: 1 } if !name.contains(char::is_whitespace) => Some((name, data)),
            _ => None,
        })
        .collect();
    text.push_str(" AtomData:  id type cartes_x cartes_y cartes_z");
    if frame.results.forces.is_some() {
        text.push_str(" fx fy fz");
    }
    for (name, _) in &extra {
        text.push_str(&format!(" {name}"));
    }
    text.push('\n');
    for i in 0..frame.len() {
        text.push_str(&format!(
            "    {} {} {}",
            i + 1,
            types[i],
            join_reals(&frame.positions[i])
        ));
        if let Some(f) = &frame.results.forces {
            text.push_str(&format!(" {}", join_reals(&f[i])));
        }
        for (_, data) in &extra {
            text.push_str(&format!(" {}", real_to_string(data[i])));
        }
        text.push('\n');
    }
}
