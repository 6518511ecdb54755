//! One module per subcommand.

pub mod check;
pub mod demo;
pub mod import;
pub mod normalize;
pub mod scan;
pub mod status;
pub mod sync;
pub mod verify;
