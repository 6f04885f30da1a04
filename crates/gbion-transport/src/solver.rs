//! Finite-volume tracer diffusion on a [`Microstructure`] with thin grain boundaries, implicit time
//! stepping with a sparse Cholesky factorisation (faer), and the boundary conditions of the isotope
//! exchange experiment of paper 003 (a ⁶Li bath below a liquid level, then storage with no flux).
//!
//! Units: SI throughout — lengths in m, times in s, D in m²/s, the GB conductance D_gb/δ in m/s;
//! concentrations are dimensionless isotope fractions (any linear quantity works).
//!
//! Discretisation (cell-centred, cubic cells of edge h, volume h³, face area h²). For each cell i
//!   dC_i/dt = Σ_j (g_ij / h)(C_j − C_i) + Σ_b (g_b / h)(C_res − C_i),
//! with the face conductance per unit area g_ij (m/s):
//! - same grain: g = D_bulk / h;
//! - different grains (a GB face): the series of two half cells and the interface,
//!   1/g = (h/2)/D_i + 1/(D_gb/δ) + (h/2)/D_j — paper 003 eqn (3) (flux continuity across a GB of
//!   thickness δ with the step ΔC_gb) built into the face, so δ = 0.5 nm needs no 0.5 nm cells;
//! - an outer face in contact with a reservoir at C_res (the ⁶LiNO₃ solution, C_s): g_b = D_i/(h/2);
//! - other outer faces: no flux.
//!
//! Writing the system as dC/dt = −K C + b (K symmetric positive semi-definite, zero row sums without
//! reservoirs, so Σ C_i is conserved exactly), steps use the θ-scheme
//! (I + θ Δt K) Cⁿ⁺¹ = (I − (1 − θ) Δt K) Cⁿ + Δt b:
//! - [`Scheme::BackwardEuler`], θ = 1, first order in Δt;
//! - [`Scheme::CrankNicolson`], θ = ½, second order, with Rannacher start-up: the first step of every
//!   phase (the start and the removal of the source are discontinuities) is replaced by two backward
//!   Euler half steps, whose matrix I + (Δt/2) K is the Crank–Nicolson one, so one factorisation serves.
//!
//! Crank–Nicolson is not monotone: with Δt far above h²/D a stiff mode can overshoot [C_0, C_s] by a
//! little (≈ 3e-7 seen at Δt = 1.5 h, h = 2 µm); backward Euler (an M-matrix each step) cannot.
//!
//! The matrix is factorised once per (Δt, reservoirs on/off) with one shared symbolic analysis and reused
//! for every step of that size. Spatial accuracy is second order in h (shown in the tests).

use crate::microstructure::{Axis, Microstructure};
use faer::Side;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Llt, SymbolicLlt};
use faer::sparse::{SparseColMat, Triplet};
use thiserror::Error;

/// Errors from setting up or running a diffusion problem.
#[derive(Debug, Error, PartialEq)]
pub enum SolverError {
    #[error("{name} must be {expected}, got {value}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{name} has {got} entries, expected {expected}")]
    WrongLength {
        name: &'static str,
        got: usize,
        expected: usize,
    },
    #[error("snapshot times must be sorted and within [0, {duration}] s, got {time} s")]
    BadSnapshotTime { time: f64, duration: f64 },
    #[error("sparse factorisation failed: {0}")]
    Factorisation(String),
    #[error("the run would take more than {limit} time steps: raise max_dt or shorten the phases")]
    TooManySteps { limit: usize },
}

/// Most time steps one run may take (at ~1 ms a step on a 10⁵-cell grid: hours).
pub const MAX_STEPS: usize = 10_000_000;

/// Time-stepping scheme; see the module doc for the equations and orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    BackwardEuler,
    CrankNicolson,
}

/// Which side of an axis an outer face of the grid lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Lower,
    Upper,
}

/// One of the six outer faces of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OuterFace {
    pub axis: Axis,
    pub end: End,
}

impl OuterFace {
    /// All six outer faces.
    pub fn all() -> Vec<OuterFace> {
        [Axis::X, Axis::Y, Axis::Z]
            .into_iter()
            .flat_map(|axis| [End::Lower, End::Upper].map(|end| OuterFace { axis, end }))
            .collect()
    }
}

/// A reservoir at fixed concentration in contact with some outer faces of the grid: those of `faces`
/// whose face centre has coordinate ≤ `level_m` along `level_axis` (the liquid level; +∞ = whole faces).
#[derive(Debug, Clone, PartialEq)]
pub struct Reservoir {
    pub concentration: f64,
    pub faces: Vec<OuterFace>,
    pub level_axis: Axis,
    pub level_m: f64,
}

impl Reservoir {
    /// The experiment's bath: every outer face of the sample below the liquid level `level_m` along the
    /// dipping axis touches the solution at C_s. In 2D (nz = 1) the ±z faces are the sample's front and
    /// back surfaces, so every cell below the level is in contact with the bath.
    pub fn liquid_bath(c_s: f64, dipping_axis: Axis, level_m: f64) -> Self {
        Self {
            concentration: c_s,
            faces: OuterFace::all(),
            level_axis: dipping_axis,
            level_m,
        }
    }

    /// A whole outer face held at `c` (e.g. both ends of a slab for a steady-state flux).
    pub fn whole_face(c: f64, axis: Axis, end: End) -> Self {
        Self {
            concentration: c,
            faces: vec![OuterFace { axis, end }],
            level_axis: axis,
            level_m: f64::INFINITY,
        }
    }
}

/// A stretch of time with the reservoirs either in contact (exchange) or removed (storage: no flux
/// anywhere), with snapshots at the given times since the phase start.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub duration_s: f64,
    pub reservoirs_on: bool,
    pub snapshot_times_s: Vec<f64>,
}

impl Phase {
    /// Exchange for `duration_s` with a snapshot at its end.
    pub fn exchange(duration_s: f64) -> Self {
        Self {
            duration_s,
            reservoirs_on: true,
            snapshot_times_s: vec![duration_s],
        }
    }

    /// Storage (source removed) with snapshots at the given times since removal; lasts until the last.
    pub fn storage(snapshot_times_s: Vec<f64>) -> Self {
        let duration_s = snapshot_times_s.last().copied().unwrap_or(0.0);
        Self {
            duration_s,
            reservoirs_on: false,
            snapshot_times_s,
        }
    }
}

/// Step-size control: every stretch between snapshots is cut into equal steps no longer than `max_dt_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeStepping {
    pub scheme: Scheme,
    pub max_dt_s: f64,
}

/// A field at one time (s since the start of the first phase), with the phase it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub time_s: f64,
    pub phase: usize,
    pub field: Vec<f64>,
}

/// The result of [`DiffusionProblem::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub snapshots: Vec<Snapshot>,
    /// Time steps taken (a Rannacher start-up counts as one).
    pub n_steps: usize,
    /// Numeric factorisations performed.
    pub n_factorisations: usize,
}

/// Tracer diffusion on a microstructure: diffusivities, GB conductance, initial field and reservoirs.
#[derive(Debug, Clone)]
pub struct DiffusionProblem {
    pub micro: Microstructure,
    /// Bulk tracer diffusivity D_bulk (m²/s), used for every grain unless `d_bulk_per_grain` is set.
    pub d_bulk_m2_s: f64,
    /// Optional D_bulk per grain id (m²/s).
    pub d_bulk_per_grain: Option<Vec<f64>>,
    /// GB conductance D_gb/δ (m/s); +∞ means no GB resistance.
    pub gb_conductance_m_s: f64,
    /// Initial concentration per cell.
    pub initial: Vec<f64>,
    pub reservoirs: Vec<Reservoir>,
}

/// K split into its interior part (edges with weights g/h, 1/s) and the reservoir part (diagonal and
/// source vector), so phases switch the reservoirs without re-assembly.
struct Operator {
    edges: Vec<(usize, usize, f64)>,
    interior_diag: Vec<f64>,
    reservoir_diag: Vec<f64>,
    reservoir_source: Vec<f64>,
}

impl Operator {
    fn diag(&self, i: usize, reservoirs_on: bool) -> f64 {
        self.interior_diag[i] + if reservoirs_on { self.reservoir_diag[i] } else { 0.0 }
    }

    /// The rate b − K c, with each interior face flux w (c_j − c_i) computed once and added to one cell and
    /// subtracted from the other, so the fluxes telescope and Σ_i (b − K c)_i carries only round-off.
    fn rate(&self, c: &[f64], reservoirs_on: bool) -> Vec<f64> {
        let mut y = vec![0.0; c.len()];
        if reservoirs_on {
            for (i, yi) in y.iter_mut().enumerate() {
                *yi = self.reservoir_source[i] - self.reservoir_diag[i] * c[i];
            }
        }
        for &(i, j, w) in &self.edges {
            let flux = w * (c[j] - c[i]);
            y[i] += flux;
            y[j] -= flux;
        }
        y
    }

    /// The lower triangle of I·`identity` + a K as triplets, in a fixed order (same pattern for every a).
    fn lower_triplets(&self, identity: f64, a: f64, reservoirs_on: bool) -> Vec<Triplet<usize, usize, f64>> {
        let n = self.interior_diag.len();
        let mut t = Vec::with_capacity(n + self.edges.len());
        for i in 0..n {
            t.push(Triplet::new(i, i, identity + a * self.diag(i, reservoirs_on)));
        }
        for &(i, j, w) in &self.edges {
            t.push(Triplet::new(i.max(j), i.min(j), -a * w));
        }
        t
    }
}

/// Factorisations of I + a K, cached by (a, reservoirs on) and sharing one symbolic analysis.
struct FactorCache {
    symbolic: Option<SymbolicLlt<usize>>,
    entries: Vec<(u64, bool, Llt<usize, f64>)>,
    n_factorisations: usize,
}

impl FactorCache {
    fn new() -> Self {
        Self {
            symbolic: None,
            entries: Vec::new(),
            n_factorisations: 0,
        }
    }

    fn get(&mut self, op: &Operator, a: f64, on: bool) -> Result<&Llt<usize, f64>, SolverError> {
        let key = a.to_bits();
        if let Some(pos) = self.entries.iter().position(|(k, o, _)| *k == key && *o == on) {
            return Ok(&self.entries[pos].2);
        }
        let llt = factorise(op, &mut self.symbolic, 1.0, a, on)?;
        self.n_factorisations += 1;
        self.entries.push((key, on, llt));
        Ok(&self.entries.last().expect("just pushed").2)
    }
}

fn factorise(
    op: &Operator,
    symbolic: &mut Option<SymbolicLlt<usize>>,
    identity: f64,
    a: f64,
    on: bool,
) -> Result<Llt<usize, f64>, SolverError> {
    let n = op.interior_diag.len();
    let mat = SparseColMat::<usize, f64>::try_new_from_triplets(n, n, &op.lower_triplets(identity, a, on))
        .map_err(|e| SolverError::Factorisation(format!("{e:?}")))?;
    if symbolic.is_none() {
        *symbolic = Some(
            SymbolicLlt::try_new(mat.symbolic(), Side::Lower)
                .map_err(|e| SolverError::Factorisation(format!("{e:?}")))?,
        );
    }
    let sym = symbolic.clone().expect("set above");
    Llt::try_new_with_symbolic(sym, mat.as_ref(), Side::Lower).map_err(|e| SolverError::Factorisation(format!("{e:?}")))
}

fn solve(llt: &Llt<usize, f64>, rhs: &mut [f64]) {
    let n = rhs.len();
    llt.solve_in_place(faer::MatMut::from_column_major_slice_mut(rhs, n, 1));
}

fn check_positive(name: &'static str, value: f64) -> Result<(), SolverError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SolverError::InvalidParameter {
            name,
            value,
            expected: "finite and > 0",
        })
    }
}

fn check_finite(name: &'static str, value: f64) -> Result<(), SolverError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SolverError::InvalidParameter {
            name,
            value,
            expected: "finite",
        })
    }
}

/// Equal steps no longer than `max_dt` covering `length` (0 steps for an empty stretch).
fn step_count(length: f64, max_dt: f64) -> usize {
    if length <= 0.0 {
        0
    } else {
        (length / max_dt * (1.0 - 1e-12)).ceil().max(1.0) as usize
    }
}

impl DiffusionProblem {
    /// A problem with one D_bulk, starting from the uniform concentration `c0`.
    pub fn new(micro: Microstructure, d_bulk_m2_s: f64, gb_conductance_m_s: f64, c0: f64) -> Self {
        let initial = vec![c0; micro.n_cells()];
        Self {
            micro,
            d_bulk_m2_s,
            d_bulk_per_grain: None,
            gb_conductance_m_s,
            initial,
            reservoirs: Vec::new(),
        }
    }

    /// Check every parameter; called by [`run`](Self::run) and [`steady_state`](Self::steady_state).
    pub fn validate(&self) -> Result<(), SolverError> {
        check_positive("D_bulk (m^2/s)", self.d_bulk_m2_s)?;
        let k = self.gb_conductance_m_s;
        if k.is_nan() || k < 0.0 {
            return Err(SolverError::InvalidParameter {
                name: "D_gb/delta (m/s)",
                value: k,
                expected: ">= 0",
            });
        }
        if let Some(per_grain) = &self.d_bulk_per_grain {
            let needed = self.micro.grains().iter().copied().max().map_or(0, |g| g as usize + 1);
            if per_grain.len() < needed {
                return Err(SolverError::WrongLength {
                    name: "D_bulk per grain",
                    got: per_grain.len(),
                    expected: needed,
                });
            }
            per_grain
                .iter()
                .try_for_each(|&d| check_positive("D_bulk per grain (m^2/s)", d))?;
        }
        if self.initial.len() != self.micro.n_cells() {
            return Err(SolverError::WrongLength {
                name: "initial field",
                got: self.initial.len(),
                expected: self.micro.n_cells(),
            });
        }
        self.initial
            .iter()
            .try_for_each(|&c| check_finite("initial concentration", c))?;
        for r in &self.reservoirs {
            check_finite("reservoir concentration", r.concentration)?;
            if r.level_m.is_nan() {
                return Err(SolverError::InvalidParameter {
                    name: "liquid level (m)",
                    value: r.level_m,
                    expected: "a number",
                });
            }
        }
        Ok(())
    }

    fn d_bulk(&self, cell: usize) -> f64 {
        match &self.d_bulk_per_grain {
            Some(per_grain) => per_grain[self.micro.grains()[cell] as usize],
            None => self.d_bulk_m2_s,
        }
    }

    /// Face conductance per unit area g (m/s) between neighbouring cells a and b (module doc).
    pub fn face_conductance(&self, a: usize, b: usize) -> f64 {
        let h = self.micro.h();
        if self.micro.is_gb(a, b) {
            1.0 / (0.5 * h / self.d_bulk(a) + 1.0 / self.gb_conductance_m_s + 0.5 * h / self.d_bulk(b))
        } else {
            // harmonic mean of the two half cells; equals D/h inside one grain
            1.0 / (0.5 * h / self.d_bulk(a) + 0.5 * h / self.d_bulk(b))
        }
    }

    fn assemble(&self) -> Operator {
        let n = self.micro.n_cells();
        let h = self.micro.h();
        let mut edges = Vec::with_capacity(3 * n);
        let mut interior_diag = vec![0.0; n];
        for (a, b, _) in self.micro.interior_faces() {
            let w = self.face_conductance(a, b) / h;
            edges.push((a, b, w));
            interior_diag[a] += w;
            interior_diag[b] += w;
        }
        let mut reservoir_diag = vec![0.0; n];
        let mut reservoir_source = vec![0.0; n];
        for r in &self.reservoirs {
            for face in &r.faces {
                for cell in self.cells_on_face(*face, r.level_axis, r.level_m) {
                    let w = 2.0 * self.d_bulk(cell) / (h * h);
                    reservoir_diag[cell] += w;
                    reservoir_source[cell] += w * r.concentration;
                }
            }
        }
        Operator {
            edges,
            interior_diag,
            reservoir_diag,
            reservoir_source,
        }
    }

    /// Cells owning the given outer face whose face centre lies at or below `level` along `level_axis`.
    fn cells_on_face(&self, face: OuterFace, level_axis: Axis, level: f64) -> Vec<usize> {
        let dims = self.micro.dims();
        let h = self.micro.h();
        let a = face.axis.index();
        let layer = match face.end {
            End::Lower => 0,
            End::Upper => dims[a] - 1,
        };
        (0..self.micro.n_cells())
            .filter(|&cell| {
                let c = self.micro.coords(cell);
                if c[a] != layer {
                    return false;
                }
                let l = level_axis.index();
                let coord = if l == a {
                    match face.end {
                        End::Lower => 0.0,
                        End::Upper => dims[a] as f64 * h,
                    }
                } else {
                    (c[l] as f64 + 0.5) * h
                };
                coord <= level
            })
            .collect()
    }

    /// Total amount Σ C_i h³ (concentration × m³) of a field on this grid.
    pub fn amount(&self, field: &[f64]) -> f64 {
        field.iter().sum::<f64>() * self.micro.h().powi(3)
    }

    /// Run the phases in order from `initial`, calling `progress(steps done, steps total)` after each step.
    pub fn run_with_progress(
        &self,
        phases: &[Phase],
        stepping: TimeStepping,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Solution, SolverError> {
        self.validate()?;
        check_positive("max_dt (s)", stepping.max_dt_s)?;
        let plans = phases
            .iter()
            .map(|p| plan_phase(p, stepping.max_dt_s))
            .collect::<Result<Vec<_>, _>>()?;
        let total_steps = plans
            .iter()
            .flatten()
            .try_fold(0usize, |sum, s| sum.checked_add(s.n_steps))
            .filter(|&n| n <= MAX_STEPS)
            .ok_or(SolverError::TooManySteps { limit: MAX_STEPS })?;
        let op = self.assemble();
        let mut cache = FactorCache::new();
        let mut c = self.initial.clone();
        let mut snapshots = Vec::new();
        let mut t0 = 0.0;
        let mut done = 0;
        for (phase_idx, (phase, plan)) in phases.iter().zip(&plans).enumerate() {
            let on = phase.reservoirs_on;
            let mut start_up = stepping.scheme == Scheme::CrankNicolson;
            for seg in plan {
                for _ in 0..seg.n_steps {
                    c = match stepping.scheme {
                        Scheme::BackwardEuler => theta_step(&op, &mut cache, &c, seg.dt, 1.0, on)?,
                        Scheme::CrankNicolson if start_up => {
                            let half = theta_step(&op, &mut cache, &c, seg.dt / 2.0, 1.0, on)?;
                            theta_step(&op, &mut cache, &half, seg.dt / 2.0, 1.0, on)?
                        }
                        Scheme::CrankNicolson => theta_step(&op, &mut cache, &c, seg.dt, 0.5, on)?,
                    };
                    start_up = false;
                    done += 1;
                    progress(done, total_steps);
                }
                if seg.snapshot {
                    snapshots.push(Snapshot {
                        time_s: t0 + seg.end,
                        phase: phase_idx,
                        field: c.clone(),
                    });
                }
            }
            t0 += phase.duration_s;
        }
        Ok(Solution {
            snapshots,
            n_steps: done,
            n_factorisations: cache.n_factorisations,
        })
    }

    /// [`run_with_progress`](Self::run_with_progress) without a progress callback.
    pub fn run(&self, phases: &[Phase], stepping: TimeStepping) -> Result<Solution, SolverError> {
        self.run_with_progress(phases, stepping, &mut |_, _| {})
    }

    /// The steady state K C = b with the reservoirs on (needs at least one reservoir touching every
    /// connected part of the grid, else the factorisation fails).
    pub fn steady_state(&self) -> Result<Vec<f64>, SolverError> {
        self.validate()?;
        let op = self.assemble();
        let llt = factorise(&op, &mut None, 0.0, 1.0, true)?;
        let mut c = op.reservoir_source.clone();
        solve(&llt, &mut c);
        Ok(c)
    }
}

/// One θ-step in increment form: (I + θ Δt K) ΔC = Δt (b − K Cⁿ), Cⁿ⁺¹ = Cⁿ + ΔC. Equivalent to the
/// θ-scheme of the module doc, but the right-hand side is a sum of face fluxes and the solve's round-off
/// scales with |ΔC| rather than |C|, which keeps Σ C conserved to round-off without reservoirs.
fn theta_step(
    op: &Operator,
    cache: &mut FactorCache,
    c: &[f64],
    dt: f64,
    theta: f64,
    on: bool,
) -> Result<Vec<f64>, SolverError> {
    let mut delta: Vec<f64> = op.rate(c, on).into_iter().map(|r| dt * r).collect();
    solve(cache.get(op, theta * dt, on)?, &mut delta);
    Ok(c.iter().zip(&delta).map(|(ci, di)| ci + di).collect())
}

/// A stretch of equal steps inside a phase, ending at `end` (s since the phase start).
struct Segment {
    n_steps: usize,
    dt: f64,
    end: f64,
    snapshot: bool,
}

fn plan_phase(phase: &Phase, max_dt: f64) -> Result<Vec<Segment>, SolverError> {
    let duration = phase.duration_s;
    if !(duration.is_finite() && duration >= 0.0) {
        return Err(SolverError::InvalidParameter {
            name: "phase duration (s)",
            value: duration,
            expected: ">= 0",
        });
    }
    let mut segments = Vec::new();
    let mut t = 0.0;
    for &ts in &phase.snapshot_times_s {
        if !(ts >= t && ts <= duration) {
            return Err(SolverError::BadSnapshotTime { time: ts, duration });
        }
        segments.push(segment(t, ts, max_dt, true));
        t = ts;
    }
    if t < duration {
        segments.push(segment(t, duration, max_dt, false));
    }
    Ok(segments)
}

fn segment(start: f64, end: f64, max_dt: f64, snapshot: bool) -> Segment {
    let n_steps = step_count(end - start, max_dt);
    let dt = if n_steps == 0 {
        0.0
    } else {
        (end - start) / n_steps as f64
    };
    Segment {
        n_steps,
        dt,
        end,
        snapshot,
    }
}

/// Boundary condition of [`simulate_1d`] at x = 0 (the far end, x = n dx, is always no-flux).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Boundary1d {
    NoFlux,
    /// C = C_s on the surface x = 0 (the liquid level of paper 003, eqn (4)).
    FixedSurface {
        c_s: f64,
    },
}

/// Steps per run of [`simulate_1d`] over its longest time (Crank–Nicolson with Rannacher start-up).
pub const SIMULATE_1D_STEPS: usize = 500;

/// 1D diffusion of a profile with one diffusivity D (m²/s): cell i covers [i dx, (i + 1) dx] (m) and its
/// value is that at x = (i + ½) dx. Returns the profile at each of `times` (s, ascending, ≥ 0). Used for
/// the time-evolution fit of paper 003 (storage after exchange: [`Boundary1d::NoFlux`]).
pub fn simulate_1d(
    initial: &[f64],
    dx: f64,
    d: f64,
    times: &[f64],
    bc: Boundary1d,
) -> Result<Vec<Vec<f64>>, SolverError> {
    check_positive("dx (m)", dx)?;
    if initial.is_empty() {
        return Err(SolverError::WrongLength {
            name: "initial profile",
            got: 0,
            expected: 1,
        });
    }
    let micro = Microstructure::uniform([initial.len(), 1, 1], dx).expect("n ≥ 1 and dx > 0 checked above");
    let mut problem = DiffusionProblem::new(micro, d, f64::INFINITY, 0.0);
    problem.initial = initial.to_vec();
    let on = match bc {
        Boundary1d::NoFlux => false,
        Boundary1d::FixedSurface { c_s } => {
            problem.reservoirs.push(Reservoir::whole_face(c_s, Axis::X, End::Lower));
            true
        }
    };
    let t_end = times.last().copied().unwrap_or(0.0);
    let phase = Phase {
        duration_s: t_end,
        reservoirs_on: on,
        snapshot_times_s: times.to_vec(),
    };
    let max_dt = if t_end > 0.0 {
        t_end / SIMULATE_1D_STEPS as f64
    } else {
        1.0
    };
    let solution = problem.run(
        &[phase],
        TimeStepping {
            scheme: Scheme::CrankNicolson,
            max_dt_s: max_dt,
        },
    )?;
    Ok(solution.snapshots.into_iter().map(|s| s.field).collect())
}

/// Effective diffusivity (m²/s) of the microstructure along `axis` from the steady-state flux with
/// C = 1 and C = 0 on the two end faces and no flux on the others: D_eff = J L / ΔC, L = n h. For a
/// layered medium this is the series model, paper 003 eqn (5).
pub fn effective_diffusivity(problem: &DiffusionProblem, axis: Axis) -> Result<f64, SolverError> {
    let mut p = problem.clone();
    p.reservoirs = vec![
        Reservoir::whole_face(1.0, axis, End::Lower),
        Reservoir::whole_face(0.0, axis, End::Upper),
    ];
    let c = p.steady_state()?;
    let h = p.micro.h();
    let dims = p.micro.dims();
    let inlet = p.cells_on_face(OuterFace { axis, end: End::Lower }, axis, f64::INFINITY);
    let flux_total: f64 = inlet.iter().map(|&i| 2.0 * p.d_bulk(i) / h * (1.0 - c[i])).sum();
    let n_inlet = inlet.len() as f64;
    let length = dims[axis.index()] as f64 * h;
    Ok(flux_total / n_inlet * length)
}
