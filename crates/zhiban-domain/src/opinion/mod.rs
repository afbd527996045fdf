//! 舆情监测 (public-opinion monitoring): offline sentiment of short
//! Chinese texts ([`sentiment`], evaluated by [`eval`]), topic grouping
//! ([`topics`]), gathering and watching what is said ([`monitor`]: the
//! portal's own sources, watch lists, spike alerts), external RSS/Atom
//! feeds ([`feeds`]) and the figures the monitoring page shows ([`report`]).

pub mod eval;
pub mod feeds;
mod lexicon;
pub mod monitor;
pub mod report;
pub mod sentiment;
pub mod topics;
