//! `Structure`: one frame of atoms — cell, elements, positions (Å), masses (amu), optional velocities (Å/fs)
//! and charges (e), computed results (energy, forces, stress) when a file or a potential provides them,
//! arbitrary per-atom properties (integer tags such as the lattice site, grain id and fixed flag among them)
//! and per-frame info, all of which survive a round trip through extended XYZ.

use crate::cell::Cell;
use crate::element::Element;
use crate::linalg::{Vec3, norm, sub};
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Well-known names of per-atom integer tags.
pub mod tags {
    /// Lattice site kind of each atom (see [`super::SiteKind`]), set by the builder.
    pub const SITE: &str = "site";
    /// Grain id of each atom in a polycrystal or bicrystal.
    pub const GRAIN: &str = "grain";
    /// 1 for atoms held fixed by dynamics, 0 otherwise.
    pub const FIXED: &str = "fixed";
}

/// Lattice site of an atom in a perovskite ABO3 (stored as the `site` tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum SiteKind {
    A = 0,
    B = 1,
    O = 2,
}

impl SiteKind {
    /// The site kind of a `site` tag value, if it names one.
    pub fn from_tag(value: i64) -> Option<SiteKind> {
        match value {
            0 => Some(SiteKind::A),
            1 => Some(SiteKind::B),
            2 => Some(SiteKind::O),
            _ => None,
        }
    }
}

/// A per-atom property: `columns` values per atom, stored atom-major (`data[atom * columns + column]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Property {
    Real { data: Vec<f64>, columns: usize },
    Int { data: Vec<i64>, columns: usize },
    Bool { data: Vec<bool>, columns: usize },
    Str(Vec<String>),
}

impl Property {
    /// Number of atoms this property covers.
    pub fn len(&self) -> usize {
        match self {
            Property::Real { data, columns } => data.len() / columns.max(&1),
            Property::Int { data, columns } => data.len() / columns.max(&1),
            Property::Bool { data, columns } => data.len() / columns.max(&1),
            Property::Str(data) => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per atom.
    pub fn columns(&self) -> usize {
        match self {
            Property::Real { columns, .. } | Property::Int { columns, .. } | Property::Bool { columns, .. } => *columns,
            Property::Str(_) => 1,
        }
    }

    /// Keep only the atoms in `order` (indices), in that order.
    fn select(&self, order: &[usize]) -> Property {
        fn pick<T: Clone>(data: &[T], columns: usize, order: &[usize]) -> Vec<T> {
            order
                .iter()
                .flat_map(|&i| data[i * columns..(i + 1) * columns].iter().cloned())
                .collect()
        }
        match self {
            Property::Real { data, columns } => Property::Real {
                data: pick(data, *columns, order),
                columns: *columns,
            },
            Property::Int { data, columns } => Property::Int {
                data: pick(data, *columns, order),
                columns: *columns,
            },
            Property::Bool { data, columns } => Property::Bool {
                data: pick(data, *columns, order),
                columns: *columns,
            },
            Property::Str(data) => Property::Str(pick(data, 1, order)),
        }
    }
}

/// A per-frame value (extended XYZ comment-line keys, MLIP `Feature` lines, ...).
#[derive(Clone, Debug, PartialEq)]
pub enum InfoValue {
    Int(i64),
    Real(f64),
    Bool(bool),
    Str(String),
    IntArray(Vec<i64>),
    RealArray(Vec<f64>),
    BoolArray(Vec<bool>),
}

/// Results of a calculation attached to a frame (from a file, an oracle or a potential).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Results {
    /// Total energy (eV).
    pub energy: Option<f64>,
    /// Forces (eV/Å), one per atom.
    pub forces: Option<Vec<Vec3>>,
    /// Stress (eV/Å³), ASE sign (positive = tensile), Voigt order xx yy zz yz xz xy.
    pub stress: Option<[f64; 6]>,
}

/// One frame of atoms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Structure {
    pub cell: Cell,
    pub elements: Vec<Element>,
    /// Cartesian positions (Å).
    pub positions: Vec<Vec3>,
    /// Masses (amu); standard atomic masses unless a file says otherwise.
    pub masses: Vec<f64>,
    /// Velocities (Å/fs).
    pub velocities: Option<Vec<Vec3>>,
    /// Charges (e).
    pub charges: Option<Vec<f64>>,
    pub results: Results,
    /// Named per-atom properties, integer tags (`site`, `grain`, `fixed`) included.
    pub properties: BTreeMap<String, Property>,
    /// Named per-frame values.
    pub info: BTreeMap<String, InfoValue>,
}

impl Structure {
    /// A structure from a cell, elements and positions, with standard masses.
    pub fn new(cell: Cell, elements: Vec<Element>, positions: Vec<Vec3>) -> Result<Structure> {
        if elements.len() != positions.len() {
            return Err(Error::Invalid(format!(
                "{} elements but {} positions",
                elements.len(),
                positions.len()
            )));
        }
        if let Some((i, p)) = positions
            .iter()
            .enumerate()
            .find(|(_, p)| p.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::Invalid(format!("atom {i} has a non-finite position {p:?}")));
        }
        let masses = elements.iter().map(|e| e.mass()).collect();
        Ok(Structure {
            cell,
            elements,
            positions,
            masses,
            ..Default::default()
        })
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Chemical symbols per atom.
    pub fn symbols(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.elements.iter().map(|e| e.symbol())
    }

    /// Distinct elements in order of first appearance.
    pub fn distinct_elements(&self) -> Vec<Element> {
        let mut seen = Vec::new();
        for e in &self.elements {
            if !seen.contains(e) {
                seen.push(*e);
            }
        }
        seen
    }

    /// Count of each element, keyed by symbol (sorted alphabetically).
    pub fn composition(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for e in &self.elements {
            *counts.entry(e.symbol()).or_insert(0) += 1;
        }
        counts
    }

    /// Total mass (amu).
    pub fn total_mass(&self) -> f64 {
        self.masses.iter().sum()
    }

    /// Mass density in g/cm³, or `None` when the cell has no volume.
    pub fn density_g_cm3(&self) -> Option<f64> {
        /// 1 amu/Å³ in g/cm³: 1.66053906660e-24 g / 1e-24 cm³.
        const AMU_PER_A3_IN_G_CM3: f64 = 1.66053906660;
        let volume = self.cell.volume();
        (volume > 0.0).then(|| self.total_mass() / volume * AMU_PER_A3_IN_G_CM3)
    }

    /// A per-atom integer tag (single column), if present.
    pub fn int_tag(&self, name: &str) -> Option<&[i64]> {
        match self.properties.get(name) {
            Some(Property::Int { data, columns: 1 }) => Some(data),
            _ => None,
        }
    }

    /// Set a per-atom integer tag; its length must equal the number of atoms.
    pub fn set_int_tag(&mut self, name: &str, values: Vec<i64>) -> Result<()> {
        self.set_property(
            name,
            Property::Int {
                data: values,
                columns: 1,
            },
        )
    }

    /// Set a per-atom property; its length must equal the number of atoms.
    pub fn set_property(&mut self, name: &str, property: Property) -> Result<()> {
        if property.len() != self.len() || property.columns() == 0 {
            return Err(Error::Invalid(format!(
                "property {name:?} covers {} atoms with {} columns, structure has {} atoms",
                property.len(),
                property.columns(),
                self.len()
            )));
        }
        self.properties.insert(name.to_string(), property);
        Ok(())
    }

    /// Check that every per-atom array has one entry per atom and every number is finite.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        let check = |what: &str, len: usize| {
            if len == n {
                Ok(())
            } else {
                Err(Error::Invalid(format!("{what} has {len} entries for {n} atoms")))
            }
        };
        check("elements", self.elements.len())?;
        check("masses", self.masses.len())?;
        if let Some(v) = &self.velocities {
            check("velocities", v.len())?;
        }
        if let Some(q) = &self.charges {
            check("charges", q.len())?;
        }
        if let Some(f) = &self.results.forces {
            check("forces", f.len())?;
        }
        for (name, property) in &self.properties {
            check(&format!("property {name:?}"), property.len())?;
        }
        let finite = self.positions.iter().flatten().all(|v| v.is_finite())
            && self.masses.iter().all(|m| m.is_finite() && *m > 0.0);
        if !finite {
            return Err(Error::Invalid("non-finite position or non-positive mass".into()));
        }
        Ok(())
    }

    /// The shortest distance (Å) between any two atoms, periodic images included (an atom and its own
    /// image count); `None` for fewer than two atoms in a non-periodic cell. O(N) by cell lists (see
    /// [`crate::neighbor::min_distance`]); errors only on non-finite positions.
    pub fn min_distance(&self) -> Result<Option<f64>> {
        crate::neighbor::min_distance(&self.cell, &self.positions)
    }

    /// The shortest distance between any two atoms, periodic images included (an atom and its own image
    /// count), by brute force over pairs with the minimum-image convention plus self images. `None` for a
    /// single atom in a non-periodic cell. O(N²): for large structures use a neighbour list.
    pub fn min_distance_brute_force(&self) -> Option<f64> {
        let mut best = self.shortest_lattice_translation();
        for i in 0..self.len() {
            for j in i + 1..self.len() {
                let d = norm(self.cell.minimum_image(sub(self.positions[j], self.positions[i])));
                best = Some(best.map_or(d, |b: f64| b.min(d)));
            }
        }
        best
    }

    /// The length of the shortest non-zero lattice translation along periodic directions (the distance
    /// from an atom to its nearest own image), or `None` if nothing is periodic. Exhaustive: the shortest
    /// periodic edge L bounds the answer, and a translation n no longer than L has |n_i| ≤ L / h_i.
    pub fn shortest_lattice_translation(&self) -> Option<f64> {
        let pbc = self.cell.pbc();
        let lengths = self.cell.lengths();
        let heights = self.cell.heights();
        let bound = (0..3)
            .filter(|&k| pbc[k])
            .map(|k| lengths[k])
            .fold(f64::INFINITY, f64::min);
        if !bound.is_finite() {
            return None;
        }
        let reach = |k: usize| {
            if pbc[k] { (bound / heights[k]).ceil() as i32 } else { 0 }
        };
        let mut best = bound;
        for na in -reach(0)..=reach(0) {
            for nb in -reach(1)..=reach(1) {
                for nc in -reach(2)..=reach(2) {
                    if [na, nb, nc] != [0, 0, 0] {
                        best = best.min(norm(self.cell.translation([na, nb, nc])));
                    }
                }
            }
        }
        Some(best)
    }

    /// Reorder atoms (and every per-atom array) to `order`, a permutation or selection of atom indices.
    pub fn select(&self, order: &[usize]) -> Structure {
        let pick3 = |v: &Vec<Vec3>| order.iter().map(|&i| v[i]).collect::<Vec<_>>();
        Structure {
            cell: self.cell.clone(),
            elements: order.iter().map(|&i| self.elements[i]).collect(),
            positions: pick3(&self.positions),
            masses: order.iter().map(|&i| self.masses[i]).collect(),
            velocities: self.velocities.as_ref().map(pick3),
            charges: self.charges.as_ref().map(|q| order.iter().map(|&i| q[i]).collect()),
            results: Results {
                energy: None,
                forces: self.results.forces.as_ref().map(pick3),
                stress: None,
            },
            properties: self
                .properties
                .iter()
                .map(|(k, p)| (k.clone(), p.select(order)))
                .collect(),
            info: self.info.clone(),
        }
        .with_results_of_whole(self, order.len())
    }

    /// Whole-frame results (energy, stress) stay valid only when no atom was dropped.
    fn with_results_of_whole(mut self, original: &Structure, kept: usize) -> Structure {
        if kept == original.len() {
            self.results.energy = original.results.energy;
            self.results.stress = original.results.stress;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rocksalt_pair() -> Structure {
        let cell = Cell::orthorhombic([4.0, 4.0, 4.0]).unwrap();
        let e = vec![Element::from_symbol("Li").unwrap(), Element::from_symbol("O").unwrap()];
        Structure::new(cell, e, vec![[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]).unwrap()
    }

    #[test]
    fn density_and_composition() {
        let s = rocksalt_pair();
        let expected = (6.94 + 15.999) / 64.0 * 1.66053906660;
        assert!((s.density_g_cm3().unwrap() - expected).abs() < 1e-12);
        assert_eq!(s.composition().get("Li"), Some(&1));
        assert_eq!(s.min_distance_brute_force(), Some(2.0));
    }

    #[test]
    fn self_image_counts_toward_min_distance() {
        let cell = Cell::orthorhombic([1.5, 5.0, 5.0]).unwrap();
        let s = Structure::new(cell, vec![Element(3), Element(8)], vec![[0.0; 3], [0.0, 2.5, 0.0]]).unwrap();
        assert_eq!(s.min_distance_brute_force(), Some(1.5));
    }

    #[test]
    fn tags_must_cover_every_atom() {
        let mut s = rocksalt_pair();
        assert!(s.set_int_tag(tags::SITE, vec![0]).is_err());
        s.set_int_tag(tags::SITE, vec![SiteKind::A as i64, SiteKind::O as i64])
            .unwrap();
        assert_eq!(s.int_tag(tags::SITE), Some(&[0, 2][..]));
        let swapped = s.select(&[1, 0]);
        assert_eq!(swapped.int_tag(tags::SITE), Some(&[2, 0][..]));
        assert_eq!(swapped.elements[0].symbol(), "O");
    }

    #[test]
    fn mismatched_or_non_finite_input_is_an_error() {
        let cell = Cell::orthorhombic([4.0, 4.0, 4.0]).unwrap();
        assert!(Structure::new(cell.clone(), vec![Element(3)], vec![]).is_err());
        assert!(Structure::new(cell, vec![Element(3)], vec![[f64::NAN, 0.0, 0.0]]).is_err());
    }
}
