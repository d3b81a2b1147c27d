mod cli;
mod eval;
mod evals;
mod openai;
mod policy;
mod snapshots;
mod util;
mod validate;
