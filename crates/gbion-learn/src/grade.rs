//! The extrapolation grade of a moment tensor potential by MaxVol / D-optimality (Podryabinkin & Shapeev,
//! Comput. Mater. Sci. 140, 171 (2017), section 3; MLIP's `calc-grade` and `select-add`): the active set,
//! per-configuration and per-atom grades, and the selection of a batch of the most informative
//! configurations from a pool.
//!
//! **Rows.** For fixed radial coefficients an MTP's energy is linear in θ = (species_coeffs[0..S],
//! moment_coeffs[0..K]): E = Σ_i θ · b(x_i) with the site row b(x_i) = (e_{t_i}, B_1(i), …, B_K(i)), e_t the
//! unit vector of the centre's type and B_k the basis values ([`Mtp::site_bases`]). So a row has
//! p = S + K entries ([`parameter_count`]), all the parameters the energy is linear in. [`RowMode::Site`]
//! uses one row per atom (MLIP-3's default, site-energy weighting); [`RowMode::Configuration`] one row per
//! configuration, the sum Σ_i b(x_i) = ∂E/∂θ, and optionally (MLIP's select-add `--force-weight`,
//! `--stress-weight`; [`EquationWeights`]) its force rows ∂F_{i,d}/∂θ and virial rows ∂(σ_v V)/∂θ
//! ([`Mtp::linear_rows`]), each kind multiplied by its weight. The per-species constants are included:
//! they are fitted with the moment coefficients, and without them a site whose centre species the training
//! set lacks (or a composition it never varied) would look interpolative although its energy offset is
//! undetermined.
//!
//! **Active set and grade.** Of all candidate rows B (n × m) the active set A is the m × m submatrix of
//! (locally) maximal |det A| found by MaxVol with pair swaps ([`maxvol`]): D-optimal (globally maximal
//! |det|, to the factor 1 + [`SWAP_TOLERANCE`]) when min(m, n − m) ≤ 2, within a Hadamard bound otherwise
//! (the D-optimal choice is NP-hard in general; see the `maxvol` module). The grade of a row b is
//! γ(b) = max_j |(b A⁻¹)_j|, the largest factor by which |det A| grows when b replaces a row
//! of A. Rows of A have γ = 1 exactly, rows of the training set γ ≤ 1 + [`SWAP_TOLERANCE`]; γ > 1 is
//! extrapolation. A configuration's grade is the largest grade of its rows; an atom's grade (site mode) is
//! that of its site row. In configuration mode rows grow with the number of atoms, so grades compare
//! configurations of similar size.
//!
//! **Rank deficiency** (fewer rows than p, basis values identically zero, e.g. the constant of a species
//! the training set lacks, or dependent functions, e.g. species counts proportional to each other at fixed
//! composition): the active set never fails for it but is restricted to a numerically independent subset of
//! the parameter columns ([`independent_columns`], m = its size = the numerical rank), which the file
//! records. A row with a component outside the span of the training rows (relative residual in the dropped
//! columns above [`SPAN_TOLERANCE`]) has grade +∞: no combination of the active rows gives it, so its
//! parameters are undetermined by the training set. Only a training set whose rows are all zero is an error.
//!
//! **Thresholds**: the values MLIP's examples use for its select ("save", 2.1) and break (10) thresholds
//! (MLIP-2 `select:threshold` / `select:threshold-break`, MLIP-3 `threshold_save` / `threshold_break`; the
//! option names and defaults were not checked against MLIP's source here): configurations above
//! [`DEFAULT_SELECT_THRESHOLD`] are worth computing with the oracle, above [`DEFAULT_STOP_THRESHOLD`] the
//! potential is not to be trusted at all (MLIP stops the MD). MLIP-2's `mlp help select-add` (as quoted in
//! third-party scripts, not its source) gives `--select-threshold` default 1.1 and `--swap-threshold`
//! 1.0000001 for the command itself; [`SWAP_TOLERANCE`] here is 1e-6.
//!
//! The active set is tied to the basis and radial coefficients it was built with (a fingerprint of them and
//! the species map are checked) but not to the energy coefficients; it is written as JSON (`file`).

mod file;
mod maxvol;

pub use maxvol::{PAIR_SWAP_BUDGET, RANK_TOLERANCE, SWAP_TOLERANCE, column_scales, independent_columns, maxvol};

use faer::{Mat, MatRef};
use gbion_atoms::{ListKind, NeighborList, Structure};
use gbion_potentials::Potential;
use gbion_potentials::mtp::{Mtp, MtpParameters};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Grade above which a configuration is selected for the training set (MLIP's select / save threshold).
pub const DEFAULT_SELECT_THRESHOLD: f64 = 2.1;
/// Grade above which the potential is not to be used at all (MLIP's break threshold).
pub const DEFAULT_STOP_THRESHOLD: f64 = 10.0;
/// A row is outside the span of the active rows when the largest |residual| of its dropped columns (each
/// divided by the column's scale) exceeds `SPAN_TOLERANCE` times its largest scaled |entry|.
pub const SPAN_TOLERANCE: f64 = 1e-7;

/// Serde for a grade that may be +∞ (a configuration outside the training span; JSON has no infinity):
/// +∞ is written as `null` and `null` reads back as +∞, as `gbion grade --json` shows it. A NaN grade is
/// an error (grades are never NaN). Use with `#[serde(with = "gbion_learn::grade::grade_json")]`.
pub mod grade_json {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(grade: &f64, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if grade.is_finite() {
            serializer.serialize_f64(*grade)
        } else if *grade == f64::INFINITY {
            serializer.serialize_none()
        } else {
            Err(serde::ser::Error::custom(format!("the grade {grade} cannot be stored")))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::INFINITY))
    }
}

/// Everything that can go wrong with active sets and grades.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A potential that cannot give rows (no radial coefficients or species map, unknown element, ...).
    #[error(transparent)]
    Potential(#[from] gbion_potentials::Error),
    /// A structure the neighbour list rejects.
    #[error(transparent)]
    Atoms(#[from] gbion_atoms::Error),
    /// Bad arguments or data (empty training set, mismatched potential, threshold below 1, ...).
    #[error("{0}")]
    Invalid(String),
    /// An active-set file that cannot be read or written; `field` names the JSON field at fault.
    #[error("{}: {field}: {message}", path.display())]
    File {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// Result with the grade module's error.
pub type Result<T> = std::result::Result<T, Error>;

/// The weights of a configuration's equations in [`RowMode::Configuration`]: its energy row ∂E/∂θ
/// (eV per unit coefficient), its 3N force rows ∂F_{i,d}/∂θ (eV/Å) and its 6 virial rows ∂(σ_v V)/∂θ (eV;
/// the stress times the volume, as MLIP's `.cfg` stores stresses; the sign does not change any grade) are
/// multiplied by them, and the kinds of weight 0 are left out. These are MLIP's `select-add` options
/// `--energy-weight`, `--force-weight`, `--stress-weight` with their defaults 1, 0, 0 (as `mlp help
/// select-add` of MLIP-2 lists them; MLIP's `--weighting` scaling with the number of atoms is not
/// reproduced). Force and virial rows need a cell periodic in all directions ([`Mtp::linear_rows`]).
/// Site mode has one row per atom and no weights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EquationWeights {
    pub energy: f64,
    pub force: f64,
    pub stress: f64,
}

impl Default for EquationWeights {
    fn default() -> EquationWeights {
        EquationWeights {
            energy: 1.0,
            force: 0.0,
            stress: 0.0,
        }
    }
}

impl EquationWeights {
    /// Checked weights: finite, ≥ 0, not all 0.
    pub fn new(energy: f64, force: f64, stress: f64) -> Result<EquationWeights> {
        let weights = EquationWeights { energy, force, stress };
        let all = [energy, force, stress];
        if all.iter().all(|w| w.is_finite() && *w >= 0.0) && all.iter().any(|&w| w > 0.0) {
            Ok(weights)
        } else {
            Err(Error::Invalid(format!(
                "equation weights must be finite and ≥ 0, not all 0; got energy {energy}, force {force}, stress \
                 {stress}"
            )))
        }
    }

    /// Whether the rows need [`Mtp::linear_rows`] (force or virial rows).
    fn needs_derivatives(&self) -> bool {
        self.force > 0.0 || self.stress > 0.0
    }
}

/// Which rows the active set is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowMode {
    /// One row per atom: b(x_i) = (e_{t_i}, B(i)) = ∂E_i/∂θ of the site energy.
    Site,
    /// One row per configuration: Σ_i b(x_i) = ∂E/∂θ of the total energy.
    Configuration,
}

/// The select and stop thresholds of the grade (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    pub select: f64,
    pub stop: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            select: DEFAULT_SELECT_THRESHOLD,
            stop: DEFAULT_STOP_THRESHOLD,
        }
    }
}

/// What a grade means for a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// γ ≤ select: interpolation, the potential can be trusted.
    Reliable,
    /// select < γ ≤ stop: extrapolation worth adding to the training set.
    Select,
    /// γ > stop: strong extrapolation, results are not to be trusted.
    Stop,
}

impl Thresholds {
    /// Checked thresholds: 1 ≤ select ≤ stop, both finite (a threshold below 1 would call rows of the
    /// training set itself extrapolation).
    pub fn new(select: f64, stop: f64) -> Result<Thresholds> {
        check_threshold(select, "select")?;
        check_threshold(stop, "stop")?;
        if select > stop {
            return Err(Error::Invalid(format!(
                "the select threshold {select} is above the stop threshold {stop}"
            )));
        }
        Ok(Thresholds { select, stop })
    }

    /// The verdict on grade γ.
    pub fn verdict(&self, grade: f64) -> Verdict {
        if grade > self.stop {
            Verdict::Stop
        } else if grade > self.select {
            Verdict::Select
        } else {
            Verdict::Reliable
        }
    }
}

fn check_threshold(value: f64, name: &str) -> Result<()> {
    if value.is_finite() && value >= 1.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "the {name} threshold must be a finite number ≥ 1 (grades of training rows are ≤ 1), got {value}"
        )))
    }
}

/// The grade of one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// max over its rows of γ (0 for a configuration without atoms; +∞ outside the training span).
    pub configuration: f64,
    /// γ of each atom's site row (site mode); `None` in configuration mode.
    pub per_atom: Option<Vec<f64>>,
}

/// One configuration chosen by [`ActiveSet::select_batch`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Selection {
    /// Its index in the pool.
    pub index: usize,
    /// Its grade against the active set at the moment it was chosen (before it was added).
    pub grade: f64,
}

/// Where a row of the active set comes from: the configuration's index in the training set followed by
/// the configurations added by [`ActiveSet::select_batch`] (in selection order), and the atom (site mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowOrigin {
    pub configuration: usize,
    pub atom: Option<usize>,
}

/// One row of the active set: all p parameter entries, and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveRow {
    pub origin: RowOrigin,
    pub values: Vec<f64>,
}

/// The number p = S + K of linear parameters (species_coeffs, then moment_coeffs) a row covers.
pub fn parameter_count(mtp: &Mtp) -> usize {
    let p = mtp.parameters();
    p.species_count + p.alpha_moment_mapping.len()
}

/// The rows of a structure (see the module documentation): one per atom in site mode, one in
/// configuration mode; each of length [`parameter_count`].
pub fn rows(mtp: &Mtp, structure: &Structure, mode: RowMode) -> Result<Vec<Vec<f64>>> {
    let species_count = mtp.parameters().species_count;
    let list = NeighborList::build(structure, mtp.cutoff(), 0.0, ListKind::Full)?;
    let bases = mtp.site_bases(structure, &list)?;
    let site_row = |atom: usize| {
        let mut row = vec![0.0; species_count];
        row[bases.types[atom]] = 1.0;
        row.extend_from_slice(bases.row(atom));
        row
    };
    Ok(match mode {
        RowMode::Site => (0..structure.len()).map(site_row).collect(),
        RowMode::Configuration => {
            let mut sum = vec![0.0; species_count + bases.width];
            for atom in 0..structure.len() {
                for (s, v) in sum.iter_mut().zip(site_row(atom)) {
                    *s += v;
                }
            }
            vec![sum]
        }
    })
}

/// The rows of a structure with equation weights: [`rows`] in site mode (where only the default weights
/// are accepted); in configuration mode the weighted energy, force and virial rows of [`EquationWeights`],
/// in that order, kinds of weight 0 left out.
pub fn weighted_rows(
    mtp: &Mtp,
    structure: &Structure,
    mode: RowMode,
    weights: &EquationWeights,
) -> Result<Vec<Vec<f64>>> {
    check_weights(mode, weights)?;
    if !weights.needs_derivatives() {
        let mut rows = rows(mtp, structure, mode)?;
        rows.iter_mut().flatten().for_each(|v| *v *= weights.energy);
        return Ok(rows);
    }
    let list = NeighborList::build(structure, mtp.cutoff(), 0.0, ListKind::Full)?;
    let linear = mtp.linear_rows(structure, &list)?;
    let volume = structure.cell.volume();
    let kinds = [
        (&linear.energy, weights.energy),
        (&linear.forces, weights.force),
        (&linear.stress, weights.stress * volume),
    ];
    Ok(kinds
        .into_iter()
        .filter(|&(_, weight)| weight > 0.0)
        .flat_map(|(values, weight)| {
            values
                .chunks(linear.columns)
                .map(move |row| row.iter().map(|v| weight * v).collect())
        })
        .collect())
}

/// Weights other than the default are for configuration mode only.
fn check_weights(mode: RowMode, weights: &EquationWeights) -> Result<()> {
    EquationWeights::new(weights.energy, weights.force, weights.stress)?;
    if mode == RowMode::Site && *weights != EquationWeights::default() {
        return Err(Error::Invalid(format!(
            "equation weights {weights:?} need configuration mode (site mode has one energy row per atom)"
        )));
    }
    Ok(())
}

/// What an active set must match in a potential: the species map and the basis with its radial
/// coefficients.
#[derive(Clone, Debug, PartialEq)]
struct PotentialId {
    species: Vec<String>,
    species_count: usize,
    moment_count: usize,
    fingerprint: String,
}

impl PotentialId {
    fn of(mtp: &Mtp) -> PotentialId {
        let p = mtp.parameters();
        PotentialId {
            species: mtp
                .species()
                .unwrap_or_default()
                .iter()
                .map(|e| e.symbol().to_string())
                .collect(),
            species_count: p.species_count,
            moment_count: p.alpha_moment_mapping.len(),
            fingerprint: fingerprint(p),
        }
    }
}

/// FNV-1a (64 bit) of everything the rows depend on: cutoffs, scaling, radial basis and coefficients, and
/// the moment layout (not the energy coefficients), as `"fnv1a64:<16 hex digits>"`.
fn fingerprint(p: &MtpParameters) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut eat = |word: u64| {
        for byte in word.to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for x in [p.min_dist, p.max_dist, p.scaling.unwrap_or(1.0)] {
        eat(x.to_bits());
    }
    for n in [
        p.species_count,
        p.radial_basis_size,
        p.radial_funcs_count,
        p.alpha_moments_count,
    ] {
        eat(n as u64);
    }
    for x in p.radial_coeffs.iter().flatten() {
        eat(x.to_bits());
    }
    for row in p.alpha_index_basic.iter().chain(&p.alpha_index_times) {
        row.iter().for_each(|&n| eat(n as u64));
    }
    p.alpha_moment_mapping.iter().for_each(|&n| eat(n as u64));
    format!("fnv1a64:{hash:016x}")
}

/// The active set: m rows of maximal |det| on a column subset of size m, with A⁻¹.
#[derive(Clone, Debug)]
pub struct ActiveSet {
    mode: RowMode,
    weights: EquationWeights,
    potential: PotentialId,
    /// The parameter columns (indices into species_coeffs ++ moment_coeffs) A is restricted to, ascending.
    columns: Vec<usize>,
    /// The largest |entry| of each of the p columns over the training rows and the selected ones, the
    /// scale of the span test (a column that was always 0 counts with scale 1).
    scales: Vec<f64>,
    /// Configurations the active set has seen: training set, then selected ones.
    configurations: usize,
    rows: Vec<ActiveRow>,
    /// A⁻¹ of the rows restricted to `columns`.
    inverse: Mat<f64>,
}

impl ActiveSet {
    /// The active set of a training set: MaxVol over all rows of all configurations (see the module
    /// documentation for the rank-deficient case), with the default [`EquationWeights`]. An error when no
    /// configuration gives a non-zero row.
    pub fn from_training(mtp: &Mtp, configs: &[Structure], mode: RowMode) -> Result<ActiveSet> {
        ActiveSet::from_training_weighted(mtp, configs, mode, EquationWeights::default())
    }

    /// [`ActiveSet::from_training`] with the rows of [`weighted_rows`]; grades and selections of this
    /// active set use the same weights.
    pub fn from_training_weighted(
        mtp: &Mtp,
        configs: &[Structure],
        mode: RowMode,
        weights: EquationWeights,
    ) -> Result<ActiveSet> {
        let mut candidates = Vec::new();
        for (c, structure) in configs.iter().enumerate() {
            candidates.extend(origin_rows(weighted_rows(mtp, structure, mode, &weights)?, c, mode));
        }
        let p = parameter_count(mtp);
        let full = Mat::from_fn(candidates.len(), p, |i, k| candidates[i].values[k]);
        let scales = column_scales(full.as_ref());
        let kind = RowKind { mode, weights };
        ActiveSet::choose(kind, PotentialId::of(mtp), configs.len(), candidates, scales, None)
    }

    /// MaxVol over `candidates`: on the given columns from the given start rows (`layout`), or on freshly
    /// chosen independent columns from the pivoted-QR start. `scales` are the columns' largest |entries|.
    fn choose(
        kind: RowKind,
        potential: PotentialId,
        configurations: usize,
        candidates: Vec<ActiveRow>,
        scales: Vec<f64>,
        layout: Option<(Vec<usize>, Vec<usize>)>,
    ) -> Result<ActiveSet> {
        let p = scales.len();
        let full = Mat::from_fn(candidates.len(), p, |i, k| candidates[i].values[k]);
        let (columns, start) = match layout {
            Some(layout) => layout,
            None => {
                let columns = independent_columns(full.as_ref(), RANK_TOLERANCE);
                if columns.is_empty() {
                    return Err(Error::Invalid(format!(
                        "the training set gives no non-zero row ({} rows): it has no atoms",
                        candidates.len()
                    )));
                }
                (columns, Vec::new())
            }
        };
        // MaxVol on columns scaled to unit largest |entry|: A D has the rows of maximal |det| that A has,
        // and the same C = B A⁻¹, but rank decisions do not depend on the columns' units.
        let scaled = Mat::from_fn(full.nrows(), columns.len(), |i, k| {
            full[(i, columns[k])] / unit_if_zero(scales[columns[k]])
        });
        let active = match start.is_empty() {
            true => maxvol(scaled.as_ref())?,
            false => maxvol::maxvol_from(scaled.as_ref(), start)?,
        };
        let inverse = maxvol::inverse(restrict(full.as_ref(), &columns).as_ref(), &active)?;
        let rows = active.iter().map(|&i| candidates[i].clone()).collect();
        Ok(ActiveSet {
            mode: kind.mode,
            weights: kind.weights,
            potential,
            columns,
            scales,
            configurations,
            rows,
            inverse,
        })
    }

    /// The row mode.
    pub fn mode(&self) -> RowMode {
        self.mode
    }

    /// The equation weights of configuration mode (the defaults in site mode).
    pub fn weights(&self) -> EquationWeights {
        self.weights
    }

    /// The rows of a structure as this active set weighs them.
    fn rows_of(&self, mtp: &Mtp, structure: &Structure) -> Result<Vec<Vec<f64>>> {
        weighted_rows(mtp, structure, self.mode, &self.weights)
    }

    /// The parameter columns (indices into species_coeffs ++ moment_coeffs) the active set uses; m of p.
    pub fn columns(&self) -> &[usize] {
        &self.columns
    }

    /// The m rows of A (all p entries each) with their origins.
    pub fn rows(&self) -> &[ActiveRow] {
        &self.rows
    }

    /// The number of configurations seen (training set, then selected ones); the next selected
    /// configuration gets this index in [`RowOrigin::configuration`].
    pub fn configurations(&self) -> usize {
        self.configurations
    }

    /// The grade of a structure (see the module documentation); an error when `mtp` is not the potential
    /// the active set was built with.
    pub fn grade(&self, mtp: &Mtp, structure: &Structure) -> Result<Grade> {
        self.check_potential(mtp)?;
        let grades = self.grade_rows(&self.rows_of(mtp, structure)?)?;
        Ok(Grade {
            configuration: grades.iter().fold(0.0, |m, &g| m.max(g)),
            per_atom: (self.mode == RowMode::Site).then_some(grades),
        })
    }

    /// γ of each row (rows of length p as [`rows`] gives them): max_j |(b A⁻¹)_j| on the active columns,
    /// +∞ for a row outside the span of the active rows.
    pub fn grade_rows(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>> {
        let p = self.scales.len();
        if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != p) {
            return Err(Error::Invalid(format!(
                "row {i} has {} entries, the active set's rows {p}",
                row.len()
            )));
        }
        let full = Mat::from_fn(rows.len(), p, |i, k| rows[i][k]);
        let c = restrict(full.as_ref(), &self.columns) * &self.inverse;
        let mut grades: Vec<f64> = (0..rows.len())
            .map(|i| (0..c.ncols()).fold(0.0_f64, |m, j| m.max(c[(i, j)].abs())))
            .collect();
        let dropped: Vec<usize> = (0..p).filter(|k| !self.columns.contains(k)).collect();
        if !dropped.is_empty() {
            let a_dropped = Mat::from_fn(self.rows.len(), dropped.len(), |j, d| self.rows[j].values[dropped[d]]);
            let residual = restrict(full.as_ref(), &dropped) - &c * &a_dropped;
            for (i, grade) in grades.iter_mut().enumerate() {
                let scale = |k: usize| unit_if_zero(self.scales[k]);
                let size = (0..p).fold(0.0_f64, |m, k| m.max(rows[i][k].abs() / scale(k)));
                let off = (0..dropped.len()).fold(0.0_f64, |m, d| m.max(residual[(i, d)].abs() / scale(dropped[d])));
                if off > SPAN_TOLERANCE * size {
                    *grade = f64::INFINITY;
                }
            }
        }
        Ok(grades)
    }

    /// Select up to `max_batch` configurations of `pool`, greedily: of the configurations with grade
    /// γ > `threshold` the one of largest γ (the first on ties), i.e. the one whose row multiplies |det A|
    /// the most, is added, A is updated by MaxVol over the active rows ∪ that configuration's rows (on
    /// freshly chosen columns when γ = ∞, which raises the rank), and the grades of the rest are
    /// recomputed; until none is above the threshold. Returns the chosen pool configurations in selection
    /// order; the k-th gets [`RowOrigin::configuration`] = (configurations before) + k.
    pub fn select_batch(
        &mut self,
        mtp: &Mtp,
        pool: &[Structure],
        threshold: f64,
        max_batch: usize,
    ) -> Result<Vec<Selection>> {
        self.check_potential(mtp)?;
        check_threshold(threshold, "select")?;
        let pool_rows: Vec<Vec<Vec<f64>>> = pool.iter().map(|s| self.rows_of(mtp, s)).collect::<Result<_>>()?;
        let mut remaining: Vec<usize> = (0..pool.len()).collect();
        let mut selected = Vec::new();
        while selected.len() < max_batch {
            let mut best: Option<(usize, f64)> = None;
            for (k, &c) in remaining.iter().enumerate() {
                let grade = self.grade_rows(&pool_rows[c])?.into_iter().fold(0.0, f64::max);
                if grade > threshold && best.is_none_or(|(_, g)| grade > g) {
                    best = Some((k, grade));
                }
            }
            let Some((k, grade)) = best else { break };
            let index = remaining.remove(k);
            self.add_configuration(&pool_rows[index], grade.is_finite())?;
            selected.push(Selection { index, grade });
        }
        Ok(selected)
    }

    /// Add the rows of one configuration: MaxVol over the active rows ∪ `rows`, from the current A on the
    /// current columns when `in_span`, else on columns chosen afresh.
    fn add_configuration(&mut self, rows: &[Vec<f64>], in_span: bool) -> Result<()> {
        let mut candidates = self.rows.clone();
        candidates.extend(origin_rows(rows.to_vec(), self.configurations, self.mode));
        let new = Mat::from_fn(rows.len(), self.scales.len(), |i, k| rows[i][k]);
        let scales = self
            .scales
            .iter()
            .zip(column_scales(new.as_ref()))
            .map(|(old, new)| old.max(new))
            .collect();
        let layout = in_span.then(|| (self.columns.clone(), (0..self.rows.len()).collect()));
        let kind = RowKind {
            mode: self.mode,
            weights: self.weights,
        };
        *self = ActiveSet::choose(
            kind,
            self.potential.clone(),
            self.configurations + 1,
            candidates,
            scales,
            layout,
        )?;
        Ok(())
    }

    fn check_potential(&self, mtp: &Mtp) -> Result<()> {
        let given = PotentialId::of(mtp);
        if given == self.potential {
            return Ok(());
        }
        Err(Error::Invalid(format!(
            "the active set was built for another potential: species [{}], {} basis functions, {}; this one \
             has species [{}], {} basis functions, {} (rebuild the active set after changing the radial \
             coefficients)",
            self.potential.species.join(", "),
            self.potential.moment_count,
            self.potential.fingerprint,
            given.species.join(", "),
            given.moment_count,
            given.fingerprint
        )))
    }
}

/// The row mode and equation weights an active set is built with.
#[derive(Clone, Copy)]
struct RowKind {
    mode: RowMode,
    weights: EquationWeights,
}

/// The rows of configuration `configuration` with their origins.
fn origin_rows(rows: Vec<Vec<f64>>, configuration: usize, mode: RowMode) -> impl Iterator<Item = ActiveRow> {
    rows.into_iter().enumerate().map(move |(atom, values)| ActiveRow {
        origin: RowOrigin {
            configuration,
            atom: (mode == RowMode::Site).then_some(atom),
        },
        values,
    })
}

/// The columns `columns` of `matrix`.
fn restrict(matrix: MatRef<'_, f64>, columns: &[usize]) -> Mat<f64> {
    Mat::from_fn(matrix.nrows(), columns.len(), |i, k| matrix[(i, columns[k])])
}

fn unit_if_zero(scale: f64) -> f64 {
    if scale > 0.0 { scale } else { 1.0 }
}
