//! Case handling (办件). So far: the working-day calendar that legal and
//! promised time limits are counted in (issue #5 builds applications,
//! workflow and the clocks on top of it).

pub mod calendar;
