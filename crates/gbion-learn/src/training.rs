//! Training sets: configurations with reference energies, forces and stresses (MLIP `.cfg` or extended
//! XYZ, any number of frames and files), their weights, and per-species reference energies.
//!
//! Weights: a frame's info key `energy_weight` (MLIP's `EnergyWeight`) multiplies its energy term; `weight`
//! multiplies all its terms (both default 1). A frame without an energy cannot be fitted; frames without
//! forces or stress simply leave those terms out.
//!
//! Reference energies e_t (eV per atom of species t) are subtracted from the energies before a fit, so that
//! the fit sees cohesive-like energies of order 1 eV/atom, and added back to the potential's
//! species_coeffs afterwards; since the species_coeffs are free parameters the model is the same.

use crate::{Error, Result};
use gbion_atoms::io::{ReadOptions, read_file};
use gbion_atoms::{Element, InfoValue, ListKind, NeighborList, Structure, Vec3};
use std::path::Path;

/// One labelled configuration.
#[derive(Clone, Debug)]
pub struct Configuration {
    pub structure: Structure,
    /// Reference energy (eV).
    pub energy: f64,
    pub forces: Option<Vec<Vec3>>,
    /// Reference stress (eV/Å³, ASE sign, Voigt xx yy zz yz xz xy).
    pub stress: Option<[f64; 6]>,
    /// Weight of the energy term (`energy_weight`) and of the whole configuration (`weight`).
    pub energy_weight: f64,
    pub weight: f64,
    /// `file:frame` (frame 1-based), for messages.
    pub source: String,
}

/// Labelled configurations.
#[derive(Clone, Debug, Default)]
pub struct TrainingSet {
    pub configurations: Vec<Configuration>,
}

impl TrainingSet {
    /// Read every frame of every file (format from the extension; `.cfg` needs `type_map` unless it names
    /// its elements).
    pub fn read(paths: &[impl AsRef<Path>], type_map: Option<&[Element]>) -> Result<TrainingSet> {
        let options = ReadOptions {
            type_map: type_map.map(|m| m.to_vec()),
            ..ReadOptions::default()
        };
        let mut configurations = Vec::new();
        for path in paths {
            let path = path.as_ref();
            for (index, frame) in read_file(path, None, &options)?.enumerate() {
                let source = format!("{} frame {}", path.display(), index + 1);
                configurations.push(Configuration::from_structure(frame?, source)?);
            }
        }
        if configurations.is_empty() {
            return Err(Error::Invalid("the training set has no configurations".into()));
        }
        Ok(TrainingSet { configurations })
    }

    /// Number of configurations.
    pub fn len(&self) -> usize {
        self.configurations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.configurations.is_empty()
    }

    /// Elements present, in order of first appearance.
    pub fn elements(&self) -> Vec<Element> {
        let mut found: Vec<Element> = Vec::new();
        for c in &self.configurations {
            for e in &c.structure.elements {
                if !found.contains(e) {
                    found.push(*e);
                }
            }
        }
        found
    }

    /// Per-species reference energies by least squares, E_k ≈ Σ_t n_kt e_t over the configurations (with a
    /// tiny ridge, so a species that always comes in the same proportion to another still gets a value).
    pub fn fitted_reference_energies(&self, species: &[Element]) -> Vec<f64> {
        let s = species.len();
        let mut normal = vec![0.0; s * s];
        let mut rhs = vec![0.0; s];
        for c in &self.configurations {
            let counts = species_counts(&c.structure, species);
            for a in 0..s {
                rhs[a] += counts[a] * c.energy;
                for b in 0..s {
                    normal[a * s + b] += counts[a] * counts[b];
                }
            }
        }
        let trace: f64 = (0..s).map(|a| normal[a * s + a]).sum();
        for a in 0..s {
            normal[a * s + a] += 1e-10 * trace.max(1.0);
        }
        let matrix = faer::Mat::from_fn(s, s, |a, b| normal[a * s + b]);
        let solved = matrix.llt(faer::Side::Lower).map(|llt| {
            let x = faer::linalg::solvers::Solve::solve(&llt, faer::Mat::from_fn(s, 1, |a, _| rhs[a]));
            (0..s).map(|a| x[(a, 0)]).collect::<Vec<f64>>()
        });
        solved.unwrap_or_else(|_| vec![0.0; s])
    }

    /// The same set with Σ_t n_t e_t subtracted from every energy.
    pub fn shifted(&self, species: &[Element], reference: &[f64]) -> TrainingSet {
        let mut set = self.clone();
        for c in &mut set.configurations {
            let counts = species_counts(&c.structure, species);
            c.energy -= counts.iter().zip(reference).map(|(n, e)| n * e).sum::<f64>();
        }
        set
    }

    /// A full neighbour list of range `cutoff` for every configuration.
    pub fn neighbour_lists(&self, cutoff: f64) -> Result<Vec<NeighborList>> {
        self.configurations
            .iter()
            .map(|c| {
                NeighborList::build(&c.structure, cutoff, 0.0, ListKind::Full)
                    .map_err(|e| Error::Invalid(format!("{}: {e}", c.source)))
            })
            .collect()
    }
}

/// n_t: the number of atoms of each species in `structure`.
pub fn species_counts(structure: &Structure, species: &[Element]) -> Vec<f64> {
    let mut counts = vec![0.0; species.len()];
    for e in &structure.elements {
        if let Some(t) = species.iter().position(|s| s == e) {
            counts[t] += 1.0;
        }
    }
    counts
}

impl Configuration {
    /// A configuration from a frame whose results hold the labels; `source` names it in errors.
    pub fn from_structure(structure: Structure, source: String) -> Result<Configuration> {
        let energy = structure
            .results
            .energy
            .ok_or_else(|| Error::Invalid(format!("{source}: no energy (a training configuration needs one)")))?;
        let forces = structure.results.forces.clone();
        let stress = structure.results.stress;
        let checks = [
            ("the energy", energy.is_finite()),
            ("a force", forces.iter().flatten().flatten().all(|f| f.is_finite())),
            ("the stress", stress.iter().flatten().all(|s| s.is_finite())),
        ];
        if let Some((what, _)) = checks.iter().find(|(_, ok)| !ok) {
            return Err(Error::Invalid(format!("{source}: {what} is not finite")));
        }
        let weight_of = |key: &str| -> Result<f64> {
            match structure.info.get(key) {
                None => Ok(1.0),
                Some(InfoValue::Real(w)) if *w >= 0.0 && w.is_finite() => Ok(*w),
                Some(InfoValue::Int(w)) if *w >= 0 => Ok(*w as f64),
                Some(other) => Err(Error::Invalid(format!(
                    "{source}: {key} must be a non-negative number, found {other:?}"
                ))),
            }
        };
        Ok(Configuration {
            energy,
            forces,
            stress,
            energy_weight: weight_of("energy_weight")?,
            weight: weight_of("weight")?,
            source,
            structure,
        })
    }
}
