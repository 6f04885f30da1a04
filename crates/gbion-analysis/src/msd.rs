//! Mean squared displacements over all time origins.
//!
//! [`Trajectory`] collects the unwrapped positions of chosen atoms frame by frame (only what the FFT
//! needs: one position per atom and frame). Positions are unwrapped by LAMMPS image flags (the Int
//! property `image`: r + n·M) when a frame carries them, else by the minimum-image displacement between
//! consecutive frames in the newer frame's cell (any triclinic cell, changing cells included), which is
//! exact while no atom moves more than half the smallest cell width between frames.
//!
//! [`msd_fft`] is the FFT algorithm of Calandrini et al. (nMoldyn 3, Collection SFN 12, 201 (2011),
//! eqs. 30–34): for a series x(0..T),
//! MSD(m) = [Σ_{t=0}^{T−1−m} x²(t+m) + x²(t)] / (T−m) − 2 S_xx(m) / (T−m), with the autocorrelation sum
//! S_xx(m) = Σ_t x(t) x(t+m) from |FFT(x)|² of the zero-padded series. The power spectra of all atoms and
//! components are summed before a single inverse transform. [`msd_direct`] is the O(T²) definition.
//! Units: positions in Å, MSD in Å², lags in frames.

use gbion_atoms::linalg::{Vec3, add, sub};
use gbion_atoms::{Property, Structure};
use rayon::prelude::*;
use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// Why a trajectory or MSD could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MsdError {
    #[error("frame {frame}: {found} atoms, but the first frame had {expected}")]
    AtomCount {
        frame: usize,
        expected: usize,
        found: usize,
    },
    #[error("frame {frame}: atom {atom} is {found}, but was {expected} in the first frame")]
    SpeciesChanged {
        frame: usize,
        atom: usize,
        expected: &'static str,
        found: &'static str,
    },
    #[error("frame {frame}: the `image` property must hold 3 integers per atom")]
    BadImageFlags { frame: usize },
    #[error("frame {frame}: atom {atom} has image flag {flag}, beyond ±2^31 cells")]
    ImageFlagRange { frame: usize, atom: usize, flag: i64 },
    #[error("atom index {index} is out of range ({n_atoms} atoms)")]
    AtomIndex { index: usize, n_atoms: usize },
    #[error("no atoms selected")]
    NoAtoms,
    #[error("component list {0:?} must be a non-empty subset of \"xyz\"")]
    BadComponents(String),
}

/// The Cartesian components a displacement is measured along (d = how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components([bool; 3]);

impl Components {
    /// x, y and z (d = 3).
    pub const XYZ: Components = Components([true; 3]);

    /// Parse a subset of "xyz" such as "xy" (in-plane) or "z" (across).
    pub fn parse(text: &str) -> Result<Components, MsdError> {
        let mut mask = [false; 3];
        for c in text.chars() {
            let axis = "xyz"
                .find(c.to_ascii_lowercase())
                .ok_or(MsdError::BadComponents(text.to_string()))?;
            mask[axis] = true;
        }
        if mask.iter().any(|&m| m) {
            Ok(Components(mask))
        } else {
            Err(MsdError::BadComponents(text.to_string()))
        }
    }

    /// The axes 0, 1, 2 that are included.
    pub fn axes(self) -> impl Iterator<Item = usize> {
        (0..3).filter(move |&a| self.0[a])
    }

    /// The dimensionality d.
    pub fn count(self) -> usize {
        self.axes().count()
    }

    /// Along Cartesian axis `axis` only (d = 1).
    pub fn along(axis: usize) -> Components {
        Components(std::array::from_fn(|k| k == axis))
    }

    /// The two Cartesian axes other than `axis`: motion in the plane normal to it (d = 2).
    pub fn normal_to(axis: usize) -> Components {
        Components(std::array::from_fn(|k| k != axis))
    }

    /// "xyz", "xy", ...
    pub fn name(self) -> String {
        self.axes().map(|a| ['x', 'y', 'z'][a]).collect()
    }
}

/// Frames per storage block of a [`Trajectory`].
const BLOCK_FRAMES: usize = 1024;

/// Unwrapped positions of chosen atoms (Å), stored in blocks of [`BLOCK_FRAMES`] frames, atom-major within
/// a block: the position of `atom` in `frame` is `blocks[frame / B][atom * B + frame % B]`. Frames arrive
/// one at a time, yet each atom's series lies in long contiguous runs, which is how the FFT reads them.
#[derive(Debug, Clone, Default)]
pub struct Trajectory {
    /// Indices of the chosen atoms in each frame.
    atoms: Vec<usize>,
    /// Their elements in the first frame (checked on every frame read with [`Trajectory::push`]).
    symbols: Vec<&'static str>,
    blocks: Vec<Vec<Vec3>>,
    /// Positions as read in the previous frame, for minimum-image unwrapping.
    last_read: Vec<Vec3>,
    volume_sum: f64,
    n_frames: usize,
    n_atoms_in_frame: usize,
}

impl Trajectory {
    /// An empty trajectory of the atoms with these indices.
    pub fn new(atoms: Vec<usize>) -> Trajectory {
        Trajectory {
            atoms,
            ..Default::default()
        }
    }

    /// A trajectory of already unwrapped positions, frame-major (`positions.len()` = frames × `n_atoms`).
    pub fn from_unwrapped(n_atoms: usize, positions: Vec<Vec3>) -> Result<Trajectory, MsdError> {
        if n_atoms == 0 {
            return Err(MsdError::NoAtoms);
        }
        if !positions.len().is_multiple_of(n_atoms) {
            return Err(MsdError::AtomCount {
                frame: positions.len() / n_atoms,
                expected: n_atoms,
                found: positions.len() % n_atoms,
            });
        }
        let mut trajectory = Trajectory {
            atoms: (0..n_atoms).collect(),
            n_atoms_in_frame: n_atoms,
            ..Default::default()
        };
        for frame in positions.chunks_exact(n_atoms) {
            for (k, &r) in frame.iter().enumerate() {
                trajectory.store(k, r);
            }
            trajectory.n_frames += 1;
        }
        Ok(trajectory)
    }

    /// Store the position of chosen atom `k` in the frame being added (frame `n_frames`).
    fn store(&mut self, k: usize, r: Vec3) {
        let (block, offset) = (self.n_frames / BLOCK_FRAMES, self.n_frames % BLOCK_FRAMES);
        if block == self.blocks.len() {
            self.blocks.push(vec![[0.0; 3]; self.atoms.len() * BLOCK_FRAMES]);
        }
        self.blocks[block][k * BLOCK_FRAMES + offset] = r;
    }

    /// Append a frame: pick the chosen atoms, unwrap them (image flags, else minimum image against the
    /// previous frame) and add the cell volume to the running mean.
    pub fn push(&mut self, frame: &Structure) -> Result<(), MsdError> {
        let index = self.n_frames;
        if index == 0 {
            self.start(frame)?;
        } else if frame.len() != self.n_atoms_in_frame {
            return Err(MsdError::AtomCount {
                frame: index,
                expected: self.n_atoms_in_frame,
                found: frame.len(),
            });
        }
        let images = image_flags(frame, index)?;
        for (&atom, &expected) in self.atoms.iter().zip(&self.symbols) {
            let found = frame.elements[atom].symbol();
            if found != expected {
                return Err(MsdError::SpeciesChanged {
                    frame: index,
                    atom,
                    expected,
                    found,
                });
            }
        }
        for k in 0..self.atoms.len() {
            let atom = self.atoms[k];
            let read = frame.positions[atom];
            let unwrapped = match (images, index) {
                (Some(flags), _) => {
                    let n = &flags[3 * atom..3 * atom + 3];
                    add(read, frame.cell.translation([n[0] as i32, n[1] as i32, n[2] as i32]))
                }
                (None, 0) => read,
                (None, _) => {
                    let previous = self.position(index - 1, k);
                    add(previous, frame.cell.minimum_image(sub(read, self.last_read[k])))
                }
            };
            self.last_read[k] = read;
            self.store(k, unwrapped);
        }
        self.volume_sum += frame.cell.volume();
        self.n_frames += 1;
        Ok(())
    }

    fn start(&mut self, frame: &Structure) -> Result<(), MsdError> {
        if self.atoms.is_empty() {
            return Err(MsdError::NoAtoms);
        }
        if let Some(&index) = self.atoms.iter().find(|&&i| i >= frame.len()) {
            return Err(MsdError::AtomIndex {
                index,
                n_atoms: frame.len(),
            });
        }
        self.n_atoms_in_frame = frame.len();
        self.symbols = self.atoms.iter().map(|&i| frame.elements[i].symbol()).collect();
        self.last_read = vec![[0.0; 3]; self.atoms.len()];
        Ok(())
    }

    /// Number of frames read.
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Number of chosen atoms.
    pub fn n_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Indices of the chosen atoms in the frames.
    pub fn atom_indices(&self) -> &[usize] {
        &self.atoms
    }

    /// Mean cell volume over the frames read with [`Trajectory::push`] (Å³; 0 for [`Trajectory::from_unwrapped`]).
    pub fn mean_volume(&self) -> f64 {
        if self.n_frames == 0 {
            0.0
        } else {
            self.volume_sum / self.n_frames as f64
        }
    }

    /// Unwrapped position of chosen atom `atom` (0-based among the chosen) in `frame` (Å).
    pub fn position(&self, frame: usize, atom: usize) -> Vec3 {
        self.blocks[frame / BLOCK_FRAMES][atom * BLOCK_FRAMES + frame % BLOCK_FRAMES]
    }

    /// A one-particle trajectory of Σ_i r_i(t) over `subset` (indices among the chosen atoms): its
    /// displacement is the sum of the atoms' displacements, N times the centre-of-geometry displacement.
    pub fn summed(&self, subset: &[usize]) -> Result<Trajectory, MsdError> {
        self.check_subset(subset)?;
        let positions = (0..self.n_frames)
            .map(|f| subset.iter().fold([0.0; 3], |sum, &a| add(sum, self.position(f, a))))
            .collect();
        Trajectory::from_unwrapped(1, positions)
    }

    /// Errors unless `subset` is a non-empty list of valid chosen-atom indices.
    pub fn check_subset(&self, subset: &[usize]) -> Result<(), MsdError> {
        if subset.is_empty() {
            return Err(MsdError::NoAtoms);
        }
        match subset.iter().find(|&&a| a >= self.n_atoms()) {
            Some(&index) => Err(MsdError::AtomIndex {
                index,
                n_atoms: self.n_atoms(),
            }),
            None => Ok(()),
        }
    }

    /// The component series of `batch` (chosen-atom indices) along `axes`, series after series (atom-major,
    /// then axis), each `n_frames` long, read block by block from contiguous runs.
    fn gather_series(&self, batch: &[usize], axes: &[usize]) -> Vec<f64> {
        let t = self.n_frames;
        let mut out = vec![0.0; batch.len() * axes.len() * t];
        for (j, &atom) in batch.iter().enumerate() {
            for (b, block) in self.blocks.iter().enumerate() {
                let first = b * BLOCK_FRAMES;
                let run = &block[atom * BLOCK_FRAMES..][..BLOCK_FRAMES.min(t - first)];
                for (k, &axis) in axes.iter().enumerate() {
                    let series = &mut out[(j * axes.len() + k) * t + first..][..run.len()];
                    series.iter_mut().zip(run).for_each(|(x, r)| *x = r[axis]);
                }
            }
        }
        out
    }
}

/// The image flags of a frame, if it has them.
fn image_flags(frame: &Structure, index: usize) -> Result<Option<&[i64]>, MsdError> {
    match frame.properties.get("image") {
        None => Ok(None),
        Some(Property::Int { data, columns: 3 }) if data.len() == 3 * frame.len() => {
            // Cell translations take i32 shifts: a flag beyond is no real trajectory, not one to truncate.
            match data.iter().position(|&n| i32::try_from(n).is_err()) {
                Some(k) => Err(MsdError::ImageFlagRange {
                    frame: index,
                    atom: k / 3,
                    flag: data[k],
                }),
                None => Ok(Some(data)),
            }
        }
        Some(_) => Err(MsdError::BadImageFlags { frame: index }),
    }
}

/// An MSD curve averaged over particles and all time origins.
#[derive(Debug, Clone, PartialEq)]
pub struct Msd {
    /// MSD(m) for lags m = 0..T−1 frames (Å²).
    pub values: Vec<f64>,
    /// Number of particles averaged over.
    pub n_particles: usize,
    /// The components measured.
    pub components: Components,
}

/// The smallest 2^a 3^b 5^c ≥ n (sizes rustfft transforms fastest).
fn fast_fft_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p5 = 1;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut size = p35;
            while size < n {
                size *= 2;
            }
            best = best.min(size);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best
}

/// Atoms whose component series are transformed by one rayon task; the batches are handed out one at a
/// time (an idle thread takes the next batch, where rayon's default splitting, a few pieces per thread, would
/// leave it waiting for a thread that the machine slows).
const GATHER_BATCH: usize = 16;

/// MSD over all time origins of `subset` (indices among the chosen atoms) along `components`, averaged
/// over atoms, by FFT (module docs). Batches of atoms run in parallel (rayon); the sums are added in batch
/// order, so the result does not depend on the number of threads.
pub fn msd_fft(trajectory: &Trajectory, subset: &[usize], components: Components) -> Result<Msd, MsdError> {
    trajectory.check_subset(subset)?;
    let t = trajectory.n_frames();
    let n = fast_fft_len(2 * t.max(1));
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let axes: Vec<usize> = components.axes().collect();
    let partials: Vec<SeriesSums> = subset
        .par_chunks(GATHER_BATCH)
        .with_max_len(1)
        .map(|batch| {
            let mut sums = SeriesSums::new(t, forward.complex_len());
            let mut padded = forward.make_input_vec();
            let mut spectrum = forward.make_output_vec();
            let mut scratch = forward.make_scratch_vec();
            for series in trajectory.gather_series(batch, &axes).chunks_exact_mut(t.max(1)) {
                let mean = series.iter().sum::<f64>() / t as f64;
                series.iter_mut().for_each(|v| *v -= mean);
                sums.squares
                    .iter_mut()
                    .zip(series.iter())
                    .for_each(|(s, x)| *s += x * x);
                padded[..t].copy_from_slice(series);
                padded[t..].iter_mut().for_each(|v| *v = 0.0);
                forward
                    .process_with_scratch(&mut padded, &mut spectrum, &mut scratch)
                    .expect("buffer lengths come from the plan");
                sums.power
                    .iter_mut()
                    .zip(&spectrum)
                    .for_each(|(p, c)| *p += c.norm_sqr());
            }
            sums
        })
        .collect();
    let mut total = SeriesSums::new(t, forward.complex_len());
    for partial in &partials {
        total.add(partial);
    }
    let square_sums = lag_square_sums(&total.squares);
    let autocorrelation = inverse_real(&mut planner, n, &total.power);
    let particles = subset.len() as f64;
    // MSD(0) = 0 exactly; the FFT leaves round-off there.
    let values = (0..t)
        .map(|m| match m {
            0 => 0.0,
            _ => ((square_sums[m] - 2.0 * autocorrelation[m]) / ((t - m) as f64 * particles)).max(0.0),
        })
        .collect();
    Ok(Msd {
        values,
        n_particles: subset.len(),
        components,
    })
}

/// Sums over series of x²(t) (per frame t) and of the power spectra.
struct SeriesSums {
    squares: Vec<f64>,
    power: Vec<f64>,
}

impl SeriesSums {
    fn new(frames: usize, spectrum_len: usize) -> SeriesSums {
        SeriesSums {
            squares: vec![0.0; frames],
            power: vec![0.0; spectrum_len],
        }
    }

    fn add(&mut self, other: &SeriesSums) {
        self.squares.iter_mut().zip(&other.squares).for_each(|(a, b)| *a += b);
        self.power.iter_mut().zip(&other.power).for_each(|(a, b)| *a += b);
    }
}

/// Σ_{t=0}^{T−1−m} [x²(t+m) + x²(t)] for every lag m, from the per-frame squares x²(t) (summed over
/// series: the sum is linear in them), by the recursion of Calandrini et al., eq. 34.
fn lag_square_sums(squares: &[f64]) -> Vec<f64> {
    let t = squares.len();
    let mut q = 2.0 * squares.iter().sum::<f64>();
    (0..t)
        .map(|m| {
            if m > 0 {
                q -= squares[m - 1] + squares[t - m];
            }
            q
        })
        .collect()
}

/// The inverse real FFT of a real, even spectrum (a power spectrum), normalised by 1/n.
fn inverse_real(planner: &mut RealFftPlanner<f64>, n: usize, power: &[f64]) -> Vec<f64> {
    let inverse = planner.plan_fft_inverse(n);
    let mut spectrum: Vec<Complex<f64>> = power.iter().map(|&p| Complex::new(p, 0.0)).collect();
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut spectrum, &mut out)
        .expect("a power spectrum is a valid real-signal spectrum");
    out.iter_mut().for_each(|v| *v /= n as f64);
    out
}

/// The squared displacement |Δr|² of chosen atom `atom` over frames `origin` → `origin + lag` along
/// `components` (Å²).
pub fn squared_displacement(
    trajectory: &Trajectory,
    atom: usize,
    origin: usize,
    lag: usize,
    components: Components,
) -> f64 {
    let d = sub(
        trajectory.position(origin + lag, atom),
        trajectory.position(origin, atom),
    );
    components.axes().map(|a| d[a] * d[a]).sum()
}

/// The MSD by its definition, O(T²) per atom: for tests and small systems.
pub fn msd_direct(trajectory: &Trajectory, subset: &[usize], components: Components) -> Result<Msd, MsdError> {
    trajectory.check_subset(subset)?;
    let t = trajectory.n_frames();
    let values = (0..t)
        .map(|lag| {
            let total: f64 = (0..t - lag)
                .flat_map(|origin| subset.iter().map(move |&a| (a, origin)))
                .map(|(a, origin)| squared_displacement(trajectory, a, origin, lag, components))
                .sum();
            total / ((t - lag) * subset.len()) as f64
        })
        .collect();
    Ok(Msd {
        values,
        n_particles: subset.len(),
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_lengths_are_smooth_and_not_smaller() {
        for n in [1, 2, 7, 97, 1000, 200_001] {
            let m = fast_fft_len(n);
            assert!(m >= n && m < 2 * n.max(2));
            let mut r = m;
            for p in [2, 3, 5] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            assert_eq!(r, 1, "{m}");
        }
        assert_eq!(fast_fft_len(1000), 1000);
        assert_eq!(fast_fft_len(97), 100);
    }

    #[test]
    fn components_parse() {
        assert_eq!(Components::parse("xy").unwrap().count(), 2);
        assert_eq!(Components::parse("Z").unwrap().name(), "z");
        assert!(Components::parse("").is_err());
        assert!(Components::parse("xw").is_err());
    }
}
