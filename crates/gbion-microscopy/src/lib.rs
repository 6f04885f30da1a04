//! gbion-microscopy owns the electron-microscopy side of a grain boundary: readers for Gatan DM3/DM4 and
//! plain arrays, core-loss and vibrational EELS (backgrounds, edge windows, maps, GB line profiles) and
//! HAADF intensity profiles and FFT superlattice detection.
