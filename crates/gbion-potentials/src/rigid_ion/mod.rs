//! Rigid-ion models: pair terms (Buckingham, Lennard-Jones, Morse) plus Coulomb (Ewald, DSF) (in progress).
