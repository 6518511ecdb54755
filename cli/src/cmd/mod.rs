//! One module per subcommand.

pub mod demo;
pub mod normalize;
pub mod scan;
pub mod sync;
