//! 舆情监测 (public-opinion monitoring). So far: offline sentiment of
//! short Chinese texts ([`sentiment`]) and its evaluation ([`eval`]).

pub mod eval;
mod lexicon;
pub mod sentiment;
