"""Python reference for the MSD benchmark (benches/msd.rs): the same work in vectorised numpy.

MSD over all time origins by the FFT algorithm (Calandrini et al. 2011, the one gbion uses: the squared-
position sums plus one autocorrelation per atom and component from a zero-padded real FFT), for N atoms over
T frames of a 3D Gaussian random walk (0.1 Å per component per frame, as benches/msd.rs), then D from a
least-squares line over lags T/10 .. T/2. Atoms are processed in batches so the FFT buffers stay ~1 GB.
Only the MSD + fit is timed (not the walk generation), as in the Rust benchmark.

    python3 crates/gbion-analysis/benches/msd_reference.py [ATOMS] [FRAMES]     # default 1000 100000

Prints the wall time of the timed part and D in Å²/frame.

End to end from one file (the same file for both programs):

    python3 crates/gbion-analysis/benches/msd_reference.py --write walk.extxyz 1000 5000
    time python3 crates/gbion-analysis/benches/msd_reference.py --read walk.extxyz
    time gbion analyze diffusion walk.extxyz --species Li --dt-fs 1 --temperature 300 --json

`--write` writes the walk wrapped into a 30 Å cubic box as extended XYZ; `--read` reads it with ASE
(ase.io.iread), unwraps by the minimum image between frames and times read + MSD + fit.
"""

import sys
import time

import numpy as np


def msd_fft(positions: np.ndarray, batch: int = 50) -> np.ndarray:
    """positions: (T, N, 3) unwrapped; returns MSD(m) for m = 0..T-1 averaged over atoms."""
    t, n, _ = positions.shape
    size = 1 << (2 * t - 1).bit_length()
    lags = np.arange(t)
    total = np.zeros(t)
    for start in range(0, n, batch):
        x = positions[:, start:start + batch, :].reshape(t, -1)  # (T, B*3)
        x = x - x.mean(axis=0)
        sq = x * x
        # S1(m) = sum_{t=0}^{T-1-m} x²(t+m) + x²(t), built from cumulative sums.
        cum = np.concatenate([np.zeros((1, sq.shape[1])), np.cumsum(sq, axis=0)])
        s1 = (cum[t] - cum[lags]) + cum[t - lags]
        spectrum = np.fft.rfft(x, n=size, axis=0)
        s2 = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:t]
        total += ((s1 - 2.0 * s2) / (t - lags)[:, None]).sum(axis=1)
    return total / n


BOX = 30.0


def write_walk(path: str, atoms: int, frames: int) -> None:
    rng = np.random.default_rng(1)
    current = rng.uniform(0.0, BOX, size=(atoms, 3))
    header = f'{atoms}\nLattice="{BOX} 0 0 0 {BOX} 0 0 0 {BOX}" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
    with open(path, 'w') as out:
        for frame in range(frames):
            if frame:
                current += rng.normal(0.0, 0.1, size=(atoms, 3))
            wrapped = np.mod(current, BOX)
            out.write(header)
            out.write(''.join(f'Li {x:.6f} {y:.6f} {z:.6f}\n' for x, y, z in wrapped))


def read_and_fit(path: str) -> None:
    import ase.io
    start = time.perf_counter()
    frames = [atoms.get_positions() for atoms in ase.io.iread(path, format='extxyz')]
    wrapped = np.array(frames)
    steps = np.diff(wrapped, axis=0)
    steps -= BOX * np.round(steps / BOX)
    positions = np.concatenate([wrapped[:1], wrapped[:1] + np.cumsum(steps, axis=0)])
    read = time.perf_counter() - start
    msd = msd_fft(positions)
    t = len(msd)
    lo, hi = t // 10, t // 2
    slope = np.polyfit(np.arange(lo, hi), msd[lo:hi], 1)[0]
    total = time.perf_counter() - start
    print(f"{path}: {positions.shape[1]} atoms x {t} frames: read {read:.1f} s, total {total:.1f} s; "
          f"D = {slope / 6 * 0.1:.4e} cm²/s at 1 fs per frame")


def main() -> None:
    if sys.argv[1:2] == ['--write']:
        write_walk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    if sys.argv[1:2] == ['--read']:
        read_and_fit(sys.argv[2])
        return
    atoms = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    frames = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = np.random.default_rng(1)
    positions = np.cumsum(rng.normal(0.0, 0.1, size=(frames, atoms, 3)), axis=0)
    start = time.perf_counter()
    msd = msd_fft(positions)
    lo, hi = frames // 10, frames // 2
    slope = np.polyfit(np.arange(lo, hi), msd[lo:hi], 1)[0]
    elapsed = time.perf_counter() - start
    print(f"{atoms} atoms x {frames} frames: MSD + fit {elapsed:.2f} s; D = {slope / 6:.5f} Å²/frame "
          f"(truth {0.1 ** 2 / 2:.5f})")


if __name__ == "__main__":
    main()
