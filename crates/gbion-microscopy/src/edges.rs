//! Ionisation-edge onsets of the elements of Li-ion perovskite electrolytes, and the check that flags an
//! edge window or its pre-edge background window containing the onset of another element's edge (as Li-K
//! under Ta-O2,3 in paper 000, §2.4).
//!
//! Onsets in eV as commonly tabulated (Gatan EELS Atlas values): Li-K 55, Ta-O2,3 ~45 (broad, delayed),
//! Sr-M4,5 133, Zr-M4,5 180, Ti-L3 456 / L2 462, O-K 532, La-M5 832 / M4 849, Ta-M5 1735 / M4 1793,
//! Sr-L3 1940 / L2 2007, Zr-L3 2222 / L2 2307. The table is for flagging, not for quantification.

use serde::Serialize;

/// One tabulated edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Edge {
    pub element: &'static str,
    pub shell: &'static str,
    pub onset_ev: f64,
}

const fn edge(element: &'static str, shell: &'static str, onset_ev: f64) -> Edge {
    Edge {
        element,
        shell,
        onset_ev,
    }
}

/// The tabulated edges, by onset.
pub const EDGES: &[Edge] = &[
    edge("Ta", "O2,3", 45.0),
    edge("Li", "K", 55.0),
    edge("Sr", "M4,5", 133.0),
    edge("Zr", "M4,5", 180.0),
    edge("Ti", "L3", 456.0),
    edge("Ti", "L2", 462.0),
    edge("O", "K", 532.0),
    edge("La", "M5", 832.0),
    edge("La", "M4", 849.0),
    edge("Ta", "M5", 1735.0),
    edge("Ta", "M4", 1793.0),
    edge("Sr", "L3", 1940.0),
    edge("Sr", "L2", 2007.0),
    edge("Zr", "L3", 2222.0),
    edge("Zr", "L2", 2307.0),
];

/// How far below the pre-edge window an onset still counts as overlapping, eV: near-edge structure and
/// delayed maxima (Ta-O2,3 peaks some 10–30 eV above its onset) reach into the windows above.
pub const BELOW_PRE_EDGE_EV: f64 = 50.0;

/// An edge of another element whose onset lies in one of an edge's windows, or up to
/// [`BELOW_PRE_EDGE_EV`] below its pre-edge window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// `"Ta-M4"`.
    pub edge: String,
    pub onset_ev: f64,
    /// `"below pre-edge"`, `"pre-edge"` or `"signal"`.
    pub window: &'static str,
}

/// The edges of elements other than `element` whose onsets fall in the background window `pre`, the
/// signal window `signal` (both in eV), or up to [`BELOW_PRE_EDGE_EV`] below `pre`.
pub fn overlaps(element: &str, pre: (f64, f64), signal: (f64, f64)) -> Vec<Overlap> {
    let inside = |w: (f64, f64), e: f64| w.0 <= e && e <= w.1;
    let mut found = Vec::new();
    for e in EDGES.iter().filter(|e| !e.element.eq_ignore_ascii_case(element)) {
        let below = (pre.0 - BELOW_PRE_EDGE_EV, pre.0 - f64::EPSILON * pre.0.abs());
        for (window, range) in [("below pre-edge", below), ("pre-edge", pre), ("signal", signal)] {
            if inside(range, e.onset_ev) {
                found.push(Overlap {
                    edge: format!("{}-{}", e.element, e.shell),
                    onset_ev: e.onset_ev,
                    window,
                });
            }
        }
    }
    found
}
